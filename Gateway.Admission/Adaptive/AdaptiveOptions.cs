namespace Gateway.Admission.Adaptive;

/// <summary>
/// Adaptive admission of one room, bound from <c>WaitingRoom:Rooms:&lt;eventId&gt;:Adaptive</c>: the backends set
/// the pace. While on, the room admits between <see cref="Floor"/> and its configured (or overridden) rate: it
/// starts at the floor and doubles the rate each period while the clusters its routes forward to cope, lowers it
/// when they answer with overload (5xx, 429) or slowly (multiplicative decrease), then raises it step by step
/// (additive increase); a cluster's open circuit breaker pauses admissions, after which the rate starts again
/// from the floor. Off by default. See docs/ADAPTIVE.md.
/// </summary>
public sealed record AdaptiveOptions
{
    /// <summary>Turns adaptive admission on for the room. Turning it off clears the adaptive rate from the store.</summary>
    public bool Enabled { get; init; }

    /// <summary>The lowest rate adaptation sets (admissions per second): where it starts, and where it resumes after a breaker opened.</summary>
    public double Floor { get; init; } = 1;

    /// <summary>
    /// Admissions per second added per <see cref="ControlPeriod"/> while the backends cope, once past the slow start
    /// (additive increase); each increase in a row adds twice the last (up to 4 steps), and a decrease starts again
    /// from one step. Small steps probe the backends' capacity gently: a step of 2% of it costs at most ~2% of one
    /// period's calls when it finds the limit.
    /// </summary>
    public double IncreaseStep { get; init; } = 1;

    /// <summary>
    /// The margin a decrease leaves below what the backends took: when they turned away a share of the attempts the
    /// rate becomes the rate times the share they took times this; when they answered slowly, the rate times this
    /// (multiplicative decrease). Between 0 and 1; it is also how far below the rate a pause interrupted the room
    /// grows back quickly.
    /// </summary>
    public double DecreaseFactor { get; init; } = 0.9;

    /// <summary>Backends answering slower than this for more than 10% of responses (p90 above it) count as overloaded.</summary>
    public TimeSpan TargetLatency { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The share of overload responses (5xx, 429, no response) above which a cluster counts as overloaded.</summary>
    public double ErrorRatio { get; init; } = 0.02;

    /// <summary>
    /// The control period: at most one increase per period and one decrease per two periods across all instances;
    /// each verdict judges half a period of traffic, starting half a period after the last change (so traffic from users
    /// admitted before it does not count). Choose at least twice the time from admission to the backend calls.
    /// </summary>
    public TimeSpan ControlPeriod { get; init; } = TimeSpan.FromSeconds(5);
}
