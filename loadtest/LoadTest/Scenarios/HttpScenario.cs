using LoadTest.Engine;

namespace LoadTest.Scenarios;

/// <summary>Scenario <c>http</c>: a plain GET of one URL, for baselines (backend direct, bare YARP, nginx).</summary>
public static class HttpScenario
{
    /// <summary>Step name in reports.</summary>
    public const string StepName = "GET";

    /// <summary>One GET of <paramref name="url"/> per iteration.</summary>
    public static Scenario Create(Uri url, LoadSimulation simulation) => new()
    {
        Name = "http",
        Simulation = simulation,
        Iteration = context => context.SendAsync(StepName, QueueApi.Get(url)),
    };
}
