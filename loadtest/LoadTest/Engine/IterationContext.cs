using System.Diagnostics;
using System.Net.Sockets;

namespace LoadTest.Engine;

/// <summary>
/// One running iteration. Its steps are HTTP exchanges sent through <see cref="SendAsync"/>, which
/// times and records them; steps of one iteration run one after another.
/// </summary>
public sealed class IterationContext
{
    private readonly ScenarioRun _run;
    private long? _scheduledTimestamp;

    internal IterationContext(ScenarioRun run, long number, long? scheduledTimestamp, CancellationToken cancellationToken)
    {
        _run = run;
        Number = number;
        _scheduledTimestamp = scheduledTimestamp;
        StartTimestamp = scheduledTimestamp ?? Stopwatch.GetTimestamp();
        CancellationToken = cancellationToken;
    }

    /// <summary>0-based iteration number, unique within the run.</summary>
    public long Number { get; }

    /// <summary>When the iteration was due (open model) or began (closed model), as a <see cref="Stopwatch"/> timestamp.</summary>
    public long StartTimestamp { get; }

    /// <summary>Cancelled when the run stops; pass it to any waiting the iteration does between steps.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// Sends <paramref name="request"/> (disposing it) as step <paramref name="step"/> and records its latency and outcome.
    /// The first step of an open-model iteration is timed from the iteration's scheduled start, not from
    /// the actual send: that is what corrects coordinated omission.
    /// </summary>
    /// <param name="step">Step name for the report.</param>
    /// <param name="request">The request; the step owns and disposes it.</param>
    /// <param name="readBody">Return the body in <see cref="StepResult.Body"/>; otherwise it is read and discarded.</param>
    /// <param name="isExpectedStatus">
    /// Whether a status of 400 or more is a normal answer for this step (for example 403 NOT_READY on enter).
    /// Null means every status of 400 or more is an error.
    /// </param>
    /// <exception cref="OperationCanceledException">The run stopped while the step was in flight.</exception>
    public async Task<StepResult> SendAsync(string step, HttpRequestMessage request, bool readBody = false, Func<int, bool>? isExpectedStatus = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var start = _scheduledTimestamp ?? Stopwatch.GetTimestamp();
        _scheduledTimestamp = null;

        int? status = null;
        ErrorKind? error;
        string? detail = null;
        byte[] body = [];
        using (request)
        {
            var timeout = _run.Timeouts.Current();
            try
            {
                using var response = await _run.SendAsync(request, timeout);
                status = (int)response.StatusCode;
                if (readBody)
                {
                    body = await response.Content.ReadAsByteArrayAsync(timeout);
                }
                else
                {
                    // The latency includes the whole body, as a client sees it.
                    await response.Content.CopyToAsync(Stream.Null, timeout);
                }

                error = status >= 500 ? ErrorKind.Http5xx
                    : status >= 400 && isExpectedStatus?.Invoke(status.Value) != true ? ErrorKind.Http4xx
                    : null;
            }
            catch (OperationCanceledException) when (!CancellationToken.IsCancellationRequested)
            {
                error = ErrorKind.Timeout;
            }
            catch (HttpRequestException exception)
            {
                error = exception.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused }
                    ? ErrorKind.ConnectionRefused
                    : ErrorKind.ConnectionError;
                detail = Describe(exception);
            }
            catch (IOException exception)
            {
                error = ErrorKind.ConnectionError;
                detail = Describe(exception);
            }
        }

        var elapsed = Stopwatch.GetTimestamp() - start;
        _run.Metrics.RecordStep(step, Label(status, error), error, elapsed, detail);
        return new StepResult(status, error, body, Stopwatch.GetElapsedTime(start, start + elapsed));
    }

    private static string Describe(Exception exception) =>
        exception.InnerException is { } inner ? $"{exception.Message} ({inner.Message})" : exception.Message;

    private static string Label(int? status, ErrorKind? error) => error switch
    {
        ErrorKind.Timeout => "timeout",
        ErrorKind.ConnectionRefused => "connection refused",
        ErrorKind.ConnectionError => "connection error",
        _ => status is { } code ? StatusLabels.For(code) : "none",
    };

    // The status as text without a new string per request.
    private static class StatusLabels
    {
        private static readonly string[] Common = Enumerable.Range(0, 600).Select(code => code.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

        public static string For(int code) =>
            (uint)code < (uint)Common.Length ? Common[code] : code.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
