using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gateway.Admission.Gate;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Gate;

/// <summary>
/// Whatever Cookie headers a client sends, <see cref="AdmissionTransforms.WithoutOurCookies"/> never throws and the
/// header a backend receives carries none of the gateway's cookies under any spelling the gateway itself reads
/// (ASP.NET Core matches cookie names ignoring case), while every other cookie reaches the backend.
/// </summary>
[Properties(Arbitrary = [typeof(HostileInput), typeof(AdmissionTransformsPropertyTests)], MaxTest = 5_000, Replay = "2026120114,1208070915")]
[Trait("Category", "Fast")]
public sealed class AdmissionTransformsPropertyTests
{
    private static readonly string[] Names =
    [
        "wr_id", "WR_ID", "Wr_Id", "wr_adm_concert", "WR_ADM_CONCERT", "wr_adm_Concert", "Wr_Adm_concert", "wr_adm_", "wr_adm_x", " wr_id", "wr_id ",
        "wr_idx", "xwr_id", "wr_ad", "session", "a", "theme", "wr", "__Host-x",
    ];

    public static Arbitrary<CookieHeaders> Headers() => Arb.From(
        from count in Gen.Choose(1, 3)
        from values in Gen.ArrayOf(HeaderValue(), count)
        select new CookieHeaders(values));

    [Property]
    public void AnyCookieHeaders_NeverThrow(HostileString first, HostileString second) =>
        Assert.NotNull(AdmissionTransforms.WithoutOurCookies([first.Value, second.Value]));

    [Property]
    public void TheForwardedHeader_CarriesNoneOfOurCookies_AndKeepsEveryOther(CookieHeaders headers)
    {
        var forwarded = AdmissionTransforms.WithoutOurCookies(headers.Values);

        var seenByGateway = Cookies(headers.Values);
        var seenByBackend = Cookies([forwarded]);
        Assert.DoesNotContain(seenByBackend.Keys, IsOurs);
        foreach (var (name, values) in seenByGateway.Where(c => !IsOurs(c.Key)))
        {
            Assert.True(seenByBackend.TryGetValue(name, out var forwardedValues), $"cookie {HostileInput.Describe(name)} was not forwarded");
            Assert.Equal(values, forwardedValues);
        }
    }

    [Fact]
    public void OurCookies_InAnyCase_AreRemoved_AndOthersKept() =>
        Assert.Equal("a=1; theme=dark", AdmissionTransforms.WithoutOurCookies(["a=1; WR_ADM_concert=t; wr_id=x", "Wr_Id=y;theme=dark"]));

    private static bool IsOurs(string name) =>
        name.StartsWith("wr_adm_", StringComparison.OrdinalIgnoreCase) || name.Equals(CallerIdentity.CookieName, StringComparison.OrdinalIgnoreCase);

    /// <summary>The cookies as ASP.NET Core reads them (the gate's and a backend's view), each name with all its values.</summary>
    private static Dictionary<string, List<string>> Cookies(IEnumerable<string> headerValues)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = headerValues.ToArray();
        var cookies = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in context.Request.Cookies)
        {
            if (!cookies.TryGetValue(name, out var values))
                cookies[name] = values = [];
            values.Add(value);
        }
        return cookies;
    }

    private static Gen<string> HeaderValue() =>
        from count in Gen.Choose(0, 6)
        from parts in Gen.ArrayOf(Part(), count)
        from separator in Gen.Elements("; ", ";", " ; ", ";;", ", ")
        select string.Join(separator, parts);

    private static Gen<string> Part() => Gen.Frequency(
        (8, from name in Gen.Elements(Names)
            from value in Gen.Frequency((3, HostileInput.Base64UrlText(40)), (1, HostileInput.Text()), (1, Gen.Elements("", "\"quoted\"", "a=b", "=", "\"")))
            select name + "=" + value),
        (1, HostileInput.Text()),
        (1, Gen.Elements(Names)));

    public sealed record CookieHeaders(string[] Values)
    {
        public override string ToString() => string.Join(" | ", Values.Select(HostileInput.Describe));
    }
}
