using Gateway.SampleBackends;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Proxy;

/// <summary>Bad configuration fails start-up with a message an operator can act on; nothing falls back silently.</summary>
public sealed class StartupValidationTests : IAsyncLifetime
{
    private SampleBackendsApp _backends = null!;

    public async Task InitializeAsync() =>
        _backends = await SampleBackendsApp.StartAsync(new SampleBackendsOptions { ReservationPort = 0, InventoryPort = 0, PaymentPort = 0 });

    public async Task DisposeAsync() => await _backends.DisposeAsync();

    [Fact]
    public async Task ClusterWithoutDestinations_FailsStartup_NamingTheCluster()
    {
        var settings = TestConfig.Gateway(_backends);
        settings.Remove("ReverseProxy:Clusters:payment:Destinations:payment-1:Address");
        settings["ReverseProxy:Clusters:payment:LoadBalancingPolicy"] = "RoundRobin";

        var error = await Assert.ThrowsAnyAsync<Exception>(() => GatewayHost.StartAsync(null, settings));

        Assert.Contains("ReverseProxy:Clusters:payment has no destinations", Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RouteNamingAMissingCluster_FailsStartup_NamingTheRouteAndTheCluster()
    {
        var settings = TestConfig.Gateway(_backends);
        settings["ReverseProxy:Routes:payment:ClusterId"] = "paymnet";

        var error = await Assert.ThrowsAnyAsync<Exception>(() => GatewayHost.StartAsync(null, settings));

        Assert.Contains("ReverseProxy:Routes:payment:ClusterId 'paymnet' names no cluster", Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonPositiveCapacity_FailsStartup_WithKeyAndExample()
    {
        var settings = TestConfig.Gateway(_backends);
        settings["WaitingRoom:Rooms:concert:Capacity"] = "0";

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(null, settings));

        Assert.Contains("WaitingRoom:Rooms:concert:Capacity is 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("e.g. 100", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidAdaptiveSettings_FailStartup_WithKeyAndExample()
    {
        var settings = TestConfig.Gateway(_backends);
        settings["WaitingRoom:Rooms:concert:Adaptive:Enabled"] = "true";
        settings["WaitingRoom:Rooms:concert:Adaptive:Floor"] = "50"; // above the room's 10/s
        settings["WaitingRoom:Rooms:concert:Adaptive:DecreaseFactor"] = "1.5";
        settings["WaitingRoom:Rooms:concert:Adaptive:ControlPeriod"] = "00:00:00.2";

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(null, settings));

        Assert.Contains("WaitingRoom:Rooms:concert:Adaptive:Floor is 50", error.Message, StringComparison.Ordinal);
        Assert.Contains("WaitingRoom:Rooms:concert:Adaptive:DecreaseFactor is 1.5", error.Message, StringComparison.Ordinal);
        Assert.Contains("WaitingRoom:Rooms:concert:Adaptive:ControlPeriod is 00:00:00.2000000", error.Message, StringComparison.Ordinal);
        Assert.Contains("(e.g. 0.9)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProductionWithoutSigningKey_RefusesToStart()
    {
        var settings = TestConfig.Gateway(_backends);
        settings.Remove("WaitingRoom:SigningKeys:0:Id");
        settings.Remove("WaitingRoom:SigningKeys:0:Secret");

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(null, settings, environment: "Production"));

        Assert.Contains("WaitingRoom:SigningKeys", error.Message, StringComparison.Ordinal);
        Assert.Contains("openssl rand -base64 32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShortSigningSecret_FailsStartup()
    {
        var settings = TestConfig.Gateway(_backends);
        settings["WaitingRoom:SigningKeys:0:Secret"] = Convert.ToBase64String(new byte[16]);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(null, settings, environment: "Production"));

        Assert.Contains("WaitingRoom:SigningKeys:0:Secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RouteGatedByUnknownRoom_FailsStartup()
    {
        var settings = TestConfig.Gateway(_backends);
        settings["ReverseProxy:Routes:inventory:Metadata:WaitingRoom"] = "typo";

        var error = await Assert.ThrowsAnyAsync<Exception>(() => GatewayHost.StartAsync(null, settings));

        Assert.Contains("names room 'typo'", Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_WithValidConfig_Starts()
    {
        await using var gateway = await GatewayHost.StartAsync(null, TestConfig.Gateway(_backends), environment: "Production");
        using var client = gateway.CreateClient();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }

    private static string Flatten(Exception error) =>
        error is AggregateException aggregate ? string.Join(" | ", aggregate.Flatten().InnerExceptions.Select(Flatten)) : error.Message + (error.InnerException is null ? "" : " | " + Flatten(error.InnerException));
}
