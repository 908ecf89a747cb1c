using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Tokens;

/// <summary>
/// The keys of the token unit tests: the tests' signing key, a second (rotated-out) key that still verifies, and
/// an identity key the operator's origin would sign user tokens with.
/// </summary>
internal static class TestKeys
{
    public const string IdentityKeyId = "origin";

    /// <summary>32 bytes the origin signs user tokens with (never used outside tests).</summary>
    public static readonly byte[] IdentitySecret = "test-identity-key-test-identity!"u8.ToArray();

    public static WaitingRoomOptions Options() => new()
    {
        SigningKeys =
        [
            new SigningKeyOptions { Id = "test", Secret = TestConfig.TestSecret },
            new SigningKeyOptions { Id = "old", Secret = Convert.ToBase64String("an-older-key-that-still-verifies"u8) },
        ],
        Identity = new IdentityOptions { Keys = [new SigningKeyOptions { Id = IdentityKeyId, Secret = Convert.ToBase64String(IdentitySecret) }] },
    };

    public static StaticOptionsMonitor<WaitingRoomOptions> Monitor() => new(Options());

    public static KeyRing Ring() => new(Monitor(), NullLogger<KeyRing>.Instance);
}
