using System.Diagnostics;
using Gateway.Admission.Gate;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Gateway.Tests.Gate;

/// <summary>
/// What the revocation check adds to the gate's per-request work: the gate's whole admission check
/// (<see cref="WaitingRoomGate.Check"/>: MAC or cache hit, then a frozen-set look-up) with 0 and with 10,000
/// revoked admissions. Prints the medians (docs/BENCHMARKS.md quotes them); asserts only that the answers are right,
/// never a time (the machine is shared).
/// </summary>
public sealed class RevocationCostTests(ITestOutputHelper output)
{
    private const int Iterations = 200_000;
    private const int Runs = 11;

    [Fact]
    public async Task RevocationCheck_With0And10000RevokedAdmissions_AnswersRight_AndReportsItsCost()
    {
        await using var gateway = await GatewayHost.StartAsync(null, Browser.PageTestConfig.Room());
        var tokens = gateway.Services.GetRequiredService<AdmissionTokens>();
        var none = new RevokedAdmissions(TimeProvider.System);
        var many = new RevokedAdmissions(TimeProvider.System);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        many.AddRange([.. Enumerable.Range(0, 9_999).Select(i => (Convert.ToBase64String(Guid.NewGuid().ToByteArray())[..22], now)), ("admission-ended", now)]);
        var admitted = tokens.Issue("concert", "admission-kept", DateTimeOffset.UtcNow.AddMinutes(10));
        var ended = tokens.Issue("concert", "admission-ended", DateTimeOffset.UtcNow.AddMinutes(10));

        Assert.Equal(10_000, many.Count);
        Assert.Equal("admission-kept", WaitingRoomGate.Check(tokens, many, admitted, "concert"));
        Assert.Null(WaitingRoomGate.Check(tokens, many, ended, "concert"));
        Assert.Equal("admission-ended", WaitingRoomGate.Check(tokens, none, ended, "concert"));

        // Runs alternate between the two sets, so a busy neighbour slows both alike; medians of each.
        var check = new double[2][];
        var lookup = new double[2][];
        for (var set = 0; set < 2; set++)
            (check[set], lookup[set]) = (new double[Runs], new double[Runs]);
        for (var run = 0; run < Runs; run++)
        {
            for (var set = 0; set < 2; set++)
            {
                var revoked = set == 0 ? none : many;
                check[set][run] = PerCall(() => WaitingRoomGate.Check(tokens, revoked, admitted, "concert") is not null);
                lookup[set][run] = PerCall(() => !revoked.Contains("admission-kept"));
            }
        }
        output.WriteLine($"gate admission check (cached token + revocation look-up), median of {Runs} x {Iterations:N0}: 0 revoked {Median(check[0]):F1} ns, 10,000 revoked {Median(check[1]):F1} ns");
        output.WriteLine($"revocation look-up alone: 0 revoked {Median(lookup[0]):F1} ns, 10,000 revoked {Median(lookup[1]):F1} ns; fastest runs {check[0].Min():F1} / {check[1].Min():F1} ns and {lookup[0].Min():F1} / {lookup[1].Min():F1} ns");
    }

    private static double PerCall(Func<bool> call)
    {
        var started = Stopwatch.GetTimestamp();
        var passed = 0;
        for (var i = 0; i < Iterations; i++)
        {
            if (call())
                passed++;
        }
        var elapsed = Stopwatch.GetElapsedTime(started).TotalNanoseconds / Iterations;
        Assert.Equal(Iterations, passed);
        return elapsed;
    }

    private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);
}
