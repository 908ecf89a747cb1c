using Gateway.Admission.Gate;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Gate;

/// <summary>Which unadmitted requests are a browser's navigation (302 to the waiting room) rather than an API call (429).</summary>
[Trait("Category", "Fast")]
public sealed class AcceptsHtmlTests
{
    [Theory]
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true)] // a browser's navigation
    [InlineData("TEXT/HTML", true)]
    [InlineData("application/json, text/html;q=0.1", true)]
    [InlineData("text/html;q=0, application/json", false)] // HTML named only to be refused
    [InlineData("text/html;q=0.0", false)]
    [InlineData("text/htmlfoo", false)]
    [InlineData("application/json", false)]
    [InlineData("*/*", false)]
    [InlineData("", false)]
    [InlineData(";;;,,,text/", false)]
    public void Accept(string accept, bool html)
    {
        var context = new DefaultHttpContext();
        if (accept.Length > 0)
            context.Request.Headers.Accept = accept;

        Assert.Equal(html, WaitingRoomGate.AcceptsHtml(context.Request));
    }

    [Fact]
    public void NoAcceptHeader_IsNotHtml() => Assert.False(WaitingRoomGate.AcceptsHtml(new DefaultHttpContext().Request));
}
