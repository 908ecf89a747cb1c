namespace Gateway.Admission.Clients;

/// <summary>Client-chosen text made safe for a log line: bounded length, no control characters.</summary>
internal static class ClientInput
{
    public static string Printable(string? value, int max)
    {
        if (string.IsNullOrEmpty(value))
            return "";
        var span = value.AsSpan(0, Math.Min(value.Length, max));
        return string.Create(span.Length, span.ToString(), static (chars, source) =>
        {
            for (var i = 0; i < chars.Length; i++)
                chars[i] = char.IsControl(source[i]) ? '?' : source[i];
        }) + (value.Length > max ? "..." : "");
    }
}
