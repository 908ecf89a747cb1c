using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Diagnostics;

/// <summary>
/// One JSON object per log line, with the trace and span ids of the current span at the top level so a log
/// store can jump from a line to its trace (and back) without digging through scopes:
/// <code>{"Timestamp":"2026-03-01T12:00:00.000Z","LogLevel":"Information","Category":"...","EventId":11,
/// "Message":"Admitted to room concert after waiting 33.0s","TraceId":"0af7...","SpanId":"b7ad...",
/// "State":{"Room":"concert","WaitSeconds":33},"Scope":{"RequestPath":"/api/v1/queue/enter",...}}</code>
/// Selected with <c>Logging:Console:FormatterName</c> = <c>gateway-json</c> (the default in appsettings.json).
/// </summary>
internal sealed class JsonLogFormatter : ConsoleFormatter, IDisposable
{
    public const string FormatterName = "gateway-json";

    // The trace context is written at the top level; repeating it in the scope object would add nothing.
    private static readonly HashSet<string> TraceScopeKeys = ["TraceId", "SpanId", "ParentId", "{OriginalFormat}"];

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly IDisposable? _subscription;
    private JsonLogFormatterOptions _options;

    public JsonLogFormatter(IOptionsMonitor<JsonLogFormatterOptions> options) : base(FormatterName)
    {
        _options = options.CurrentValue;
        _subscription = options.OnChange(o => _options = o);
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (logEntry.Exception is null && message is null)
            return;

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("Timestamp", DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("LogLevel", logEntry.LogLevel.ToString());
            json.WriteString("Category", logEntry.Category);
            json.WriteNumber("EventId", logEntry.EventId.Id);
            json.WriteString("Message", message);
            if (Activity.Current is { } activity)
            {
                json.WriteString("TraceId", activity.TraceId.ToHexString());
                json.WriteString("SpanId", activity.SpanId.ToHexString());
            }
            if (logEntry.Exception is { } exception)
                json.WriteString("Exception", exception.ToString());
            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> state && state.Count > 0)
            {
                json.WriteStartObject("State");
                foreach (var (key, value) in state)
                    WriteValue(json, key, value);
                json.WriteEndObject();
            }
            if (_options.IncludeScopes && scopeProvider is not null)
                WriteScopes(json, scopeProvider);
            json.WriteEndObject();
        }
        textWriter.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        textWriter.Write(Environment.NewLine);
    }

    public void Dispose() => _subscription?.Dispose();

    private static void WriteScopes(Utf8JsonWriter json, IExternalScopeProvider scopeProvider)
    {
        var started = false;
        scopeProvider.ForEachScope((scope, writer) =>
        {
            if (scope is not IEnumerable<KeyValuePair<string, object?>> values)
                return;
            foreach (var (key, value) in values)
            {
                if (TraceScopeKeys.Contains(key))
                    continue;
                if (!started)
                {
                    writer.WriteStartObject("Scope");
                    started = true;
                }
                WriteValue(writer, key, value);
            }
        }, json);
        if (started)
            json.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter json, string key, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(key);
                break;
            case bool b:
                json.WriteBoolean(key, b);
                break;
            case int or long or short or byte or uint or ulong or ushort or sbyte:
                json.WriteNumber(key, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case double d when double.IsFinite(d):
                json.WriteNumber(key, d);
                break;
            case float f when float.IsFinite(f):
                json.WriteNumber(key, f);
                break;
            case decimal m:
                json.WriteNumber(key, m);
                break;
            default:
                json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}

/// <summary>Options of <see cref="JsonLogFormatter"/>, bound from <c>Logging:Console:FormatterOptions</c> (IncludeScopes).</summary>
internal sealed class JsonLogFormatterOptions : ConsoleFormatterOptions;
