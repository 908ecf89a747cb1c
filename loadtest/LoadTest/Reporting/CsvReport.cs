using System.Text;
using LoadTest.Engine;
using LoadTest.Scenarios;
using static LoadTest.Reporting.Format;

namespace LoadTest.Reporting;

/// <summary>Writes the report's CSV files (invariant culture, one header row).</summary>
internal static class CsvReport
{
    /// <summary>Per-second timeline of the measured runs; <c>elapsed_s</c> runs on across find-max steps.</summary>
    public static void Timeline(string path, IReadOnlyList<ReportRun> runs)
    {
        var csv = new StringBuilder("run,elapsed_s,run_elapsed_s,interval_s,target_rate,started,completed,throughput_per_s,errors,late,in_flight,p50_ms,p99_ms,max_ms,unix_s\n");
        foreach (var (run, offset) in WithOffsets(runs))
        {
            var origin = run.Result.StartedAt.ToUnixTimeMilliseconds() / 1000.0;
            foreach (var point in run.Result.Timeline)
            {
                Row(
                    csv,
                    Csv(run.Label),
                    Number(offset + point.ElapsedSeconds, "0.###"),
                    Number(point.ElapsedSeconds, "0.###"),
                    Number(point.IntervalSeconds, "0.###"),
                    point.TargetRate is { } target ? Number(target, "0.##") : string.Empty,
                    Number(point.Started, "0"),
                    Number(point.Completed, "0"),
                    Number(point.Throughput, "0.##"),
                    Number(point.Errors, "0"),
                    Number(point.Late, "0"),
                    Number(point.InFlight, "0"),
                    Number(point.Latency.P50Ms, "0.###"),
                    Number(point.Latency.P99Ms, "0.###"),
                    Number(point.Latency.MaxMs, "0.###"),
                    Number(origin + point.ElapsedSeconds, "0.###"));
            }
        }

        File.WriteAllText(path, csv.ToString());
    }

    /// <summary>
    /// The runs minute by minute: per window an "all" row, then per step an "all" row with its percentiles and
    /// one row per status / error with its count.
    /// </summary>
    public static void Windows(string path, IReadOnlyList<ReportRun> runs)
    {
        var csv = new StringBuilder("run,window,from_s,to_s,from_unix_s,step,status,error_kind,count,errors,p50_ms,p99_ms,max_ms\n");
        foreach (var run in runs)
        {
            var origin = run.Result.StartedAt.ToUnixTimeMilliseconds() / 1000.0;
            for (var i = 0; i < run.Result.Windows.Count; i++)
            {
                var window = run.Result.Windows[i];
                void WindowRow(string step, string status, string errorKind, long count, long errors, LatencySummary? latency) => Row(
                    csv,
                    Csv(run.Label),
                    Number(i, "0"),
                    Number(window.FromSeconds, "0.###"),
                    Number(window.ToSeconds, "0.###"),
                    Number(origin + window.FromSeconds, "0.###"),
                    Csv(step),
                    Csv(status),
                    errorKind,
                    Number(count, "0"),
                    Number(errors, "0"),
                    latency is null ? string.Empty : Number(latency.P50Ms, "0.###"),
                    latency is null ? string.Empty : Number(latency.P99Ms, "0.###"),
                    latency is null ? string.Empty : Number(latency.MaxMs, "0.###"));

                WindowRow("all", "all", string.Empty, window.Latency.Count, window.Errors, window.Latency);
                foreach (var step in window.Steps)
                {
                    WindowRow(step.Name, "all", string.Empty, step.Latency.Count, step.Errors, step.Latency);
                    foreach (var outcome in step.Outcomes)
                    {
                        WindowRow(step.Name, outcome.Label, outcome.Error?.ToString() ?? string.Empty, outcome.Count, outcome.Error is null ? 0 : outcome.Count, null);
                    }
                }
            }
        }

        File.WriteAllText(path, csv.ToString());
    }

    /// <summary>Percentile table: one "all" row per step, then one row per status / error.</summary>
    public static void Percentiles(string path, IEnumerable<ReportRun> runs)
    {
        var csv = new StringBuilder("run,step,status,error_kind,count,mean_ms,p50_ms,p75_ms,p95_ms,p99_ms,p99_9_ms,max_ms\n");
        foreach (var run in runs)
        {
            foreach (var step in run.Result.Steps)
            {
                PercentileRow(csv, run.Label, step.Name, "all", string.Empty, step.Latency);
                foreach (var outcome in step.Outcomes)
                {
                    PercentileRow(csv, run.Label, step.Name, outcome.Label, outcome.Error?.ToString() ?? string.Empty, outcome.Latency);
                }
            }
        }

        File.WriteAllText(path, csv.ToString());
    }

    public static void FindMax(string path, RateSearchResult search)
    {
        var csv = new StringBuilder("target_rate,achieved_rate,requests,errors,late,cap_hits,schedule_kept,p50_ms,p99_ms,max_ms,passed,verdict\n");
        foreach (var step in search.Steps)
        {
            var result = step.Result;
            Row(
                csv,
                Number(step.TargetRate, "0.##"),
                Number(result.AchievedRate, "0.##"),
                Number(result.Requests, "0"),
                Number(result.Errors, "0"),
                Number(result.Schedule.Late, "0"),
                Number(result.Schedule.CapHits, "0"),
                result.Schedule.Kept ? "true" : "false",
                Number(result.Overall.P50Ms, "0.###"),
                Number(result.Overall.P99Ms, "0.###"),
                Number(result.Overall.MaxMs, "0.###"),
                step.Passed ? "true" : "false",
                Csv(step.Verdict));
        }

        File.WriteAllText(path, csv.ToString());
    }

    public static void Users(string path, FlashCrowdResult crowd)
    {
        var csv = new StringBuilder("user_id,fate,position_at_join,eta_at_join_s,wait_s,time_to_admission_s,eta_accuracy\n");
        foreach (var user in crowd.Users)
        {
            Row(
                csv,
                Csv(user.UserId),
                user.Fate.ToString(),
                user.PositionAtJoin is { } position ? Number(position, "0") : string.Empty,
                Optional(user.EtaAtJoinSec),
                Optional(user.WaitSec),
                Optional(user.TimeToAdmissionSec),
                Optional(user.EtaAccuracy));
        }

        File.WriteAllText(path, csv.ToString());
    }

    /// <summary>One row per second of a backend-pace run: cumulative counters as sampled, and the per-second rates.</summary>
    public static void Pace(string path, PaceResult pace)
    {
        var csv = new StringBuilder("seconds,capacity_per_backend,effective_rate,waiting,admitted_total,promotions_total,backend_requests_total,backend_served_total,backend_rejected_total,gated_ok_total,gated_backend_503_total,gated_gateway_503_total,gated_other_total,join_failed_total,lost_places_total\n");
        foreach (var sample in pace.Samples)
        {
            Row(
                csv,
                Number(sample.Seconds, "0.###"),
                Number(sample.Capacity, "0.###"),
                Optional(sample.EffectiveRate),
                Optional(sample.Waiting),
                Number(sample.Client.Admitted, "0"),
                Optional(sample.PromotionsTotal),
                Number(sample.BackendRequests, "0"),
                Number(sample.BackendServed, "0"),
                Number(sample.BackendRejected, "0"),
                Number(sample.Client.GatedOk, "0"),
                Number(sample.Client.GatedBackend503, "0"),
                Number(sample.Client.GatedGateway503, "0"),
                Number(sample.Client.GatedOther, "0"),
                Number(sample.Client.JoinFailed, "0"),
                Number(sample.Client.LostPlaces, "0"));
        }

        File.WriteAllText(path, csv.ToString());
    }

    /// <summary>Each run with the cumulative seconds of the runs before it.</summary>
    public static IEnumerable<(ReportRun Run, double Offset)> WithOffsets(IReadOnlyList<ReportRun> runs)
    {
        var offset = 0.0;
        foreach (var run in runs)
        {
            yield return (run, offset);
            offset += run.Result.Timeline.Count > 0 ? run.Result.Timeline[^1].ElapsedSeconds : 0;
        }
    }

    private static string Optional(double? value) => value is { } number ? Number(number, "0.###") : string.Empty;

    private static void PercentileRow(StringBuilder csv, string run, string step, string status, string errorKind, LatencySummary latency) =>
        Row(
            csv,
            Csv(run),
            Csv(step),
            Csv(status),
            errorKind,
            Number(latency.Count, "0"),
            Number(latency.MeanMs, "0.###"),
            Number(latency.P50Ms, "0.###"),
            Number(latency.P75Ms, "0.###"),
            Number(latency.P95Ms, "0.###"),
            Number(latency.P99Ms, "0.###"),
            Number(latency.P999Ms, "0.###"),
            Number(latency.MaxMs, "0.###"));

    private static void Row(StringBuilder csv, params string[] cells) => csv.AppendJoin(',', cells).Append('\n');
}
