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
    private const int Runs = 7;

    [Fact]
    public async Task RevocationCheck_With0And10000RevokedAdmissions_AnswersRight_AndReportsItsCost()
    {
        await using var gateway = await GatewayHost.StartAsync(null, Browser.PageTestConfig.Room());
        var tokens = gateway.Services.GetRequiredService<AdmissionTokens>();
        var revoked = new RevokedAdmissions(TimeProvider.System);
        var admitted = tokens.Issue("concert", "admission-kept", DateTimeOffset.UtcNow.AddMinutes(10));
        var ended = tokens.Issue("concert", "admission-ended", DateTimeOffset.UtcNow.AddMinutes(10));

        var empty = Measure(tokens, revoked, admitted);
        revoked.AddRange([.. Enumerable.Range(0, 9_999).Select(i => ($"revoked-{i:D5}-{Guid.NewGuid():N}", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())), ("admission-ended", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())]);
        var full = Measure(tokens, revoked, admitted);

        Assert.Equal(10_000, revoked.Count);
        Assert.Equal("admission-kept", WaitingRoomGate.Check(tokens, revoked, admitted, "concert"));
        Assert.Null(WaitingRoomGate.Check(tokens, revoked, ended, "concert"));
        output.WriteLine($"gate admission check, median of {Runs} runs of {Iterations:N0}: 0 revoked {empty:F1} ns/check; 10,000 revoked {full:F1} ns/check; difference {full - empty:F1} ns");
    }

    private static double Measure(AdmissionTokens tokens, RevokedAdmissions revoked, string token)
    {
        var perCheck = new double[Runs];
        for (var run = 0; run < Runs; run++)
        {
            var found = 0;
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < Iterations; i++)
            {
                if (WaitingRoomGate.Check(tokens, revoked, token, "concert") is not null)
                    found++;
            }
            perCheck[run] = Stopwatch.GetElapsedTime(started).TotalNanoseconds / Iterations;
            Assert.Equal(Iterations, found);
        }
        Array.Sort(perCheck);
        return perCheck[Runs / 2];
    }
}
