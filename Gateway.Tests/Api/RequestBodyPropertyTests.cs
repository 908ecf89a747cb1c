using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gateway.Admission.Api;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Api;

/// <summary>Any <c>Content-Type</c> a client sends: <see cref="RequestBody.IsJson"/> never throws and says yes only to application/json.</summary>
[Properties(Arbitrary = [typeof(HostileInput), typeof(RequestBodyPropertyTests)], MaxTest = 5_000, Replay = "2026120113,1208070913")]
[Trait("Category", "Fast")]
public sealed class RequestBodyPropertyTests
{
    public static Arbitrary<ContentType> ContentTypes() => Arb.From(
        from type in Gen.Elements("application/json", "APPLICATION/JSON", "application/jsonp", "application/json+x", "application/problem+json", "text/json",
            "text/plain", "multipart/form-data", "application/x-www-form-urlencoded", "application/", "/json", "", " application/json", "application /json")
        from count in Gen.Choose(0, 3)
        from parameters in Gen.ArrayOf(Gen.Frequency(
            (3, Gen.Elements("charset=utf-8", "charset=\"utf-8\"", "boundary=x", "charset=", "=", "q=0.5", ";", "charset=\u00e9")),
            (1, HostileInput.Text())), count)
        select new ContentType(string.Join("; ", [type, .. parameters])));

    [Property]
    public void AnyContentType_IsJsonOnlyWhenItsMediaTypeIsApplicationJson(HostileString contentType) => Check(contentType.Value);

    [Property]
    public void ContentTypesNearApplicationJson_AreJsonOnlyWhenTheyAre(ContentType contentType) => Check(contentType.Value);

    [Fact]
    public void NoContentType_IsNotJson() => Assert.False(RequestBody.IsJson(null));

    private static void Check(string contentType)
    {
        // The header parser tolerates whitespace around the '/' ("application /json"), which is still JSON.
        if (RequestBody.IsJson(contentType))
            Assert.StartsWith("application/json", string.Concat(contentType.Where(c => !char.IsWhiteSpace(c))), StringComparison.OrdinalIgnoreCase);
    }

    public sealed record ContentType(string Value)
    {
        public override string ToString() => HostileInput.Describe(Value);
    }
}
