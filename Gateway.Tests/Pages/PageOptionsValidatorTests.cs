using Gateway.Admission.Pages;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Hosting.Internal;
using static Gateway.Tests.Infrastructure.OptionsValidation;

namespace Gateway.Tests.Pages;

/// <summary>
/// <c>WaitingRoom:Page</c> (docs/WAITING-ROOM-PAGE.md, "Branding through configuration"): every bad value fails
/// validation with one message that names its full key and says what to write instead; a template file is read
/// and parsed, relative to the content root; the defaults and good branding pass.
/// </summary>
[Trait("Category", "Fast")]
public sealed class PageOptionsValidatorTests : IDisposable
{
    private const string ATemplate = """<style nonce="{{nonce}}"></style><script type="application/json" id="wr-config">{{config}}</script><script nonce="{{nonce}}"></script>""";

    private readonly DirectoryInfo _contentRoot = Directory.CreateTempSubdirectory("wr-page-options-");

    public static TheoryData<string, string, string, string> BadValues => new()
    {
        { "PrimaryColor", "red", "WaitingRoom:Page:PrimaryColor is 'red';", "(e.g. #1d4ed8)" },
        { "PrimaryColor", "#fff;}body{display:none", "WaitingRoom:Page:PrimaryColor is '#fff;}body{display:none';", "(e.g. #1d4ed8)" },
        { "BackgroundColor", "#12345", "WaitingRoom:Page:BackgroundColor is '#12345';", "(e.g. #eef2f7)" },
        { "Title", new string('x', 201), "WaitingRoom:Page:Title is 201 characters;", "keep it to 200 or fewer." },
        { "Heading", new string('x', 201), "WaitingRoom:Page:Heading is 201 characters;", "keep it to 200 or fewer." },
        { "Text", new string('x', 2001), "WaitingRoom:Page:Text is 2001 characters;", "keep it to 2000 or fewer." },
        { "LogoUrl", "javascript:alert(1)", "WaitingRoom:Page:LogoUrl must be a path on this gateway (e.g. /static/logo.svg),", "(e.g. https://cdn.example.com/logo.png)" },
        { "LogoUrl", "//cdn.example.com/logo.png", "WaitingRoom:Page:LogoUrl must be", "(e.g. https://cdn.example.com/logo.png)" },
        { "LogoUrl", "http://cdn.example.com/logo.png", "WaitingRoom:Page:LogoUrl must be", "(e.g. https://cdn.example.com/logo.png)" },
        { "LogoUrl", "https://user:secret@cdn.example.com/logo.png", "WaitingRoom:Page:LogoUrl must be", "(e.g. https://cdn.example.com/logo.png)" },
        { "LogoUrl", "data:text/html;base64,PGgxPg==", "WaitingRoom:Page:LogoUrl must be", "data:image/png;base64,... URI" },
        { "TemplatePath", "/no/such/template.html", "WaitingRoom:Page:TemplatePath: there is no file at '/no/such/template.html'.", "or remove the key to use the built-in page." },
    };

    public void Dispose() => _contentRoot.Delete(recursive: true);

    [Fact]
    public void TheDefaults_Pass() => Assert.Empty(Failures([]));

    [Fact]
    public void GoodBranding_AndATemplateRelativeToTheContentRoot_Pass()
    {
        File.WriteAllText(Path.Combine(_contentRoot.FullName, "room.html"), ATemplate);

        Assert.Empty(Failures(
        [
            new("WaitingRoom:Page:Title", "Concert <2026> & \"more\""),
            new("WaitingRoom:Page:Text", new string('x', 2000)),
            new("WaitingRoom:Page:PrimaryColor", "#7C3AED"),
            new("WaitingRoom:Page:BackgroundColor", "#fff"),
            new("WaitingRoom:Page:LogoUrl", "https://static.example.com/logo.svg"),
            new("WaitingRoom:Page:TemplatePath", "room.html"),
        ]));
        Assert.Empty(Failures([new("WaitingRoom:Page:LogoUrl", "/static/logo.svg")]));
        Assert.Empty(Failures([new("WaitingRoom:Page:LogoUrl", "data:image/png;base64,iVBORw0KGgo=")]));
    }

    [Theory]
    [InlineData("https://static.example.com/logo.svg", "https://static.example.com")]
    [InlineData("https://static.example.com:8443/a/logo.svg?v=1", "https://static.example.com:8443")]
    [InlineData("https://티켓.kr/logo.png", "https://xn--7f7br4e.kr")]
    [InlineData("https://EXÄMPLE.com/logo.png", "https://xn--exmple-cua.com")]
    [InlineData("https://[2001:db8::1]:444/logo.png", "https://[2001:db8::1]:444")]
    public void AnHttpsLogo_AddsItsOriginToTheCsp_InAscii(string url, string origin)
    {
        Assert.True(PageOptionsValidator.TryLogoSource(url, out var source));
        Assert.Equal(origin, source);
        Assert.True(System.Text.Ascii.IsValid(source));
        Assert.Empty(Failures([new("WaitingRoom:Page:LogoUrl", url)]));
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public void ABadValue_FailsWithOneMessage_NamingItsKeyAndWhatToWrite(string key, string value, string failure, string fix)
    {
        var message = Assert.Single(Failures([new("WaitingRoom:Page:" + key, value)]));

        Assert.StartsWith(failure, message, StringComparison.Ordinal);
        Assert.Contains(fix, message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATemplateFileThatIsNotAValidTemplate_FailsWithItsPathAndWhatToFix()
    {
        var path = Path.Combine(_contentRoot.FullName, "room.html");
        File.WriteAllText(path, "<html>{{config}}</html>");

        var message = Assert.Single(Failures([new("WaitingRoom:Page:TemplatePath", "room.html")]));

        Assert.StartsWith($"WaitingRoom:Page:TemplatePath ('{path}'): the template lacks {{{{nonce}}}}:", message, StringComparison.Ordinal);
    }

    private string[] Failures(KeyValuePair<string, string?>[] settings) =>
        OptionsValidation.Failures(
            new PageOptionsValidator(new HostingEnvironment { ContentRootPath = _contentRoot.FullName }),
            Bind<PageOptions>(Configuration(settings), PageOptions.SectionName));
}
