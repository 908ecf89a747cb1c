using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Observability;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Gateway.Tests.Proxy;

/// <summary>
/// "Nothing a client sends produces a 500", end to end: thousands of hostile requests (<see cref="HostileRequests"/>)
/// over raw sockets to a real gateway on Kestrel get no 5xx, no hang and no Error-level log line; every 4xx of the
/// queue API is in the error shape; bodies over 4 KiB get 413; a backend never sees an admission or identity cookie;
/// and <c>/metrics</c> keeps closed label sets and a bounded size.
/// </summary>
public sealed partial class HostileRequestTests(RedisServerFixture redis, ITestOutputHelper output) : IClassFixture<RedisServerFixture>
{
    private static readonly HashSet<string> MethodLabels = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "OTHER"];

    /// <summary>The methods .NET's own meters (ASP.NET Core, HttpClient) label with; anything else is _OTHER.</summary>
    private static readonly HashSet<string> RuntimeMethodLabels = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "QUERY", "_OTHER"];

    /// <summary>Every <c>route</c> label the test bed's configuration can produce (YARP route ids, endpoint patterns, unmatched).</summary>
    private static readonly HashSet<string> RouteLabels =
    [
        "reservation", "inventory", "payment", "unmatched", "/healthz", "/metrics", "/readyz", "/api/v1/queue/join", "/api/v1/queue/status",
        "/api/v1/queue/enter", "/api/v1/queue/leave", "/waiting-room/{eventId}", "/waiting-room/leave-worker.js",
    ];

    [GeneratedRegex("^[a-z]{1,20}$")]
    private static partial Regex RouteId();

    [GeneratedRegex(@"^([A-Z][A-Za-z0-9]*\.)*[A-Z][A-Za-z0-9]*(Exception|Error)$|^[a-z]+(_[a-z]+)*$|^[1-5][0-9][0-9]$")]
    private static partial Regex ErrorType();

    [GeneratedRegex("^[A-Z][A-Z_]*[A-Z]$")]
    private static partial Regex ErrorCode();

    [Theory]
    [InlineData("embedded", 3_000, 20261201)]
    [InlineData("redis", 1_500, 20261202)]
    public async Task ThousandsOfHostileRequests_GetNo5xx_LogNoError_RefuseInTheErrorShape_AndKeepMetricsBounded(string store, int count, int seed)
    {
        var logs = new CapturedLogs();
        await using var bed = await GatewayTestBed.StartAsync(redis.For(store), settings =>
        {
            settings["WaitingRoom:Rooms:other:Capacity"] = "10";
            settings["WaitingRoom:Rooms:other:RefillPerSecond"] = "1";
            settings["WaitingRoom:Rooms:pow:Capacity"] = "10";
            settings["WaitingRoom:Rooms:pow:RefillPerSecond"] = "1";
            settings["WaitingRoom:Rooms:pow:ProofOfWork:Enabled"] = "true";
            settings["WaitingRoom:Rooms:pow:ProofOfWork:Difficulty"] = "1";
            settings["WaitingRoom:Identity:Keys:0:Id"] = "origin";
            settings["WaitingRoom:Identity:Keys:0:Secret"] = TestConfig.TestSecret;
            // A store answer slowed by a busy machine is not the client's doing: keep 503 STORE_UNAVAILABLE (and an
            // Unhealthy readiness check, logged at Error) out of this test.
            settings["Store:OperationTimeout"] = "00:00:05";
            settings["Store:ReadinessTimeout"] = "00:00:05";
            // On Redis the connection is a trusted proxy, so the forwarded-header garbage is parsed too.
            if (store == "redis")
                settings["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1";
        }, host: builder => builder.Logging.AddProvider(logs));
        using var http = bed.Gateway.CreateClient();
        await MetricsTests.WaitReadyAsync(http);
        var real = await RealTokensAsync(bed);
        var before = await ScrapeAsync(http);

        var generator = new HostileRequests(seed, bed.Gateway.BaseAddress, bed.Room, real);
        var requests = Enumerable.Range(0, count).Select(_ => generator.Next()).ToList();
        var failures = new ConcurrentQueue<(string Problem, string Example)>();
        var statuses = new ConcurrentDictionary<string, int>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 6 }, async (request, _) =>
        {
            RawResponse? response;
            try
            {
                response = await RawHttp.SendAsync(bed.Gateway.BaseAddress, request.Bytes, request.Head, TimeSpan.FromSeconds(30), request.HalfClose);
            }
            catch (TimeoutException ex)
            {
                failures.Enqueue(("no answer in time (a hang)", $"{request}\n    {ex.Message}"));
                return;
            }
            statuses.AddOrUpdate($"{request.Kind.Split(' ')[0]} {response?.Status.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "closed"}", 1, (_, n) => n + 1);
            if (Judge(request, response) is { } problem)
                failures.Enqueue((problem, $"{request}\n    answer: {response?.Status} {HostileInput.Describe(response?.Text ?? "")}"));
        });
        output.WriteLine($"{count} hostile requests on {store} in {clock.Elapsed.TotalSeconds:0.0} s: " + string.Join(", ", statuses.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} x{s.Value}")));

        var byProblem = failures.GroupBy(f => f.Problem).Select(g => $"{g.Count()} x {g.Key}, e.g.\n  " + string.Join("\n  ", g.Take(4).Select(f => f.Example)));
        Assert.True(failures.IsEmpty, $"{failures.Count} of {count} hostile requests were mishandled:\n" + string.Join("\n", byProblem));
        var errors = logs.Entries.Where(e => e.Level >= LogLevel.Error).ToList();
        Assert.True(errors.Count == 0, $"{errors.Count} Error-level log entries:\n" + string.Join("\n", errors.Take(5)));

        // Still serving, and /metrics grew only by label values from closed sets.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await bed.Client.JoinAsync(bed.Room)).Status);
        var after = await ScrapeAsync(http);
        var grown = after.Metrics.Samples.GroupBy(s => s.Name).Select(g => (Name: g.Key, Added: g.Count() - before.Metrics.Samples.Count(b => b.Name == g.Key)))
            .Where(g => g.Added > 0).OrderByDescending(g => g.Added).Take(5);
        output.WriteLine($"/metrics: {before.Bytes} -> {after.Bytes} bytes, {before.Metrics.Samples.Count} -> {after.Metrics.Samples.Count} samples; most added: " +
            string.Join(", ", grown.Select(g => $"{g.Name} +{g.Added}")));

        // Every label, of the gateway's metrics and of the runtime's (ASP.NET Core, Kestrel, HttpClient), takes its values
        // from a small closed set: a method is a standard one or OTHER, a route comes from configuration, nothing a
        // client wrote (6,000-character methods, random paths, tokens) became a label value. The registry is shared by
        // every test in the process, so what this run added is measured against the scrape before it.
        var labels = LabelValues(after.Metrics);
        var labelsBefore = LabelValues(before.Metrics);
        Assert.All(labels["method"], m => Assert.Contains(m, MethodLabels));
        Assert.All(labels["http_request_method"], m => Assert.Contains(m, RuntimeMethodLabels));
        // Other test classes share the registry and run meanwhile, so their endpoints and route ids may show up too:
        // any endpoint pattern of the gateway, and YARP route ids (short lowercase words in every test's config).
        var patterns = bed.Gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => e.RoutePattern.RawText).OfType<string>().Select(p => p.StartsWith('/') ? p : "/" + p).ToHashSet(StringComparer.Ordinal);
        Assert.All(labels["route"].Except(labelsBefore.GetValueOrDefault("route") ?? []),
            r => Assert.True(RouteLabels.Contains(r) || patterns.Contains(r) || RouteId().IsMatch(r), $"route label '{r}' is neither a route id nor an endpoint pattern"));
        // error_type (the runtime's meters) is an exception's type name, a Kestrel reason or a status code: a closed set of
        // the code's own names, but a run that starts on a fresh registry meets dozens of them (26 in one run alone).
        Assert.All(labels, l =>
        {
            var added = l.Value.Except(labelsBefore.GetValueOrDefault(l.Key) ?? []).ToList();
            Assert.True(added.Count <= (l.Key == "error_type" ? 60 : 25), $"label {l.Key} gained {added.Count} values: {string.Join(", ", added.Take(30))}");
        });
        Assert.All(labels.GetValueOrDefault("error_type") ?? [], e => Assert.Matches(ErrorType(), e));
        Assert.All(labels.Values.SelectMany(v => v), v => Assert.True(v.Length <= 100, "a label value of " + v.Length + " characters"));
        // At most; it can also shrink meanwhile, when other tests' gateways stop and their series go.
        Assert.True(after.Bytes - before.Bytes <= 2_000_000, $"/metrics grew by {after.Bytes - before.Bytes} bytes");
    }

    private static Dictionary<string, HashSet<string>> LabelValues(PrometheusText metrics) =>
        metrics.Samples.SelectMany(s => s.Labels).Where(l => l.Key != "le").GroupBy(l => l.Key)
            .ToDictionary(g => g.Key, g => g.Select(l => l.Value).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>What is wrong with the answer to <paramref name="request"/>, or null when it is a proper answer.</summary>
    private static string? Judge(HostileRequest request, RawResponse? response)
    {
        if (response is null)
            return request.Malformed ? null : "the connection closed without an answer";
        if (response.Status >= 500)
            return "a 5xx answer";
        if (request.ExpectedStatus is { } expected && response.Status != expected)
            return $"expected {expected}";
        foreach (var secret in request.Secrets)
        {
            if (response.Text.Contains(secret, StringComparison.Ordinal))
                return "a backend saw the admission or identity cookie";
        }
        if (request.QueueApi && response.Status is >= 400 and < 500 && !IsErrorShape(response))
            return "a queue API refusal not in the error shape";
        return null;
    }

    private static bool IsErrorShape(RawResponse response)
    {
        try
        {
            using var json = JsonDocument.Parse(response.Body);
            var error = json.RootElement.GetProperty("error");
            return ErrorCode().IsMatch(error.GetProperty("code").GetString() ?? "")
                && !string.IsNullOrWhiteSpace(error.GetProperty("message").GetString())
                && !string.IsNullOrWhiteSpace(error.GetProperty("trace_id").GetString());
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>A waiting token, an admission for the room and one for another room, and an identity cookie: all real.</summary>
    private static async Task<RealTokens> RealTokensAsync(GatewayTestBed bed)
    {
        var (status, joined, response) = await bed.Client.JoinAsync(bed.Room);
        Assert.Equal(HttpStatusCode.Accepted, status);
        var identity = response.Headers.GetValues("Set-Cookie").First(c => c.StartsWith("wr_id=", StringComparison.Ordinal)).Split(';')[0]["wr_id=".Length..];
        using var http = bed.Gateway.CreateClient();
        var challenge = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync("/api/v1/queue/challenge?event_id=pow"))!["challenge"]!.GetValue<string>();
        return new RealTokens(joined["waiting_token"]!.GetValue<string>(), await bed.Client.AdmitAsync(bed.Room), await bed.Client.AdmitAsync("other"), identity, "pow", challenge);
    }

    private static async Task<(PrometheusText Metrics, int Bytes)> ScrapeAsync(HttpClient http)
    {
        var text = await http.GetStringAsync("/metrics");
        return (PrometheusText.Parse(text), text.Length);
    }
}
