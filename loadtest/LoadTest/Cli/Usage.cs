namespace LoadTest.Cli;

/// <summary>The --help text; loadtest/README.md has the long form.</summary>
internal static class Usage
{
    public const string Text = """
        LoadTest: open/closed-model HTTP load tool for the gateway (loopback targets only).

        Usage: LoadTest --scenario <http|admitted|status-storm|flash-crowd|backend-pace> [options]

        Common:
          --out DIR                report directory (default loadtest/results/<scenario>-<utc time>)
          --timeout-ms N           per-request timeout (default 10000, max 120000)
          --max-connections N      connections per host:port (default 1000)
          --late-ms N              an open-model start later than this is late (default 10)

        Load model (http, admitted, status-storm):
          --rate R                 constant arrival rate per second (default 100, max 200000)
          --ramp-to R              ramp linearly from --rate to R over --duration
          --concurrency N          closed model: N users back to back (instead of --rate)
          --duration S             seconds (default 30, max 1800)
          --max-in-flight N        in-flight cap (default 10000)
          --warmup S               unmeasured warm-up at the starting load first (default 2, 0 = none)
          --find-max               step the rate up until p99 > --p99-ms, errors, or the schedule slips
            --start-rate R (100)  --step R (100)  --step-seconds S (10)  --max-rate R (50000)  --p99-ms MS (50)

        http:          --url URL
        admitted:      --target URL  --event ID (concert)  --path PATH (/api/inventory/events/<event>/seats)
                       --admit-timeout S (120)  --user-prefix P (u-)
        status-storm:  --target URL  --event ID  --prefill N (0)  --prefill-concurrency N (256)
                       --sample N (1000)  --user-prefix P
        flash-crowd:   --target URL  --event ID  --users N (1000)  --join-seconds S (10)
                       --duration S (join-seconds + 120)  --user-prefix P
                       --backend-stats URL[,URL...]  --bucket-capacity N (100)  --bucket-refill R (10)
        backend-pace:  --target URL  --event ID  --arrivals R (100 users/s)  --duration S (150)
                       --backend-stats URL[,URL...] (required)  --capacity-schedule 0:200,60:100,100:200 (required)
                       --think-ms N (200)  --transient S (10)  --label TEXT  --user-prefix P

        Exit codes: 0 done, 1 setup failed (no admission, no tokens, no backend stats),
                    2 invalid arguments or non-loopback target, 130 interrupted (partial report written).
        """;
}
