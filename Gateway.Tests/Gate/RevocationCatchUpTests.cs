using System.Net;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Tests.Infrastructure;
using StackExchange.Redis;

namespace Gateway.Tests.Gate;

/// <summary>
/// A gateway instance started during a sale (a scale-out, a rolling restart) reads the revocations of the last
/// AdmissionTtl from the store, a page at a time; it is not ready until it has them all, so no load balancer sends
/// it an admission that every other instance already refuses.
/// </summary>
public sealed class RevocationCatchUpTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task ANewInstance_IsReadyOnlyOnceItHasReadEveryRevocation_AndThenRefusesThem()
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString, s => TestConfig.WithAdmin(s), capacity: 10, refill: 10);
        using var admin = bed.Gateway.CreateAdminClient();
        var ended = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var admission = await bed.Client.AdmitAsync(bed.Room, $"buyer{i}");
            Assert.Equal(HttpStatusCode.NoContent, (await admin.RevokeAsync(bed.Room, admission)).Status);
            ended.Add(admission);
        }
        // Older revocations ahead of them: the three real ones are on the third page a new instance reads.
        using (var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString))
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var older = Enumerable.Range(0, 2_500).Select(i => new SortedSetEntry($"older-{i}", now - 60_000 + i)).ToArray();
            await connection.GetDatabase().SortedSetAddAsync(RoomKeys.For(bed.Room)[RoomKey.Revoked], older);
        }

        await using var second = await GatewayHost.StartAsync(redis.Server.ConnectionString, bed.Settings);
        using var http = second.CreateClient();
        await Eventually.TrueAsync(async () => (await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the new instance becomes ready");

        foreach (var admission in ended)
        {
            using var gated = new HttpRequestMessage(HttpMethod.Get, "/api/inventory");
            gated.Headers.Add("X-Admission-Token", admission);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await http.SendAsync(gated)).StatusCode);
        }
    }
}
