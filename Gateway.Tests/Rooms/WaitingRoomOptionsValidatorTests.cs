using Gateway.Admission.Rooms;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using static Gateway.Tests.Infrastructure.OptionsValidation;

namespace Gateway.Tests.Rooms;

/// <summary>
/// <c>WaitingRoom</c> as an operator configures it: every bad value fails validation with one message that
/// names its full key and says what to write instead; the shipped settings and the defaults pass.
/// </summary>
[Trait("Category", "Fast")]
public sealed class WaitingRoomOptionsValidatorTests
{
    private const string OtherSecret = "YW5vdGhlci1zaWduaW5nLWtleS1hbm90aGVyLWtleSE=";

    private static readonly Dictionary<string, string?> Valid = new()
    {
        ["WaitingRoom:Rooms:concert:Capacity"] = "100",
        ["WaitingRoom:SigningKeys:0:Id"] = "k2026a",
        ["WaitingRoom:SigningKeys:0:Secret"] = TestConfig.TestSecret,
    };

    [Fact]
    public void TheShippedSettings_Pass_OnceASigningKeyIsSet()
    {
        var shipped = ShippedSettings().AsEnumerable().Concat(Valid.Where(s => s.Key.StartsWith("WaitingRoom:SigningKeys", StringComparison.Ordinal)));

        Assert.Empty(Failures(shipped));
    }

    [Fact]
    public void TheDefaults_PassInDevelopment_AndInProductionOnlyTheMissingSigningKeyFails()
    {
        Assert.Empty(Failures(new WaitingRoomOptions(), Environments.Development));

        var failure = Assert.Single(Failures(new WaitingRoomOptions(), Environments.Production));
        Assert.StartsWith("WaitingRoom:SigningKeys: no admission-token signing key is configured.", failure, StringComparison.Ordinal);
        Assert.Contains("openssl rand -base64 32", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("WaitingRoom:Rooms:concert:Capacity", "0", "WaitingRoom:Rooms:concert:Capacity is 0;", "(e.g. 100)")]
    [InlineData("WaitingRoom:Rooms:concert:Capacity", "lots", "WaitingRoom:Rooms:concert: ", "Use a whole number for Capacity")]
    [InlineData("WaitingRoom:Rooms:concert:RefillPerSecond", "0", "WaitingRoom:Rooms:concert:RefillPerSecond is 0;", "(e.g. 10 or 0.5)")]
    [InlineData("WaitingRoom:Rooms:concert:RefillPerSecond", "1E-320", "WaitingRoom:Rooms:concert:RefillPerSecond is 1E-320;", "(e.g. 10 or 0.5)")]
    [InlineData("WaitingRoom:Rooms:concert:RefillPerSecond", "2000000", "WaitingRoom:Rooms:concert:RefillPerSecond is 2000000;", "(e.g. 10 or 0.5)")]
    [InlineData("WaitingRoom:Rooms:concert:AdmissionTtl", "00:00:00", "WaitingRoom:Rooms:concert:AdmissionTtl is 00:00:00;", "(e.g. 00:10:00)")]
    [InlineData("WaitingRoom:Rooms:concert:AbandonAfter", "00:00:00.5", "WaitingRoom:Rooms:concert:AbandonAfter is 00:00:00.5000000;", "(e.g. 00:01:00)")]
    [InlineData("WaitingRoom:Rooms:concert:MaxQueueLength", "0", "WaitingRoom:Rooms:concert:MaxQueueLength is 0;", "(e.g. 1000000)")]
    [InlineData("WaitingRoom:Rooms:concert:MaxActive", "0", "WaitingRoom:Rooms:concert:MaxActive is 0;", "(e.g. 5000)")]
    [InlineData("WaitingRoom:Rooms:con.cert:Capacity", "100", "WaitingRoom:Rooms:con.cert: the room id must be", "(e.g. 'concert-2026')")]
    [InlineData("WaitingRoom:Rooms:concert:PrequeueFrom", "2026-12-24T09:00:00+09:00", "WaitingRoom:Rooms:concert:PrequeueFrom is set without OpensAt;", "(e.g. OpensAt \"2026-12-24T10:00:00+09:00\")")]
    [InlineData("WaitingRoom:Rooms:concert:ShuffleAtOpen", "true", "WaitingRoom:Rooms:concert:ShuffleAtOpen is true without PrequeueFrom", "(e.g. an hour before OpensAt)")]
    [InlineData("WaitingRoom:Rooms:concert:ProofOfWork:Difficulty", "0", "WaitingRoom:Rooms:concert:ProofOfWork:Difficulty is 0;", "(e.g. 15,")]
    [InlineData("WaitingRoom:Rooms:concert:ProofOfWork:Difficulty", "33", "WaitingRoom:Rooms:concert:ProofOfWork:Difficulty is 33;", "(e.g. 15,")]
    [InlineData("WaitingRoom:Rooms:concert:ProofOfWork:ChallengeTtl", "00:00:05", "WaitingRoom:Rooms:concert:ProofOfWork:ChallengeTtl is 00:00:05;", "(e.g. 00:02:00)")]
    [InlineData("WaitingRoom:Rooms:concert:ProofOfWork:AutoDifficulty:JoinsPerSecond", "-1", "WaitingRoom:Rooms:concert:ProofOfWork:AutoDifficulty:JoinsPerSecond is -1;", "(e.g. 200)")]
    [InlineData("WaitingRoom:Rooms:concert:ProofOfWork:AutoDifficulty:MaxDifficulty", "14", "WaitingRoom:Rooms:concert:ProofOfWork:AutoDifficulty:MaxDifficulty is 14;", "(e.g. 19)")]
    [InlineData("WaitingRoom:Rooms:concert:ProofOfWork:AutoDifficulty:Window", "00:20:00", "WaitingRoom:Rooms:concert:ProofOfWork:AutoDifficulty:Window is 00:20:00;", "(e.g. 00:00:10)")]
    [InlineData("WaitingRoom:Rooms:concert:Adaptive:Floor", "0", "WaitingRoom:Rooms:concert:Adaptive:Floor is 0;", "(e.g. 1)")]
    [InlineData("WaitingRoom:Rooms:concert:Adaptive:Floor", "1E-300", "WaitingRoom:Rooms:concert:Adaptive:Floor is 1E-300;", "it must be >= 0.0001")]
    [InlineData("WaitingRoom:Rooms:concert:Adaptive:IncreaseStep", "0", "WaitingRoom:Rooms:concert:Adaptive:IncreaseStep is 0;", "(e.g. 0.5)")]
    [InlineData("WaitingRoom:Rooms:concert:Adaptive:DecreaseFactor", "1", "WaitingRoom:Rooms:concert:Adaptive:DecreaseFactor is 1;", "(e.g. 0.9)")]
    [InlineData("WaitingRoom:Rooms:concert:Adaptive:TargetLatency", "00:00:00", "WaitingRoom:Rooms:concert:Adaptive:TargetLatency is 00:00:00;", "(e.g. 00:00:00.500)")]
    [InlineData("WaitingRoom:Rooms:concert:Adaptive:ErrorRatio", "0", "WaitingRoom:Rooms:concert:Adaptive:ErrorRatio is 0;", "(e.g. 0.02)")]
    [InlineData("WaitingRoom:Rooms:concert:Adaptive:ControlPeriod", "00:00:00.5", "WaitingRoom:Rooms:concert:Adaptive:ControlPeriod is 00:00:00.5000000;", "(e.g. 00:00:05)")]
    [InlineData("WaitingRoom:SigningKeys:0:Id", "key 1", "WaitingRoom:SigningKeys:0:Id must be 1-32 letters", "(e.g. 'k2026a')")]
    [InlineData("WaitingRoom:SigningKeys:0:Secret", "c2hvcnQ=", "WaitingRoom:SigningKeys:0:Secret must be base64 of at least 32 random bytes", "(make one with: openssl rand -base64 32)")]
    [InlineData("WaitingRoom:Identity:Keys:0:Id", "origin", "WaitingRoom:Identity:Keys:0:Secret must be base64 of at least 32 random bytes", "(make one with: openssl rand -base64 32)")]
    [InlineData("WaitingRoom:Identity:Required", "true", "WaitingRoom:Identity:Required is true but WaitingRoom:Identity:Keys is empty", "Add a key (Id and Secret, base64 of 32+ bytes) or set Required to false.")]
    [InlineData("WaitingRoom:Cookie:Secure", "5", "WaitingRoom:Cookie:Secure is 5;", "use Auto or Always.")]
    [InlineData("WaitingRoom:JoinsPerClientPerMinute", "-1", "WaitingRoom:JoinsPerClientPerMinute is -1;", "(e.g. 120)")]
    [InlineData("WaitingRoom:MaxPlacesPerClient", "-1", "WaitingRoom:MaxPlacesPerClient is -1;", "(e.g. 25)")]
    [InlineData("WaitingRoom:PollsPerClientPerMinute", "-1", "WaitingRoom:PollsPerClientPerMinute is -1;", "(e.g. 1200)")]
    [InlineData("WaitingRoom:MaintenanceInterval", "00:00:10", "WaitingRoom:MaintenanceInterval is 00:00:10;", "(e.g. 00:00:00.2)")]
    [InlineData("WaitingRoom:RetryAfter", "00:00:00", "WaitingRoom:RetryAfter is 00:00:00;", "(e.g. 00:00:05)")]
    public void ABadValue_FailsWithOneMessage_NamingItsKeyAndWhatToWrite(string key, string value, string failure, string fix)
    {
        var message = Assert.Single(Failures(new Dictionary<string, string?>(Valid) { [key] = value }));

        Assert.StartsWith(failure, message, StringComparison.Ordinal);
        Assert.Contains(fix, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PrequeueFrom", "2026-12-24T10:00:00+09:00", "OpensAt", "2026-12-24T10:00:00+09:00", "WaitingRoom:Rooms:concert:PrequeueFrom (2026-12-24T10:00:00.0000000+09:00) must be before OpensAt (2026-12-24T10:00:00.0000000+09:00).")]
    [InlineData("JoinsCloseAt", "2026-12-24T09:00:00+09:00", "OpensAt", "2026-12-24T10:00:00+09:00", "WaitingRoom:Rooms:concert:JoinsCloseAt (2026-12-24T09:00:00.0000000+09:00) must be after OpensAt (2026-12-24T10:00:00.0000000+09:00).")]
    public void InstantsOutOfOrder_FailNamingBoth(string key, string value, string otherKey, string otherValue, string expected)
    {
        var failures = Failures(Valid.Append(new("WaitingRoom:Rooms:concert:" + key, value)).Append(new("WaitingRoom:Rooms:concert:" + otherKey, otherValue)));

        Assert.Equal([expected], failures);
    }

    [Fact]
    public void AnAdaptiveFloorAboveTheRoomsRate_FailsOnlyWhileAdaptationIsOn()
    {
        var floor = Valid.Append(new("WaitingRoom:Rooms:concert:Adaptive:Floor", "50"));

        Assert.Empty(Failures(floor));
        var message = Assert.Single(Failures(floor.Append(new("WaitingRoom:Rooms:concert:Adaptive:Enabled", "true"))));
        Assert.StartsWith("WaitingRoom:Rooms:concert:Adaptive:Floor is 50; it must be >= 0.0001 and at most the room's RefillPerSecond (10)", message, StringComparison.Ordinal);
        Assert.Contains("(e.g. 1)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoSigningKeysWithOneId_FailNamingTheSecond()
    {
        var failures = Failures(Valid
            .Append(new("WaitingRoom:SigningKeys:1:Id", "k2026a"))
            .Append(new("WaitingRoom:SigningKeys:1:Secret", OtherSecret)));

        Assert.Equal(["WaitingRoom:SigningKeys:1:Id 'k2026a' is used twice; every key needs its own id."], failures);
    }

    private static string[] Failures(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        var configuration = Configuration(settings);
        return OptionsValidation.Failures(Validator(Environments.Production, configuration), Bind<WaitingRoomOptions>(configuration, WaitingRoomOptions.SectionName));
    }

    private static string[] Failures(WaitingRoomOptions options, string environment) =>
        OptionsValidation.Failures(Validator(environment, configuration: null), options);

    private static WaitingRoomOptionsValidator Validator(string environment, IConfiguration? configuration) =>
        new(new HostingEnvironment { EnvironmentName = environment }, configuration);
}
