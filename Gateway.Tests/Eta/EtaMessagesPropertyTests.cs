using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gateway.Admission.Eta;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Eta;

/// <summary>Any <c>Accept-Language</c>: <see cref="EtaMessages.PrefersKorean"/> never throws, and picks Korean exactly when the client ranks it above English.</summary>
[Properties(Arbitrary = [typeof(HostileInput), typeof(EtaMessagesPropertyTests)], MaxTest = 5_000, Replay = "2026120115,1208070917")]
[Trait("Category", "Fast")]
public sealed class EtaMessagesPropertyTests
{
    public static Arbitrary<Ranking> Rankings() => Arb.From(
        from korean in Gen.Choose(1, 1000)
        from english in Gen.Choose(1, 1000)
        from koreanTag in Gen.Elements("ko", "ko-KR", "KO", "ko-kr")
        from englishTag in Gen.Elements("en", "en-US", "EN-gb")
        from koreanFirst in Gen.Elements(true, false)
        select new Ranking(koreanTag, korean / 1000.0, englishTag, english / 1000.0, koreanFirst));

    [Property]
    public void AnyAcceptLanguage_NeverThrows(HostileString acceptLanguage) => EtaMessages.PrefersKorean(acceptLanguage.Value);

    [Property]
    public void Korean_IsChosen_WhenRankedAboveEnglish(Ranking ranking)
    {
        var expected = ranking.Korean > ranking.English || (ranking.Korean == ranking.English && ranking.KoreanFirst);
        Assert.Equal(expected, EtaMessages.PrefersKorean(ranking.Header));
    }

    public sealed record Ranking(string KoreanTag, double Korean, string EnglishTag, double English, bool KoreanFirst)
    {
        public string Header
        {
            get
            {
                var ko = string.Create(CultureInfo.InvariantCulture, $"{KoreanTag};q={Korean:0.###}");
                var en = string.Create(CultureInfo.InvariantCulture, $"{EnglishTag};q={English:0.###}");
                return KoreanFirst ? ko + ", " + en : en + ", " + ko;
            }
        }

        public override string ToString() => Header;
    }
}
