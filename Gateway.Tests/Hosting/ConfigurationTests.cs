using System.Net;
using System.Text.Json.Nodes;
using Gateway.Proxy.Configuration;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Gateway.Tests.Hosting;

/// <summary>
/// A configuration mistake on the day of the sale must not stop anything: an invalid edit of any section is
/// rejected with a log line naming the key, the last good values stay in force, and the gateway keeps serving.
/// Routes and rooms edited in a Kubernetes ConfigMap apply without a restart.
/// </summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("WaitingRoom:Rooms:{room}:Capacity", "0", "WaitingRoom:Rooms:{room}:Capacity is 0")]
    [InlineData("WaitingRoom:Rooms:{room}:RefillPerSecond", "-1", "WaitingRoom:Rooms:{room}:RefillPerSecond is -1")]
    [InlineData("WaitingRoom:MaintenanceInterval", "00:10:00", "WaitingRoom:MaintenanceInterval is 00:10:00")]
    [InlineData("WaitingRoom:Rooms:{room}:Capacity", "lots", "WaitingRoom:Rooms:{room}:Capacity")]
    [InlineData("WaitingRoom:Page:PrimaryColor", "blue", "WaitingRoom:Page:PrimaryColor is 'blue'")]
    [InlineData("Forwarding:MaxConnectionsPerServer", "0", "Forwarding:MaxConnectionsPerServer is 0")]
    [InlineData("ReverseProxy:Routes:inventory:Metadata:WaitingRoom", "typo", "ReverseProxy:Routes:inventory:Metadata:WaitingRoom names room 'typo'")]
    public async Task InvalidEdit_OnReload_IsRejectedNamingTheKey_TheLastGoodStays_AndTheGatewayKeepsServing(string key, string value, string logged)
    {
        var logs = new CapturedLogs();
        await using var bed = await GatewayTestBed.StartAsync(null, capacity: 3, refill: 0.001, host: b => b.Logging.AddProvider(logs));
        key = key.Replace("{room}", bed.Room, StringComparison.Ordinal);
        logged = logged.Replace("{room}", bed.Room, StringComparison.Ordinal);

        bed.Settings[key] = value;
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        try
        {
            await logs.WaitForAsync(e => e.Level == LogLevel.Error && e.Message.Contains(logged, StringComparison.Ordinal), "the rejection names the key");
        }
        catch (Xunit.Sdk.FailException)
        {
            Assert.Fail("not logged; warnings and errors were:\n" + string.Join("\n", logs.Entries.Where(e => e.Level >= LogLevel.Warning).Select(e => e.Category + ": " + e.Message)));
        }

        // Still serving, on the last good configuration: a burst of 3 is still 3 (three join ready at once).
        var states = new List<string>();
        for (var i = 0; i < 4; i++)
            states.Add((await bed.Client.JoinAsync(bed.Room, $"u{i}")).Body["status"]!.GetValue<string>());
        Assert.Equal(["ready", "ready", "ready", "waiting"], states);
        Assert.Equal(HttpStatusCode.OK, (await bed.Client.Http.GetAsync("/readyz")).StatusCode);

        // And a good edit afterwards applies.
        bed.Settings.Remove(key);
        bed.Settings[$"WaitingRoom:Rooms:{bed.Room}:RefillPerSecond"] = "1000";
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        var last = (await bed.Client.JoinAsync(bed.Room, "u3")).Body["waiting_token"]!.GetValue<string>();
        await Eventually.TrueAsync(async () => (await bed.Client.StatusAsync(last)).Body["status"]!.GetValue<string>() == "ready", because: "the faster rate");
    }

    [Fact]
    public void LaunchProfile_NeverDefaultsToDevelopment()
    {
        var profile = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "Gateway.Proxy", "Properties", "launchSettings.json")))!;

        Assert.DoesNotContain("Development", profile.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmbeddedStore_RefusesClientsWithoutItsPassword()
    {
        var logs = new CapturedLogs();
        await using var bed = await GatewayTestBed.StartAsync(null, host: b => b.Logging.AddProvider(logs));
        var started = logs.Entries.First(e => e.EventId.Id == 1 && e.Message.StartsWith("Embedded store started", StringComparison.Ordinal));
        var port = int.Parse(System.Text.RegularExpressions.Regex.Match(started.Message, @"127\.0\.0\.1:(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        await stream.WriteAsync("*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n"u8.ToArray());
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer);
        var answer = System.Text.Encoding.ASCII.GetString(buffer, 0, read);

        Assert.StartsWith("-NOAUTH", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigMapMountedByTheKubelet_ASymlinkSwap_AppliesTheNewRouteLive()
    {
        await using var backends = await Gateway.SampleBackends.SampleBackendsApp.StartAsync(new Gateway.SampleBackends.SampleBackendsOptions { ReservationPort = 0, InventoryPort = 0, PaymentPort = 0 });
        var settings = TestConfig.Gateway(backends, gated: false);
        var (mount, gateway) = await StartOnConfigMapAsync(settings);
        await using var _ = gateway;
        using var client = gateway.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/shop/inventory")).StatusCode);

        settings["ReverseProxy:Routes:shop:ClusterId"] = "inventory";
        settings["ReverseProxy:Routes:shop:Match:Path"] = "/shop/{**rest}";
        settings["ReverseProxy:Routes:shop:Transforms:0:PathPattern"] = "/api/{**rest}";
        Publish(mount, "..2026_12_01_10_05_00.000000002", settings);

        await Eventually.TrueAsync(async () => (await client.GetAsync("/shop/inventory")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the swapped ConfigMap's new route serves");
        Directory.Delete(mount, recursive: true);
    }

    [Theory]
    [InlineData("unparsable", "cannot be used")]
    [InlineData("deleted", "the file is missing")]
    public async Task BrokenOrMissingFile_OnReload_KeepsTheLastGoodFile_IsLogged_AndAGoodSaveApplies(string how, string logged)
    {
        var logs = new CapturedLogs();
        await using var bed = await GatewayTestBed.StartAsync(null, capacity: 3, refill: 0.001, host: b => b.Logging.AddProvider(logs));

        // A stray comma, or no file at all (an editor's save by rename caught half-way, a ConfigMap key removed): the
        // framework's provider would read an empty file and, at the next reload of anything, every room and route in it
        // would be gone.
        if (how == "deleted")
            File.Delete(bed.Gateway.ConfigPath);
        else
            await File.WriteAllTextAsync(bed.Gateway.ConfigPath, TestConfig.ToJson(bed.Settings).Replace("{", "{,", StringComparison.Ordinal));
        await logs.WaitForAsync(e => e.Level == LogLevel.Error && e.EventId.Id == 103 && e.Message.Contains(logged, StringComparison.Ordinal), "the refused edit is reported");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // any reload the edit caused has run

        var states = new List<string>();
        for (var i = 0; i < 4; i++)
            states.Add((await bed.Client.JoinAsync(bed.Room, $"u{i}")).Body["status"]!.GetValue<string>());
        Assert.Equal(["ready", "ready", "ready", "waiting"], states);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await bed.Client.Http.GetAsync("/api/inventory")).StatusCode); // the gated route is still there
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("0 rooms", StringComparison.Ordinal) || e.Message.Contains("applied: 0 routes", StringComparison.Ordinal));

        bed.Settings[$"WaitingRoom:Rooms:{bed.Room}:RefillPerSecond"] = "1000";
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        var last = (await bed.Client.JoinAsync(bed.Room, "u3")).Body["waiting_token"]!.GetValue<string>();
        await Eventually.TrueAsync(async () => (await bed.Client.StatusAsync(last)).Body["status"]!.GetValue<string>() == "ready", because: "the good save after it applies");
    }

    [Fact]
    public async Task OptionalFile_AbsentAtStart_ThenBroken_IsRefused_ThenAGoodVersionApplies()
    {
        var directory = Directory.CreateTempSubdirectory("wr-optional-").FullName;
        var path = Path.Combine(directory, "appsettings.Production.json");
        try
        {
            var builder = new ConfigurationBuilder().AddJsonFile(path, optional: true, reloadOnChange: true);
            LastGoodJsonFiles.Apply(builder);
            var configuration = builder.Build();
            var provider = Assert.Single(configuration.Providers.OfType<LastGoodJsonFiles.Provider>());
            var refused = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            provider.Rejected += (_, error) => refused.TrySetResult(error);
            Assert.Null(configuration["WaitingRoom:Rooms:late:Capacity"]);

            // The framework would throw from its reload (or read the file as empty); its first version must parse like any other.
            await File.WriteAllTextAsync(path, """{"WaitingRoom": {"Rooms": {"late": {"Capacity": 7,}}""");
            await refused.Task.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Null(configuration["WaitingRoom:Rooms:late:Capacity"]);

            var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var subscription = ChangeToken.OnChange(configuration.GetReloadToken, () =>
            {
                if (configuration["WaitingRoom:Rooms:late:Capacity"] == "7")
                    applied.TrySetResult();
            });
            await File.WriteAllTextAsync(path, """{"WaitingRoom": {"Rooms": {"late": {"Capacity": 7}}}}""");
            await applied.Task.WaitAsync(TimeSpan.FromSeconds(20));
            (configuration as IDisposable)?.Dispose();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task ConfigMap_ARoomAddedWithItsRoute_AppliesOnThatEdit()
    {
        await using var backends = await Gateway.SampleBackends.SampleBackendsApp.StartAsync(new Gateway.SampleBackends.SampleBackendsOptions { ReservationPort = 0, InventoryPort = 0, PaymentPort = 0 });
        var settings = TestConfig.Gateway(backends, gated: false);
        var (mount, gateway) = await StartOnConfigMapAsync(settings);
        await using var _ = gateway;
        using var client = gateway.CreateClient();
        var queue = new QueueClient(client);
        Assert.Equal(HttpStatusCode.NotFound, (await queue.JoinAsync("festival")).Status);

        // One edit, nothing after it: the room (read from the file alone) must not wait for a second edit.
        settings["WaitingRoom:Rooms:festival:Capacity"] = "5";
        settings["WaitingRoom:Rooms:festival:RefillPerSecond"] = "1";
        settings["ReverseProxy:Routes:fest:ClusterId"] = "inventory";
        settings["ReverseProxy:Routes:fest:Match:Path"] = "/fest/{**rest}";
        settings["ReverseProxy:Routes:fest:Metadata:WaitingRoom"] = "festival";
        Publish(mount, "..2026_12_01_10_05_00.000000002", settings);

        await Eventually.TrueAsync(async () => (await queue.JoinAsync("festival")).Status == HttpStatusCode.Accepted, TimeSpan.FromSeconds(30), "the new room takes joins");
        await Eventually.TrueAsync(async () => (await client.GetAsync("/fest/x")).StatusCode == HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(30), "its new route is gated by it");
        Directory.Delete(mount, recursive: true);
    }

    /// <summary>
    /// A gateway reading <c>Gateway:ConfigFile</c> from a ConfigMap laid out as the kubelet mounts it:
    /// <c>&lt;dir&gt;/appsettings.Production.json -&gt; ..data/appsettings.Production.json</c>, <c>..data -&gt; ..&lt;timestamp&gt;/</c>;
    /// an update writes a new timestamped directory and swaps <c>..data</c> atomically (<see cref="Publish"/>).
    /// </summary>
    private static async Task<(string Mount, GatewayHost Gateway)> StartOnConfigMapAsync(Dictionary<string, string?> settings)
    {
        var mount = Directory.CreateTempSubdirectory("wr-configmap-").FullName;
        Publish(mount, "..2026_12_01_10_00_00.000000001", settings);
        File.CreateSymbolicLink(Path.Combine(mount, "appsettings.Production.json"), Path.Combine("..data", "appsettings.Production.json"));
        return (mount, await GatewayHost.StartAsync(null, new Dictionary<string, string?> { ["Gateway:ConfigFile"] = Path.Combine(mount, "appsettings.Production.json") }));
    }

    /// <summary>Writes a new timestamped directory and swaps the ..data link to it in one rename, as the kubelet does.</summary>
    private static void Publish(string mount, string version, Dictionary<string, string?> settings)
    {
        Directory.CreateDirectory(Path.Combine(mount, version));
        File.WriteAllText(Path.Combine(mount, version, "appsettings.Production.json"), TestConfig.ToJson(settings));
        var staged = Path.Combine(mount, "..data_tmp");
        File.CreateSymbolicLink(staged, version);
        // rename(2), like the kubelet: .NET's File.Move follows a link to a directory, mv -T renames the link itself.
        using var mv = System.Diagnostics.Process.Start("mv", ["-T", "-f", staged, Path.Combine(mount, "..data")])!;
        mv.WaitForExit();
        Assert.Equal(0, mv.ExitCode);
    }
}
