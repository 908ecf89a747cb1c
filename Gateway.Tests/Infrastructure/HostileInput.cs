using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Gateway.Tests.Infrastructure;

/// <summary>A string a broken or hostile client might send. Printed escaped and shortened, so a counterexample reads in a test log.</summary>
public sealed record HostileString(string Value)
{
    public override string ToString() => HostileInput.Describe(Value);
}

/// <summary>
/// FsCheck generators of hostile text for the parsers (<c>[Property(Arbitrary = [typeof(HostileInput)])]</c>): any
/// UTF-16 (lone surrogates included), control characters, non-ASCII look-alikes (fullwidth and Arabic-Indic
/// digits, Korean, emoji, zero-width), strings in the base64url alphabet of every length mod 4, strings heavy in
/// the token separators '.' and '|', dotted shapes like <c>abc.def</c>, known nasty literals, and huge strings
/// (up to 70,000 characters). The text is drawn from a seed FsCheck chooses, so a property replays exactly from
/// its <c>Replay</c> seed; a counterexample shrinks by halves and by single characters.
/// </summary>
public static class HostileInput
{
    public const string Base64UrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private static readonly string[] Literals =
    [
        "", " ", ".", "..", "...", "a.", ".a", "abc.def", "a.b.c", "a.b.c.d", "|", "||||", "a|b|c|d|e", "2|r|a|1|k", "1||||", "2|||||",
        "=", "====", "A", "AA", "AAA", "AAAA", "AAAAA", "AA==", "A===", "%00", "\0", "\r\n", "\t", "null", "{}", "[]", "\"\"", "0", "-1",
        "99999999999999999999999999", "-0", "1e309", "NaN", "ey.ey.ey", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJIUzI1NiJ9..",
        "\u0130", "k\u0131", "\ufeff", "\u200b", "\ud800", "\udc00", "\ud83d\ude00", "\uffff", "\u0660\u0661", "\uff10\uff11",
        "concert", "concert.", ".concert", "concert..", "wr_adm_concert", "wr_id", "wr_id=", "=wr_id", ";", ";;;", "a=b; c", "*", "*/*",
        "application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/jsonx", "application/json;;", "application/",
        "ko", "ko-KR", "en", "ko;q=0", "ko;q=1.5", "ko;q=-1", "ko;q=NaN", "*;q=0.5", ",,,", "ko,en;q=1e400",
    ];

    private static readonly string[] NonAscii =
    [
        "\u00e9", "\u00df", "\u0130", "\u0131", "\u03a3", "\u0660", "\u0669", "\u06f5", "\u0966", "\uff10", "\uff41", "\uff0e", "\uff5c",
        "\u2024", "\u2215", "\u200b", "\u200d", "\u202e", "\ufeff", "\ufffd", "\uffff", "\ud800", "\udfff", "\ud83d\ude00", "\ud83c\uddf0\ud83c\uddf7",
        "\uac00", "\ud55c", "\uad6d", "\uc5b4", "\u3042", "\u4e2d", "\u00a0", "\u2028", "\u0085",
    ];

    /// <summary>The default hostile strings, for properties taking a <see cref="HostileString"/>.</summary>
    public static Arbitrary<HostileString> Strings() => Arb.From(Text().Select(s => new HostileString(s)), h => Shrink(h.Value).Select(s => new HostileString(s)));

    /// <summary>Hostile text of every kind, mostly short, sometimes huge.</summary>
    public static Gen<string> Text() => Gen.Frequency(
        (3, Drawn(0, 64, AnyChar)),
        (2, Drawn(0, 64, Ascii)),
        (3, Drawn(0, 130, Base64UrlChar)),
        (3, Drawn(0, 130, SeparatorHeavy)),
        (2, Drawn(0, 64, NonAsciiPiece)),
        (3, Dotted()),
        (1, Drawn(1_000, 70_000, Mixed)),
        (2, Gen.Elements(Literals)));

    /// <summary>Text in the base64url alphabet only, of every length from 0 to <paramref name="max"/> (so every length mod 4).</summary>
    public static Gen<string> Base64UrlText(int max) => Drawn(0, max, Base64UrlChar);

    /// <summary>Segments of hostile text joined by '.' (and sometimes '|'): <c>abc.def</c>, <c>a..b</c>, <c>room.place.mac</c> look-alikes.</summary>
    public static Gen<string> Dotted() =>
        from count in Gen.Choose(1, 6)
        from segments in Gen.ArrayOf(Gen.Frequency((4, Drawn(0, 30, Base64UrlChar)), (1, Drawn(0, 12, SeparatorHeavy)), (1, Drawn(0, 8, NonAsciiPiece)), (1, Drawn(0, 8, AnyChar))), count)
        from separator in Gen.Elements(".", ".", ".", "|", "..")
        select string.Join(separator, segments);

    /// <summary>Text of a length in [<paramref name="min"/>, <paramref name="max"/>] drawn piece by piece from a seed FsCheck chooses.</summary>
    public static Gen<string> Drawn(int min, int max, Action<Random, StringBuilder> piece) =>
        from length in Gen.Choose(min, max)
        from seed in Gen.Choose(0, int.MaxValue - 1)
        select Build(length, seed, piece);

    /// <summary>Smaller versions of a counterexample: halves, then one character fewer at either end.</summary>
    public static IEnumerable<string> Shrink(string value)
    {
        if (value.Length == 0)
            yield break;
        yield return "";
        if (value.Length > 1)
        {
            yield return value[..(value.Length / 2)];
            yield return value[(value.Length / 2)..];
            yield return value[1..];
            yield return value[..^1];
        }
    }

    /// <summary>The value escaped (\uXXXX for anything not printable ASCII) and, when long, shortened with its length.</summary>
    public static string Describe(string value)
    {
        var shown = value.Length > 160 ? value[..120] : value;
        var text = new StringBuilder("\"");
        foreach (var c in shown)
        {
            if (c is >= ' ' and < '\u007f' and not '"' and not '\\')
                text.Append(c);
            else
                text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
        }
        text.Append('"');
        if (shown.Length < value.Length)
            text.Append(CultureInfo.InvariantCulture, $"... ({value.Length} chars)");
        return text.ToString();
    }

    public static void AnyChar(Random random, StringBuilder text) => text.Append((char)random.Next(0, 0x10000));

    public static void Ascii(Random random, StringBuilder text) => text.Append((char)random.Next(0, 0x80));

    public static void Base64UrlChar(Random random, StringBuilder text) => text.Append(Base64UrlAlphabet[random.Next(Base64UrlAlphabet.Length)]);

    public static void SeparatorHeavy(Random random, StringBuilder text)
    {
        switch (random.Next(10))
        {
            case < 4:
                text.Append('.');
                break;
            case < 6:
                text.Append('|');
                break;
            case 6:
                text.Append("=+/ :;,%"[random.Next(8)]);
                break;
            default:
                Base64UrlChar(random, text);
                break;
        }
    }

    public static void NonAsciiPiece(Random random, StringBuilder text) => text.Append(NonAscii[random.Next(NonAscii.Length)]);

    private static void Mixed(Random random, StringBuilder text)
    {
        switch (random.Next(5))
        {
            case 0:
                AnyChar(random, text);
                break;
            case 1:
                Ascii(random, text);
                break;
            case 2:
                SeparatorHeavy(random, text);
                break;
            case 3:
                NonAsciiPiece(random, text);
                break;
            default:
                Base64UrlChar(random, text);
                break;
        }
    }

    private static string Build(int length, int seed, Action<Random, StringBuilder> piece)
    {
        var random = new Random(seed);
        var text = new StringBuilder(length + 2);
        while (text.Length < length)
            piece(random, text);
        return text.ToString();
    }
}
