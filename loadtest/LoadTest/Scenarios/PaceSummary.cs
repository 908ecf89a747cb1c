namespace LoadTest.Scenarios;

/// <summary>One capacity step of a backend-pace run, judged after its transient.</summary>
/// <param name="From">When the step began (s).</param>
/// <param name="To">When the next began, or the run ended (s).</param>
/// <param name="Capacity">What each backend took per second in the step.</param>
/// <param name="OverloadRatio">Settled: the share of requests the backends received that they turned away (503).</param>
/// <param name="Goodput">Settled: requests the backends served per second, per backend, over <paramref name="Capacity"/>.</param>
/// <param name="AdmissionsPerSecond">Settled: users admitted (granted enter) per second.</param>
/// <param name="MeanEffectiveRate">Settled: the room's mean effective refill.</param>
/// <param name="GatewayRejections">Settled: gated calls the gateway answered 503 itself (an open breaker).</param>
/// <param name="GatedCalls">Settled: gated calls made.</param>
/// <param name="RateInBandAfter">Seconds from the step's start until the effective rate first came within [0.85, 1.1] x capacity; null = never.</param>
/// <param name="QuietAfter">Seconds from the step's start after which every 5 s window until its end had under 1% overload; null = never.</param>
public sealed record PacePhase(
    double From,
    double To,
    double Capacity,
    double OverloadRatio,
    double Goodput,
    double AdmissionsPerSecond,
    double MeanEffectiveRate,
    long GatewayRejections,
    long GatedCalls,
    double? RateInBandAfter,
    double? QuietAfter);

/// <summary>What a backend-pace run measured.</summary>
/// <param name="Samples">Every second of the run.</param>
/// <param name="Phases">One per capacity step.</param>
/// <param name="OverloadRatio">All steps, settled: share of the backends' requests they turned away.</param>
/// <param name="Goodput">All steps, settled: served per second per backend over capacity, weighted by time.</param>
/// <param name="Wait">Seconds from join to granted enter of the admitted users.</param>
/// <param name="MissedSamples">Seconds without a sample (a process did not answer the sampler within 2 s).</param>
public sealed record PaceResult(
    BackendPaceOptions Options,
    IReadOnlyList<PaceSample> Samples,
    int MissedSamples,
    IReadOnlyList<PacePhase> Phases,
    double OverloadRatio,
    double Goodput,
    Distribution Wait,
    ClientCounts Totals)
{
    /// <summary>The share of overloaded responses that counts as quiet.</summary>
    public const double QuietRatio = 0.01;

    private const int QuietWindow = 5;

    /// <summary>Judges <paramref name="samples"/> step by step.</summary>
    public static PaceResult From(BackendPaceScenario scenario, IReadOnlyList<PaceSample> samples, int missed)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(samples);
        var options = scenario.Options;
        var end = samples.Count > 0 ? samples[^1].Seconds : options.Duration.TotalSeconds;
        var backends = options.Backends.Count;
        var phases = new List<PacePhase>();
        for (var i = 0; i < options.CapacitySchedule.Count; i++)
        {
            var step = options.CapacitySchedule[i];
            var to = i + 1 < options.CapacitySchedule.Count ? options.CapacitySchedule[i + 1].AtSeconds : end;
            phases.Add(Phase(samples, step.AtSeconds, to, step.PerSecond, options.Transient.TotalSeconds, backends));
        }

        var settled = phases.Where(p => p.To - p.From > options.Transient.TotalSeconds).ToList();
        double requests = 0, rejected = 0, goodputSeconds = 0, seconds = 0;
        foreach (var phase in settled)
        {
            var (r, x, _) = Deltas(samples, phase.From + options.Transient.TotalSeconds, phase.To);
            requests += r;
            rejected += x;
            var length = phase.To - phase.From - options.Transient.TotalSeconds;
            goodputSeconds += phase.Goodput * length;
            seconds += length;
        }

        return new PaceResult(
            options,
            samples,
            missed,
            phases,
            requests > 0 ? rejected / requests : 0,
            seconds > 0 ? goodputSeconds / seconds : 0,
            Distribution.Of(scenario.Waits),
            scenario.Counts);
    }

    private static PacePhase Phase(IReadOnlyList<PaceSample> samples, double from, double to, double capacity, double transient, int backends)
    {
        var settledFrom = Math.Min(to, from + transient);
        var window = Between(samples, settledFrom, to);
        var (requests, rejected, served) = Deltas(samples, settledFrom, to);
        var length = window.Count > 1 ? window[^1].Seconds - window[0].Seconds : 0;
        var first = window.Count > 0 ? window[0] : null;
        var last = window.Count > 0 ? window[^1] : null;
        var rates = window.Where(s => s.EffectiveRate is not null).Select(s => s.EffectiveRate!.Value).ToList();

        double? inBand = samples
            .Where(s => s.Seconds >= from && s.Seconds < to && s.EffectiveRate is { } rate && rate >= 0.85 * capacity && rate <= 1.1 * capacity)
            .Select(s => (double?)Math.Max(0, s.Seconds - from))
            .FirstOrDefault();

        return new PacePhase(
            from,
            to,
            capacity,
            requests > 0 ? (double)rejected / requests : 0,
            length > 0 ? served / length / backends / capacity : 0,
            length > 0 ? (last!.Client.Admitted - first!.Client.Admitted) / length : 0,
            rates.Count > 0 ? rates.Average() : 0,
            last is null ? 0 : last.Client.GatedGateway503 - first!.Client.GatedGateway503,
            last is null ? 0 : Gated(last.Client) - Gated(first!.Client),
            inBand,
            QuietFrom(samples, from, to));
    }

    /// <summary>The first second after which every <see cref="QuietWindow"/>-second window to the end is under <see cref="QuietRatio"/>.</summary>
    private static double? QuietFrom(IReadOnlyList<PaceSample> samples, double from, double to)
    {
        var window = Between(samples, from, to);
        double? quiet = null;
        for (var i = window.Count - 1 - QuietWindow; i >= 0; i--)
        {
            var requests = window[i + QuietWindow].BackendRequests - window[i].BackendRequests;
            var rejected = window[i + QuietWindow].BackendRejected - window[i].BackendRejected;
            if (requests > 0 && (double)rejected / requests >= QuietRatio)
            {
                break;
            }

            quiet = Math.Max(0, window[i].Seconds - from);
        }

        return quiet;
    }

    private static (long Requests, long Rejected, long Served) Deltas(IReadOnlyList<PaceSample> samples, double from, double to)
    {
        var window = Between(samples, from, to);
        return window.Count < 2
            ? (0, 0, 0)
            : (window[^1].BackendRequests - window[0].BackendRequests, window[^1].BackendRejected - window[0].BackendRejected, window[^1].BackendServed - window[0].BackendServed);
    }

    private static List<PaceSample> Between(IReadOnlyList<PaceSample> samples, double from, double to) =>
        samples.Where(s => s.Seconds >= from - 0.5 && s.Seconds <= to + 0.5).ToList();

    private static long Gated(ClientCounts counts) => counts.GatedOk + counts.GatedBackend503 + counts.GatedGateway503 + counts.GatedOther;
}
