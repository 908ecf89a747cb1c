using Gateway.Admission.ProofOfWork;
using Gateway.Admission.Rooms;

namespace Gateway.Tests.Rooms;

/// <summary>How long a room's keys outlive its last activity: long enough for everything they must remember.</summary>
[Trait("Category", "Fast")]
public sealed class RoomTests
{
    [Fact]
    public void KeyTtl_OutlivesTheLongestOfAdmissionsAbandonmentAndTheEtaWindow_ByTenMinutes()
    {
        var room = new Room("r", new RoomOptions { AdmissionTtl = TimeSpan.FromMinutes(30), AbandonAfter = TimeSpan.FromMinutes(1) }, rankByTree: false, TimeSpan.FromMilliseconds(200));

        Assert.Equal(TimeSpan.FromMinutes(40), room.KeyTtl);
    }

    /// <summary>A spent challenge is refused until a minute after its expiry, even when the room sat idle meanwhile.</summary>
    [Fact]
    public void KeyTtl_WithProofOfWork_OutlivesTheSpentChallengesItMustRemember()
    {
        var options = new RoomOptions { ProofOfWork = new ProofOfWorkOptions { Enabled = true, ChallengeTtl = TimeSpan.FromHours(1) } };

        var room = new Room("r", options, rankByTree: false, TimeSpan.FromMilliseconds(200));

        Assert.Equal(TimeSpan.FromHours(1) + Challenges.ClockSkewAllowance + TimeSpan.FromMinutes(10), room.KeyTtl);
    }
}
