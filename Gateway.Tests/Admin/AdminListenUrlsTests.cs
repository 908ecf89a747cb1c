using Gateway.Admission.Hosting;
using Gateway.Proxy;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Admin;

/// <summary>
/// <c>Admin:Urls</c> adds listeners of its own; a port shared with the public URLs would put the admin API (and
/// the admin connection cap) on the public port, so the start refuses it, naming both.
/// </summary>
[Trait("Category", "Fast")]
public sealed class AdminListenUrlsTests
{
    [Theory]
    [InlineData("http://+:8081", "http://+:8080", "http://+:8080;http://+:8081")]
    [InlineData("http://127.0.0.1:8081;http://[::1]:8082", "http://localhost:5000", "http://localhost:5000;http://127.0.0.1:8081;http://[::1]:8082")]
    [InlineData(null, "http://+:8080", null)]
    public void AdminUrls_AreAddedToThePublicOnes(string? admin, string publicUrls, string? expected)
    {
        Assert.Equal(expected, WaitingRoomExtensions.AdminListenUrls(Settings(admin), publicUrls));
    }

    [Theory]
    [InlineData("http://+:8080", "http://+:8080")]
    [InlineData("http://127.0.0.1:8080", "https://localhost:8443;http://*:8080")]
    [InlineData("https://+:8443", "http://+:8080;https://+:8443")]
    public void AnAdminPortThePublicAlsoUses_IsRefused_NamingBoth(string admin, string publicUrls)
    {
        var error = Assert.Throws<InvalidOperationException>(() => WaitingRoomExtensions.AdminListenUrls(Settings(admin), publicUrls));

        Assert.StartsWith($"Admin:Urls has '{admin}', whose port ", error.Message, StringComparison.Ordinal);
        Assert.Contains("the public URL '", error.Message, StringComparison.Ordinal);
        Assert.Contains("(e.g. http://+:8081)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheGateway_DoesNotBuild_WithTheAdminOnThePublicPort()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            GatewayApp.Build(["--urls", "http://127.0.0.1:18080", "--Admin:Urls", "http://127.0.0.1:18080", "--environment", "Development", "--hostBuilder:reloadConfigOnChange=false"]));

        Assert.Equal("Admin:Urls has 'http://127.0.0.1:18080', whose port 18080 the public URL 'http://127.0.0.1:18080' uses too: the admin API would answer the public there and share its connection cap. Give the admin API a port of its own (e.g. http://+:8081).", error.Message);
    }

    private static IConfiguration Settings(string? adminUrls) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Admin:Urls"] = adminUrls }).Build();
}
