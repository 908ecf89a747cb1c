using System.Globalization;
using Microsoft.Net.Http.Headers;

namespace Gateway.Admission.Eta;

/// <summary>Human text for an estimate, in Korean or English (the default), chosen from Accept-Language.</summary>
internal static class EtaMessages
{
    /// <summary>True when Accept-Language ranks Korean above English (English is the default).</summary>
    public static bool PrefersKorean(string? acceptLanguage)
    {
        if (string.IsNullOrEmpty(acceptLanguage) || !StringWithQualityHeaderValue.TryParseList([acceptLanguage], out var languages))
            return false;
        foreach (var language in languages.OrderByDescending(l => l.Quality ?? 1.0))
        {
            if (language.Quality == 0)
                break;
            var tag = language.Value.AsSpan();
            if (tag.StartsWith("ko", StringComparison.OrdinalIgnoreCase))
                return true;
            if (tag.StartsWith("en", StringComparison.OrdinalIgnoreCase))
                return false;
        }
        return false;
    }

    /// <summary>The message for a person's standing: the one wording of the wait, shown by the page as is.</summary>
    internal static string For(Queue.Standing standing, bool korean) => standing.Status switch
    {
        Queue.StandingStatus.Ready => Ready(korean),
        Queue.StandingStatus.Admitted => Admitted(korean),
        Queue.StandingStatus.Prequeue => Prequeue(standing.Eta?.Seconds ?? 0, standing.InRandomOrder, korean),
        Queue.StandingStatus.Paused => Paused(korean),
        Queue.StandingStatus.Closed => Closed(korean),
        _ => standing.Eta is { } eta ? Waiting(eta, korean) : Degraded(korean),
    };

    public static string Waiting(EtaEstimate eta, bool korean) => korean
        ? $"약 {Duration(eta.Seconds, true)} 예상 (신뢰도: {ConfidenceWord(eta.Confidence, true)})"
        : $"About {Duration(eta.Seconds, false)} (confidence: {ConfidenceWord(eta.Confidence, false)})";

    public static string Ready(bool korean) => korean
        ? "지금 입장할 수 있습니다."
        : "It's your turn: you can enter now.";

    public static string Admitted(bool korean) => korean
        ? "입장이 완료되었습니다."
        : "You're in.";

    public static string Prequeue(long opensInSeconds, bool randomOrder, bool korean) => (opensInSeconds <= 0, randomOrder, korean) switch
    {
        (true, _, true) => "곧 대기 순서가 정해집니다. 잠시만 기다려 주세요.",
        (true, _, false) => "The line is being formed now; your place will show in a moment.",
        (false, true, true) => $"판매 시작까지 {Duration(opensInSeconds, true)} 남았습니다. 시작 시각에 사전 대기 중인 모든 분의 순서가 무작위로 정해집니다.",
        (false, true, false) => $"The sale opens in {Duration(opensInSeconds, false)}. At the opening, everyone waiting now gets a place in line in random order.",
        (false, false, true) => $"판매 시작까지 {Duration(opensInSeconds, true)} 남았습니다. 시작 시각에 사전 대기 중인 분들은 도착한 순서대로 대기열에 들어갑니다.",
        (false, false, false) => $"The sale opens in {Duration(opensInSeconds, false)}. At the opening, everyone waiting now gets a place in line in the order they came.",
    };

    public static string Paused(bool korean) => korean
        ? "입장이 잠시 멈췄습니다. 대기 순서는 그대로 유지됩니다."
        : "Admissions are paused for a moment. Your place in line is kept.";

    public static string Closed(bool korean) => korean
        ? "이 대기실은 종료되었습니다. 더 이상 입장할 수 없습니다."
        : "This waiting room has closed. Nobody more will be admitted.";

    public static string Degraded(bool korean) => korean
        ? "대기 순서는 그대로 유지됩니다. 잠시 후 다시 확인해 주세요."
        : "We're holding your place. Please retry shortly.";

    public static string ConfidenceWord(double confidence, bool korean) => confidence switch
    {
        >= 0.8 => korean ? "높음" : "high",
        >= 0.5 => korean ? "보통" : "medium",
        _ => korean ? "낮음" : "low",
    };

    /// <summary>
    /// A wait in words: seconds under a minute ("33 seconds"), whole minutes under an hour ("4 minutes"),
    /// hours and minutes to the nearest 5 minutes beyond ("1 hour 35 minutes"): no more precision than an
    /// estimate a few percent off can honestly claim.
    /// </summary>
    internal static string Duration(long seconds, bool korean)
    {
        var c = CultureInfo.InvariantCulture;
        if (seconds < 60)
        {
            seconds = Math.Max(seconds, 1);
            return korean ? string.Create(c, $"{seconds}초") : seconds == 1 ? "1 second" : string.Create(c, $"{seconds} seconds");
        }
        var minutes = (long)Math.Round(seconds / 60.0, MidpointRounding.AwayFromZero);
        if (minutes < 60)
            return korean ? string.Create(c, $"{minutes}분") : minutes == 1 ? "1 minute" : string.Create(c, $"{minutes} minutes");
        minutes = (long)Math.Round(minutes / 5.0, MidpointRounding.AwayFromZero) * 5;
        var (hours, rest) = (minutes / 60, minutes % 60);
        if (korean)
            return rest == 0 ? string.Create(c, $"{hours}시간") : string.Create(c, $"{hours}시간 {rest}분");
        var h = hours == 1 ? "1 hour" : string.Create(c, $"{hours} hours");
        return rest == 0 ? h : string.Create(c, $"{h} {rest} minutes");
    }
}
