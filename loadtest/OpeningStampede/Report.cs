using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace OpeningStampede;

/// <summary>One run's figures (printed, and written as JSON with --out).</summary>
internal sealed class Report
{
    public int People { get; set; }

    public int Instances { get; set; }

    /// <summary>"store": in-process instances shuffle, no polls; "http": real gateways shuffle and answer the pages' polls.</summary>
    public string Mode { get; set; } = "";

    public double LoadSeconds { get; set; }

    /// <summary>When the pre-queue was first seen empty, in seconds after the opening (null: not within the run).</summary>
    public double? PrequeueEmptyAfterSeconds { get; set; }

    /// <summary>Redis CPU (user + system) from just before the opening to the end of the run.</summary>
    public double RedisCpuSeconds { get; set; }

    public double[] GatewayCpuSeconds { get; set; } = [];

    /// <summary>This process: the poll driver (http mode) or the in-process instances and their store calls (store mode).</summary>
    public double ToolCpuSeconds { get; set; }

    public MeasuredCalls? Scripts { get; set; }

    public PollSummary? Polls { get; set; }

    public string ToText()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"pre-queue empty after the opening: {(PrequeueEmptyAfterSeconds is { } s ? s.ToString("F2", c) + " s" : "never")}");
        text.AppendLine(c, $"CPU from the opening to the end: redis {RedisCpuSeconds:F2} s; gateways {string.Join(" + ", GatewayCpuSeconds.Select(g => g.ToString("F2", c)))} s; this tool {ToolCpuSeconds:F2} s");
        if (Scripts is { } scripts)
        {
            text.AppendLine(c, $"EVALSHA (INFO commandstats): {scripts.EvalShaCalls:N0} calls, {scripts.EvalShaSeconds:F2} s inside Redis; slowlog entries {scripts.SlowlogEntries:N0}");
            foreach (var script in scripts.ByScript)
                text.AppendLine(c, $"  {script.Script,-7} calls on the room of 1 ms or more: {script.Calls,8:N0}, {script.TotalMs,9:F1} ms in total, longest {script.MaxMs:F2} ms, median {script.MedianMs:F2} ms, shortest {script.MinMs:F2} ms");
        }
        if (Polls is { } polls)
            text.AppendLine(polls.ToString());
        return text.ToString();
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(Report))]
internal sealed partial class ReportJson : JsonSerializerContext;
