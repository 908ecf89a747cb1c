using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Admission.Diagnostics;
using Gateway.Proxy.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Observability;

/// <summary>The Grafana dashboard and docs/OBSERVABILITY.md stay in step with the metrics the gateway exports.</summary>
[Trait("Category", "Fast")]
public sealed partial class DashboardTests
{
    [GeneratedRegex(@"\b(?:waitingroom|gateway|http)_[a-z_]+\b")]
    private static partial Regex MetricName();

    [Fact]
    public void Dashboard_QueriesOnlyMetricsTheGatewayExports_AndCoversTheRequiredPanels()
    {
        var exported = ExportedFamilies();
        var dashboard = JsonNode.Parse(File.ReadAllText(Repo.File("docs", "grafana", "waiting-room.json")))!;
        var queries = dashboard["panels"]!.AsArray()
            .SelectMany(p => p!["targets"]?.AsArray() ?? [])
            .Select(t => t!["expr"]!.GetValue<string>())
            .ToArray();

        var used = queries.SelectMany(q => MetricName().Matches(q).Select(m => Family(m.Value))).ToHashSet();
        Assert.Empty(used.Except(exported));
        Assert.Contains(queries, q => q.Contains("waitingroom_queue_length", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("rate(waitingroom_promotions_total", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("waitingroom_refill_rate_per_second", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("waitingroom_eta_accuracy_ratio", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("histogram_quantile(0.95", StringComparison.Ordinal) && q.Contains("by (le, route)", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("waitingroom_store_errors_total", StringComparison.Ordinal));
        // Operator control: room state, overrides, active users, the rate in force.
        foreach (var metric in new[] { "waitingroom_room_state", "waitingroom_overrides", "waitingroom_active", "waitingroom_refill_effective_per_second", "waitingroom_admin_changes_total" })
            Assert.Contains(queries, q => q.Contains(metric, StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("gateway_breaker_state", StringComparison.Ordinal));
    }

    [Fact]
    public void ObservabilityDoc_NamesEveryExportedMetric()
    {
        var doc = File.ReadAllText(Repo.File("docs", "OBSERVABILITY.md"));

        Assert.All(ExportedFamilies(), name => Assert.Contains("`" + name, doc, StringComparison.Ordinal));
    }

    /// <summary>Every Prometheus metric family the gateway's own instruments export, plus the request metrics (HttpRequestMetrics).</summary>
    private static HashSet<string> ExportedFamilies()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var names = new HashSet<string>(StringComparer.Ordinal) { "http_requests_received_total", "http_request_duration_seconds" };
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Scope == factory)
                    names.Add(PrometheusMeterExport.PrometheusName(instrument));
            },
        };
        listener.Start();
        using var waitingRoom = new WaitingRoomMetrics(factory);
        using var forwarding = new ForwardingMetrics(factory);
        return names;
    }

    private static string Family(string sample) =>
        Regex.Replace(sample, "_(bucket|sum|count)$", "");

}
