using static System.FormattableString;

namespace LoadTest.Engine;

/// <summary>How iterations of a <see cref="Scenario"/> are started over time.</summary>
public abstract record LoadSimulation
{
    private protected LoadSimulation()
    {
    }

    /// <summary>How long new iterations are started. In-flight ones may finish after it (see <see cref="Scenario.DrainTimeout"/>).</summary>
    public abstract TimeSpan Duration { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> when a value is outside <see cref="LoadLimits"/>.</summary>
    public virtual void Validate()
    {
        if (Duration <= TimeSpan.Zero || Duration > LoadLimits.MaxDuration)
        {
            throw new ArgumentException(Invariant($"duration must be in (0, {LoadLimits.MaxDuration.TotalSeconds}] s, got {Duration.TotalSeconds} s"));
        }
    }

    /// <summary>One-line description for reports.</summary>
    public abstract string Describe();

    private protected static void ValidateRate(string name, double rate, bool allowZero)
    {
        if (double.IsNaN(rate) || rate < 0 || (!allowZero && rate == 0) || rate > LoadLimits.MaxRate)
        {
            throw new ArgumentException(Invariant($"{name} must be in {(allowZero ? "[" : "(")}0, {LoadLimits.MaxRate}] per second, got {rate}"));
        }
    }
}

/// <summary>
/// Open model: iterations arrive on a schedule whatever the target does, like independent users do.
/// Each iteration's first request is timed from its scheduled start, so a stalled target shows up
/// in the latency instead of silently lowering the send rate (coordinated omission, as corrected by wrk2).
/// </summary>
public abstract record OpenModelSimulation : LoadSimulation
{
    private protected OpenModelSimulation()
    {
    }

    /// <summary>Seconds after the start at which iteration <paramref name="n"/> (0-based) is due.</summary>
    public abstract double ArrivalSeconds(long n);

    /// <summary>Target arrival rate, per second, at <paramref name="elapsedSeconds"/>.</summary>
    public abstract double RateAt(double elapsedSeconds);
}

/// <summary>Constant arrival rate for the whole duration.</summary>
/// <param name="RatePerSecond">Iterations started per second.</param>
/// <param name="Duration">How long to keep starting them.</param>
public sealed record ConstantRate(double RatePerSecond, TimeSpan Duration) : OpenModelSimulation
{
    /// <inheritdoc />
    public override double ArrivalSeconds(long n) => n / RatePerSecond;

    /// <inheritdoc />
    public override double RateAt(double elapsedSeconds) => RatePerSecond;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        ValidateRate("rate", RatePerSecond, allowZero: false);
    }

    /// <inheritdoc />
    public override string Describe() => Invariant($"open model, constant {RatePerSecond:0.##}/s for {Duration.TotalSeconds:0.#} s");
}

/// <summary>Arrival rate changing linearly from <paramref name="FromRate"/> to <paramref name="ToRate"/>.</summary>
/// <param name="FromRate">Rate per second at the start.</param>
/// <param name="ToRate">Rate per second at the end.</param>
/// <param name="Duration">Length of the ramp.</param>
public sealed record RampingRate(double FromRate, double ToRate, TimeSpan Duration) : OpenModelSimulation
{
    /// <inheritdoc />
    public override double ArrivalSeconds(long n)
    {
        // Arrivals by time t: N(t) = r0 t + a t^2 / 2 with a = (r1 - r0) / D; solve N(t) = n for t.
        var slope = (ToRate - FromRate) / Duration.TotalSeconds;
        if (Math.Abs(slope) < 1e-12)
        {
            return n / FromRate;
        }

        var discriminant = (FromRate * FromRate) + (2 * slope * n);
        return discriminant < 0 ? double.PositiveInfinity : (Math.Sqrt(discriminant) - FromRate) / slope;
    }

    /// <inheritdoc />
    public override double RateAt(double elapsedSeconds) =>
        FromRate + ((ToRate - FromRate) * Math.Clamp(elapsedSeconds / Duration.TotalSeconds, 0, 1));

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        ValidateRate("ramp start rate", FromRate, allowZero: true);
        ValidateRate("ramp end rate", ToRate, allowZero: true);
        if (FromRate == 0 && ToRate == 0)
        {
            throw new ArgumentException("a ramp needs a non-zero start or end rate");
        }
    }

    /// <inheritdoc />
    public override string Describe() =>
        Invariant($"open model, ramping {FromRate:0.##}/s -> {ToRate:0.##}/s over {Duration.TotalSeconds:0.#} s");
}

/// <summary>
/// Closed model: a fixed number of virtual users, each starting its next iteration as soon as the
/// previous one ends. The rate is whatever the target allows; latency is timed from each actual send.
/// </summary>
/// <param name="Concurrency">Number of virtual users.</param>
/// <param name="Duration">How long they keep iterating.</param>
public sealed record ClosedModel(int Concurrency, TimeSpan Duration) : LoadSimulation
{
    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (Concurrency < 1 || Concurrency > LoadLimits.MaxConcurrency)
        {
            throw new ArgumentException(Invariant($"concurrency must be in [1, {LoadLimits.MaxConcurrency}], got {Concurrency}"));
        }
    }

    /// <inheritdoc />
    public override string Describe() => Invariant($"closed model, {Concurrency} concurrent users for {Duration.TotalSeconds:0.#} s");
}
