using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Gateway.Admission.Diagnostics;
using Prometheus;

namespace Gateway.Proxy.Diagnostics;

/// <summary>
/// Publishes the gateway's own meters (<see cref="WaitingRoomTelemetry.MeterName"/>, <see cref="ForwardingMetrics.MeterName"/>)
/// on <c>/metrics</c> under Prometheus conventions: dots become underscores, the unit becomes a suffix
/// (<c>s</c> = <c>_seconds</c>, <c>1</c> = <c>_ratio</c>, <c>.../s</c> = <c>_per_second</c>), counters are
/// counters ending in <c>_total</c>, histograms keep the bucket boundaries their instrument advises.
/// <para>
/// prometheus-net's built-in meter adapter is kept for the framework's meters but not used for ours: it
/// prefixes the meter name (<c>gateway_waitingroom_waitingroom_joins</c>), exports counters as gauges
/// without <c>_total</c>, ignores bucket advice and only starts listening at the first scrape (losing
/// everything recorded before it). This export listens from the moment the app is built and only to the
/// meters of this app's <see cref="IMeterFactory"/>, so several gateways in one process never double-count.
/// </para>
/// </summary>
internal sealed class PrometheusMeterExport : IDisposable
{
    private static readonly HashSet<string> OwnMeters = [WaitingRoomTelemetry.MeterName, ForwardingMetrics.MeterName];

    private readonly IMeterFactory _meterFactory;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Export> _exports = new();
    private volatile bool _disposed;

    public PrometheusMeterExport(IMeterFactory meterFactory)
    {
        _meterFactory = meterFactory;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == _meterFactory && OwnMeters.Contains(instrument.Meter.Name))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
        // Observable gauges report when asked: ask right before every scrape. (Registry callbacks cannot be
        // removed; a disposed export just does nothing.)
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            if (!_disposed)
                _listener.RecordObservableInstruments();
        });
    }

    /// <summary>
    /// Keeps prometheus-net's own meter adapter away from the meters this export publishes, and from ASP.NET Core's
    /// request-duration histogram, which repeats <c>http_request_duration_seconds</c> (HttpRequestMetrics) bucket for
    /// bucket under another name. Call before the first scrape.
    /// </summary>
    public static void ExcludeOwnMetersFromDefaultAdapter() =>
        Metrics.ConfigureMeterAdapter(o => o.InstrumentFilterPredicate = i =>
            !OwnMeters.Contains(i.Meter.Name) && !(i.Meter.Name == "Microsoft.AspNetCore.Hosting" && i.Name == "http.server.request.duration"));

    /// <summary>The Prometheus name of an instrument.</summary>
    public static string PrometheusName(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_').Replace('-', '_');
        var unit = instrument.Unit ?? "";
        var suffix = unit switch
        {
            "s" => "_seconds",
            "ms" => "_milliseconds",
            "By" => "_bytes",
            "1" => "_ratio",
            _ when unit.EndsWith("/s", StringComparison.Ordinal) => "_per_second",
            _ => "",
        };
        if (!name.EndsWith(suffix, StringComparison.Ordinal))
            name += suffix;
        return IsCounter(instrument) ? name + "_total" : name;
    }

    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();
    }

    private void Record(Instrument instrument, double measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!_exports.TryGetValue(instrument, out var export))
        {
            // Our instruments always carry the same tag keys, so the first measurement fixes the label names.
            var labelNames = new string[tags.Length];
            for (var i = 0; i < tags.Length; i++)
                labelNames[i] = tags[i].Key;
            export = _exports.GetOrAdd(instrument, static (i, names) => Export.Create(i, names), labelNames);
        }
        var values = new string[export.LabelNames.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = "";
            foreach (var tag in tags)
            {
                if (tag.Key == export.LabelNames[i])
                    values[i] = tag.Value?.ToString() ?? "";
            }
        }
        export.Record(measurement, values);
    }

    private static bool IsCounter(Instrument instrument) =>
        instrument.GetType().GetGenericTypeDefinition() is var type && (type == typeof(Counter<>) || type == typeof(ObservableCounter<>));

    /// <summary>One instrument as a prometheus-net collector.</summary>
    private sealed class Export(string[] labelNames, Action<double, string[]> record)
    {
        public string[] LabelNames { get; } = labelNames;

        public void Record(double value, string[] labelValues) => record(value, labelValues);

        public static Export Create(Instrument instrument, string[] labelNames)
        {
            var name = PrometheusName(instrument);
            var help = string.IsNullOrEmpty(instrument.Description) ? instrument.Name : instrument.Description;
            var factory = Metrics.WithCustomRegistry(Metrics.DefaultRegistry);
            var type = instrument.GetType().GetGenericTypeDefinition();
            if (type == typeof(Counter<>))
            {
                var counter = factory.CreateCounter(name, help, labelNames);
                return new Export(labelNames, (v, l) => counter.WithLabels(l).Inc(v));
            }
            if (type == typeof(ObservableCounter<>))
            {
                var counter = factory.CreateCounter(name, help, labelNames);
                return new Export(labelNames, (v, l) => counter.WithLabels(l).IncTo(v));
            }
            if (type == typeof(Histogram<>))
            {
                var histogram = factory.CreateHistogram(name, help, new HistogramConfiguration { LabelNames = labelNames, Buckets = Buckets(instrument) });
                return new Export(labelNames, (v, l) => histogram.WithLabels(l).Observe(v));
            }
            if (type == typeof(UpDownCounter<>))
            {
                var gauge = factory.CreateGauge(name, help, labelNames);
                return new Export(labelNames, (v, l) => gauge.WithLabels(l).Inc(v));
            }
            var observed = factory.CreateGauge(name, help, labelNames);
            return new Export(labelNames, (v, l) => observed.WithLabels(l).Set(v));
        }

        private static double[] Buckets(Instrument instrument) => instrument switch
        {
            Histogram<double> { Advice.HistogramBucketBoundaries: { } b } => [.. b],
            Histogram<long> { Advice.HistogramBucketBoundaries: { } b } => [.. b.Select(x => (double)x)],
            Histogram<int> { Advice.HistogramBucketBoundaries: { } b } => [.. b.Select(x => (double)x)],
            _ => Prometheus.Histogram.ExponentialBuckets(0.001, 2, 16),
        };
    }
}
