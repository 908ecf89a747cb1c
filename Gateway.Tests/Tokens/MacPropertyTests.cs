using System.Buffers.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Tokens;

/// <summary>
/// The primitives under every token: <see cref="SafeBase64Url.TryDecode"/> never throws and accepts exactly the
/// canonical spelling of some bytes; <see cref="Mac.Verify"/> never throws and accepts a MAC only for the input it
/// was computed for.
/// </summary>
[Properties(Arbitrary = [typeof(HostileInput), typeof(MacPropertyTests)], MaxTest = 5_000, Replay = "2026120110,1208070907")]
[Trait("Category", "Fast")]
public sealed class MacPropertyTests
{
    private static readonly byte[][] Keys = TestKeys.Ring().Current.Places;

    public static Arbitrary<Bytes> RandomBytes() => Arb.From(
        from length in Gen.Choose(0, 100)
        from seed in Gen.Choose(0, int.MaxValue - 1)
        select new Bytes(Fill(length, seed)));

    [Property]
    public void Base64Url_AnyStringIntoAnyBuffer_NeverThrows_AndDecodesOnlyTheCanonicalSpellingOfItsBytes(HostileString text, byte bufferSize)
    {
        var destination = new byte[bufferSize];
        if (!SafeBase64Url.TryDecode(text.Value, destination, out var written))
            return;
        Assert.InRange(written, 0, destination.Length);
        Assert.Equal(text.Value, Base64Url.EncodeToString(destination.AsSpan(0, written)));
    }

    [Property]
    public void Base64Url_TheEncodingOfAnyBytes_DecodesToThem(Bytes bytes)
    {
        var text = Base64Url.EncodeToString(bytes.Value);
        var destination = new byte[Base64Url.GetMaxDecodedLength(text.Length)];
        Assert.True(SafeBase64Url.TryDecode(text, destination, out var written));
        Assert.Equal(bytes.Value, destination[..written]);
    }

    [Property]
    public void Verify_AnyInputWithAnyMac_IsRefused_WithoutThrowing(HostileString input, HostileString mac) =>
        Assert.False(Mac.Verify(Keys, input.Value, mac.Value));

    [Property]
    public void Verify_AMac_PassesForItsOwnInput_AndForNoOther(HostileString input, HostileString other)
    {
        var text = input.Value.Length > 256 ? input.Value[..256] : input.Value;
        if (!System.Text.Ascii.IsValid(text))
        {
            // A MAC is defined over ASCII text only (what the gateway MACs: room ids, base64url ids).
            Assert.Throws<ArgumentException>(() => Mac.Compute(Keys[0], text));
            return;
        }
        var mac = Mac.Compute(Keys[0], text);
        Assert.True(Mac.Verify(Keys, text, mac));
        Assert.True(Mac.Verify([.. Keys.Reverse()], text, mac));
        if (other.Value != text)
            Assert.False(Mac.Verify(Keys, other.Value, mac));
    }

    [Property]
    public void Verify_AMac_PassesForNoOneCharacterEditOfItsInput(HostileString input, HostileString character, PositiveInt where)
    {
        var text = new string(input.Value.Where(char.IsAscii).Take(255).ToArray());
        var mac = Mac.Compute(Keys[0], text);
        var at = text.Length == 0 ? 0 : where.Get % text.Length;
        var replacement = character.Value.Length == 0 ? "\u00e9" : character.Value[..1];
        var edited = text.Length == 0 ? replacement : text.Remove(at, 1).Insert(at, replacement);
        if (edited != text)
            Assert.False(Mac.Verify(Keys, edited, mac));
    }

    private static byte[] Fill(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public sealed record Bytes(byte[] Value)
    {
        public override string ToString() => Convert.ToHexString(Value);
    }
}
