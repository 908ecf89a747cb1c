using System.Globalization;
using System.Net;
using Gateway.Admission.Clients;
using Gateway.Admission.Rooms;
using Gateway.EtaSimulation.Engine;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Clients;

/// <summary>
/// One instance's per-client limits on joins and polls: a minute's calls at once, then as many as refill, per
/// client address (an IPv6 /64 is one client), off at 0, and a table that stays bounded while an attacker
/// rotates addresses.
/// </summary>
[Trait("Category", "Fast")]
public sealed class ClientRateLimitsTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 24, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Polls_UpToTheLimitAreAllowedAtOnce_AndTheNextIsRefused()
    {
        var limits = Limits(polls: 5);

        Assert.Equal([true, true, true, true, true, false], Polls(limits, "203.0.113.9", 6));
    }

    [Fact]
    public void Polls_RefillEvenlyOverAMinute_AndNeverBeyondTheLimit()
    {
        var limits = Limits(polls: 6);
        Polls(limits, "203.0.113.9", 6);

        _clock.Advance(TimeSpan.FromSeconds(9));
        Assert.False(limits.TryPoll("203.0.113.9")); // 6 a minute: one every 10 s
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([true, false], Polls(limits, "203.0.113.9", 2));

        _clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(6, Polls(limits, "203.0.113.9", 10).Count(allowed => allowed));
    }

    [Fact]
    public void EachClient_HasItsOwnBudget()
    {
        var limits = Limits(polls: 2);
        Polls(limits, "203.0.113.9", 3);

        Assert.True(limits.TryPoll("203.0.113.10"));
        Assert.False(limits.TryPoll("203.0.113.9"));
    }

    [Fact]
    public void AddressesInOneIPv6Slash64_ShareABudget_AndTheNextSlash64HasItsOwn()
    {
        var limits = Limits(polls: 2);

        Assert.True(limits.TryPoll(ClientAddress.Of(IPAddress.Parse("2001:db8:1:2::1"))));
        Assert.True(limits.TryPoll(ClientAddress.Of(IPAddress.Parse("2001:db8:1:2:ffff::9"))));
        Assert.False(limits.TryPoll(ClientAddress.Of(IPAddress.Parse("2001:db8:1:2:abcd:ef01:2345:6789"))));
        Assert.True(limits.TryPoll(ClientAddress.Of(IPAddress.Parse("2001:db8:1:3::1"))));
    }

    [Fact]
    public void JoinsAndPolls_AreCountedApart()
    {
        var limits = Limits(joins: 1, polls: 1);

        Assert.True(limits.TryJoin("203.0.113.9"));
        Assert.True(limits.TryPoll("203.0.113.9"));
        Assert.False(limits.TryJoin("203.0.113.9"));
        Assert.False(limits.TryPoll("203.0.113.9"));
    }

    [Fact]
    public void Zero_TurnsTheLimitOff_AndRemembersNobody()
    {
        var limits = Limits(joins: 0, polls: 0);

        Assert.True(Enumerable.Range(0, 10_000).All(_ => limits.TryPoll("203.0.113.9") && limits.TryJoin("203.0.113.9")));
        Assert.Equal((0, 0), limits.Remembered);
    }

    [Fact]
    public void AReloadedLimit_AppliesToClientsAlreadySeen()
    {
        var options = new MutableOptionsMonitor<WaitingRoomOptions>(new WaitingRoomOptions { PollsPerClientPerMinute = 10 });
        var limits = new ClientRateLimits(options, _clock);
        Assert.True(limits.TryPoll("203.0.113.9"));
        _clock.Advance(TimeSpan.FromMinutes(1));

        options.Set(new WaitingRoomOptions { PollsPerClientPerMinute = 2 });

        Assert.Equal([true, true, false], Polls(limits, "203.0.113.9", 3));
    }

    [Fact]
    public void ManyDistinctAddresses_KeepTheTableBounded()
    {
        var limits = Limits(polls: 1200);

        foreach (var client in Rotating(2 * ClientRateLimits.MaxClients))
            limits.TryPoll(client);

        Assert.InRange(limits.Remembered.Polls, ClientRateLimits.MaxClients / 2, ClientRateLimits.MaxClients);
    }

    [Fact]
    public void AClientOverItsLimit_StaysRefused_WhileAnAttackerRotatesThroughManyAddresses()
    {
        var limits = Limits(polls: 5);
        Polls(limits, "203.0.113.9", 5);

        var allowed = 0;
        var i = 0;
        foreach (var attacker in Rotating(2 * ClientRateLimits.MaxClients))
        {
            limits.TryPoll(attacker);
            if (i++ % 1_000 == 0 && limits.TryPoll("203.0.113.9"))
                allowed++;
        }

        Assert.Equal(0, allowed);
    }

    private ClientRateLimits Limits(int joins = 120, int polls = 1200) =>
        new(new MutableOptionsMonitor<WaitingRoomOptions>(new WaitingRoomOptions { JoinsPerClientPerMinute = joins, PollsPerClientPerMinute = polls }), _clock);

    private static bool[] Polls(ClientRateLimits limits, string client, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => limits.TryPoll(client))];

    /// <summary>Distinct /64s as <see cref="ClientAddress"/> names them, as an attacker with a /32 would use them.</summary>
    private static IEnumerable<string> Rotating(int count) =>
        Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"2001:db8:{i >> 16:x}:{i & 0xffff:x}::/64"));
}
