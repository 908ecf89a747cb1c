using System.Text.RegularExpressions;
using Gateway.Admission.Pages;

namespace Gateway.Tests.Pages;

/// <summary>
/// A page template (docs/WAITING-ROOM-PAGE.md, "Your own page"): <c>{{name}}</c> placeholders from a fixed set,
/// <c>{{nonce}}</c> and <c>{{config}}</c> required, anything else a start-up error that says what to fix; start-up
/// values bound once, per-request values at every place the template names them, values inserted as given.
/// </summary>
[Trait("Category", "Fast")]
public sealed partial class PageTemplateTests
{
    private const string Minimal = """<style nonce="{{nonce}}"></style><script type="application/json" id="wr-config">{{config}}</script><script nonce="{{nonce}}"></script>""";

    private static readonly PageTemplate.RequestValues Request = new("N0nce", "ko", "concert", """{"event_id":"concert"}""");

    [GeneratedRegex("<(script|style)\\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineTag();

    [Fact]
    public void Render_PutsThisResponsesNonce_WhereverTheTemplateAsksForIt()
    {
        var template = Parse(Minimal);

        Assert.Equal(
            """<style nonce="first"></style><script type="application/json" id="wr-config">{}</script><script nonce="first"></script>""",
            template.Render(Request with { Nonce = "first", Config = "{}" }));
        Assert.Equal(
            """<style nonce="second"></style><script type="application/json" id="wr-config">{}</script><script nonce="second"></script>""",
            template.Render(Request with { Nonce = "second", Config = "{}" }));
    }

    [Fact]
    public void BuiltInPage_HasTheNonceOnEveryInlineScriptAndStyle_AndTheConfigInItsJsonBlock()
    {
        using var stream = typeof(PageTemplate).Assembly.GetManifestResourceStream("Gateway.Admission.Pages.waiting-room.html")!;
        var html = Parse(new StreamReader(stream).ReadToEnd()).Render(Request);

        var tags = InlineTag().Matches(html).Select(m => m.Value).ToArray();
        Assert.Equal(["""<style nonce="N0nce">""", """<script type="application/json" id="wr-config">""", """<script nonce="N0nce">"""], tags);
        Assert.Contains("""<script type="application/json" id="wr-config">{"event_id":"concert"}</script>""", html, StringComparison.Ordinal);
        Assert.Contains("""<html lang="ko">""", html, StringComparison.Ordinal);
        Assert.DoesNotContain("{{", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""<script nonce="{{nonce}}"></script>""", "{{config}}")]
    [InlineData("""<script type="application/json" id="wr-config">{{config}}</script>""", "{{nonce}}")]
    [InlineData("<html><body>No placeholders</body></html>", "{{nonce}} and {{config}}")]
    public void AMissingRequiredPlaceholder_IsAnError_SayingWhatToPutWhere(string html, string missing)
    {
        Assert.False(PageTemplate.TryParse(html, out var template, out var error));

        Assert.Null(template);
        Assert.StartsWith($"the template lacks {missing}: ", error, StringComparison.Ordinal);
        Assert.Contains("""nonce="{{nonce}}" on every inline <script> and <style>""", error, StringComparison.Ordinal);
        Assert.Contains("""<script type="application/json" id="wr-config">{{config}}</script>""", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{colour}}", "{{colour}}")]
    [InlineData("{{Nonce}}", "{{Nonce}}")]
    [InlineData("{{ eventid }}", "{{eventid}}")]
    public void AnUnknownPlaceholder_IsAnError_NamingItAndEveryKnownOne(string placeholder, string named)
    {
        Assert.False(PageTemplate.TryParse(Minimal + placeholder, out _, out var error));

        Assert.StartsWith($"{named} is not a placeholder; the known ones are ", error, StringComparison.Ordinal);
        Assert.All(PageTemplate.Names, name => Assert.Contains("{{" + name + "}}", error, StringComparison.Ordinal));
    }

    [Fact]
    public void Placeholders_MayHaveSpacesInsideTheBraces_AndAppearAnyNumberOfTimes()
    {
        var template = Parse("{{ nonce }}|{{nonce}}|{{config}}|{{  lang\t}}|{{lang}}|{{event_id}}");

        Assert.Equal("""N0nce|N0nce|{"event_id":"concert"}|ko|ko|concert""", template.Render(Request));
    }

    [Fact]
    public void TextBetweenPlaceholders_IsKeptExactly()
    {
        const string Around = "<p>{ nonce } {{}} }} 대기실 &amp; \"quoted\"\n</p>";

        Assert.Equal(Around + "N0nce" + Around + "{}" + Around, Parse(Around + "{{nonce}}" + Around + "{{config}}" + Around).Render(Request with { Config = "{}" }));
    }

    [Fact]
    public void Bind_PutsTheStartUpValuesEverywhere_AsGiven_AndLeavesTheRestToRender()
    {
        var template = Parse("<title>{{title}}</title><h1>{{title}}</h1>{{logo}}<p>{{text}}</p>" + Minimal);

        var bound = template.Bind(new Dictionary<string, string>
        {
            ["title"] = "Tickets &amp; more",
            ["logo"] = """<img class="logo" src="/logo.svg" alt="">""",
        });

        Assert.Equal(
            """<title>Tickets &amp; more</title><h1>Tickets &amp; more</h1><img class="logo" src="/logo.svg" alt=""><p></p>""" +
            """<style nonce="N0nce"></style><script type="application/json" id="wr-config">{}</script><script nonce="N0nce"></script>""",
            bound.Render(Request with { Config = "{}" }));
    }

    [Fact]
    public void ATemplateOfTheLimit_Parses_AndOneCharacterMore_IsAnErrorNamingTheLimit()
    {
        var atLimit = Minimal + new string('x', PageTemplate.MaxLength - Minimal.Length);

        Assert.True(PageTemplate.TryParse(atLimit, out _, out _));
        Assert.False(PageTemplate.TryParse(atLimit + "x", out _, out var error));
        Assert.Equal($"the template is {PageTemplate.MaxLength + 1} characters; keep it under {PageTemplate.MaxLength}.", error);
    }

    private static PageTemplate Parse(string html)
    {
        Assert.True(PageTemplate.TryParse(html, out var template, out var error), error);
        return template;
    }
}
