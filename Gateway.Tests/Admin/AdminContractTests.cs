using Gateway.Admission.Admin;
using Gateway.Admission.Queue;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Admin;

/// <summary>The admin API's docs and the scripts stay in step with the code.</summary>
public sealed class AdminContractTests
{
    [Fact]
    public async Task ApiDoc_AdminSection_NamesEveryAdminEndpointAndPatchField()
    {
        await using var gateway = await GatewayHost.StartAsync(null, Browser.PageTestConfig.Room());
        var doc = File.ReadAllText(RepoFile("docs", "API.md"));
        var section = doc[doc.IndexOf("## Admin API", StringComparison.Ordinal)..];
        var endpoints = gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith(AdminEndpoints.Prefix, StringComparison.Ordinal) == true)
            // The catch-all (any method, any other path: 404/405 in the error shape) is not an endpoint of the API.
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>() is not null)
            .Select(e => $"{e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods.Single()} {e.RoutePattern.RawText}")
            .ToList();

        Assert.Equal(5, endpoints.Count);
        Assert.All(endpoints, e => Assert.Contains("`" + e + "`", section, StringComparison.Ordinal));
        Assert.All(RoomPatch.Fields, f => Assert.Contains("`" + f.Api + "`", section, StringComparison.Ordinal));
        Assert.All(new[] { "Admin:Keys", "Admin:Urls", "Admin:FailedAttemptsPerClientPerMinute", "INVALID_VALUE", "INVALID_ADMISSION_TOKEN", "UNAUTHORIZED", "TOO_MANY_FAILED_ATTEMPTS" },
            s => Assert.Contains(s, section, StringComparison.Ordinal));
    }

    [Fact]
    public void ControlFields_OperatorsSet_AreAllReadByTheScripts()
    {
        var common = QueueScripts.Read("common.lua");

        Assert.All(ControlFields.Operator, field => Assert.Matches($@"ctl_number\('{field}'|CTL\.{field}\b", common));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8081", 8081)]
    [InlineData("http://+:8081", 8081)]
    [InlineData("https://*:9443", 9443)]
    [InlineData("http://[::1]:8081", 8081)]
    [InlineData("http://127.0.0.1:0", null)]
    [InlineData("127.0.0.1:8081", null)]
    [InlineData("ftp://127.0.0.1:21", null)]
    [InlineData("http://unix:/tmp/admin.sock", null)]
    [InlineData("garbage", null)]
    public void AdminUrl_Port_IsReadOnlyFromHttpUrlsWithAFixedPort(string url, int? port) =>
        Assert.Equal(port, AdminOptionsValidator.TryParsePort(url));

    [Theory]
    [InlineData("Bearer abc", "abc")]
    [InlineData("bearer  abc ", "abc")]
    [InlineData("Basic abc", null)]
    [InlineData("Bearer", null)]
    [InlineData("Bearer ", null)]
    [InlineData("abc", null)]
    public void BearerSecret_IsReadOnlyFromTheBearerScheme(string header, string? expected) =>
        Assert.Equal(expected, AdminAuthFilter.BearerSecret(header));

    private static string RepoFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Proxy.sln")))
                return Path.Combine([dir.FullName, .. parts]);
        }
        throw new InvalidOperationException("Proxy.sln not found above " + AppContext.BaseDirectory);
    }
}
