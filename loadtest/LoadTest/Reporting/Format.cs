using System.Globalization;
using System.Text;

namespace LoadTest.Reporting;

/// <summary>Number formatting and Markdown tables shared by the report writers. Always invariant culture.</summary>
internal static class Format
{
    public static string Ms(double milliseconds) => milliseconds.ToString(
        milliseconds < 10 ? "0.###" : milliseconds < 1000 ? "0.#" : "0", CultureInfo.InvariantCulture);

    public static string Number(double value, string format = "0.##") => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Percent(double ratio) => ratio.ToString("0.#%", CultureInfo.InvariantCulture);

    public static void Table(StringBuilder markdown, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        markdown.Append("| ").AppendJoin(" | ", headers).AppendLine(" |");
        markdown.Append('|').AppendJoin("|", headers.Select(_ => "---")).AppendLine("|");
        foreach (var row in rows)
        {
            markdown.Append("| ").AppendJoin(" | ", row.Select(cell => cell.Replace("|", "\\|", StringComparison.Ordinal))).AppendLine(" |");
        }

        markdown.AppendLine();
    }

    public static string Csv(string cell) =>
        cell.AsSpan().IndexOfAny(",\"\n") >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;
}
