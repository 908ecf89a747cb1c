using Gateway.Admission.Eta;

namespace Gateway.Tests.Eta;

[Trait("Category", "Fast")]
public sealed class EtaMessagesTests
{
    [Theory]
    [InlineData("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", true)]
    [InlineData("ko", true)]
    [InlineData("en-US,en;q=0.9,ko;q=0.8", false)]
    [InlineData("en;q=0.5, ko;q=0.9", true)]
    [InlineData("fr-FR, ko;q=0.5", true)]
    [InlineData("ko;q=0, en", false)]
    [InlineData("fr-FR", false)]
    [InlineData("*", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("garbage;;;q=x", false)]
    public void PrefersKorean_FollowsAcceptLanguageRanking(string? header, bool korean)
    {
        Assert.Equal(korean, EtaMessages.PrefersKorean(header));
    }

    [Fact]
    public void Waiting_TheOriginalsExample_InKoreanAndEnglish()
    {
        var eta = new EtaEstimate(33, 0.8);

        Assert.Equal("약 33초 예상 (신뢰도: 높음)", EtaMessages.Waiting(eta, korean: true));
        Assert.Equal("About 33 seconds (confidence: high)", EtaMessages.Waiting(eta, korean: false));
    }

    [Fact]
    public void Prequeue_SaysRandomOrderOnlyWhenTheOpeningShuffles()
    {
        Assert.Equal("The sale opens in 5 minutes. At the opening, everyone waiting now gets a place in line in random order.",
            EtaMessages.Prequeue(300, randomOrder: true, korean: false));
        Assert.Equal("The sale opens in 5 minutes. At the opening, everyone waiting now gets a place in line in the order they came.",
            EtaMessages.Prequeue(300, randomOrder: false, korean: false));
        Assert.Contains("무작위", EtaMessages.Prequeue(300, randomOrder: true, korean: true), StringComparison.Ordinal);
        Assert.Contains("도착한 순서대로", EtaMessages.Prequeue(300, randomOrder: false, korean: true), StringComparison.Ordinal);
        Assert.Equal("The line is being formed now; your place will show in a moment.", EtaMessages.Prequeue(0, randomOrder: true, korean: false));
    }

    [Theory]
    [InlineData(0, "1초", "1 second")]
    [InlineData(1, "1초", "1 second")]
    [InlineData(59, "59초", "59 seconds")]
    [InlineData(60, "1분", "1 minute")]
    [InlineData(89, "1분", "1 minute")]
    [InlineData(90, "2분", "2 minutes")]
    [InlineData(150, "3분", "3 minutes")]
    [InlineData(3569, "59분", "59 minutes")]
    [InlineData(3600, "1시간", "1 hour")]
    [InlineData(5700, "1시간 35분", "1 hour 35 minutes")]
    [InlineData(5820, "1시간 35분", "1 hour 35 minutes")]
    [InlineData(7200, "2시간", "2 hours")]
    [InlineData(9000, "2시간 30분", "2 hours 30 minutes")]
    public void Duration_SecondsMinutesAndHours_ReadNaturally(long seconds, string korean, string english)
    {
        Assert.Equal(korean, EtaMessages.Duration(seconds, korean: true));
        Assert.Equal(english, EtaMessages.Duration(seconds, korean: false));
    }

    [Theory]
    [InlineData(0.95, "높음", "high")]
    [InlineData(0.8, "높음", "high")]
    [InlineData(0.79, "보통", "medium")]
    [InlineData(0.5, "보통", "medium")]
    [InlineData(0.2, "낮음", "low")]
    public void ConfidenceWord_Tiers(double confidence, string korean, string english)
    {
        Assert.Equal(korean, EtaMessages.ConfidenceWord(confidence, korean: true));
        Assert.Equal(english, EtaMessages.ConfidenceWord(confidence, korean: false));
    }

    [Fact]
    public void Waiting_LongWait_InHoursAndMinutes()
    {
        var eta = new EtaEstimate(5700, 0.6);

        Assert.Equal("약 1시간 35분 예상 (신뢰도: 보통)", EtaMessages.Waiting(eta, korean: true));
        Assert.Equal("About 1 hour 35 minutes (confidence: medium)", EtaMessages.Waiting(eta, korean: false));
    }
}
