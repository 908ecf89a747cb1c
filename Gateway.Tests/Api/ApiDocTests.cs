using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Admission.Api;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Api;

/// <summary>
/// docs/API.md is the project's copy of the contract: it names every endpoint the gateway maps, every error code
/// with the status the gateway answers it with, and every field of the queue API's answers. Kept true here.
/// </summary>
public sealed partial class ApiDocTests
{
    private static readonly string Doc = File.ReadAllText(Repo.File("docs", "API.md"));

    [Fact]
    public async Task ApiDoc_NamesEveryEndpointTheGatewayMaps()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, s =>
        {
            s["Admin:Keys:0:Id"] = "ops";
            s["Admin:Keys:0:Sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("secret"u8));
        });
        var endpoints = bed.Gateway.Services.GetServices<EndpointDataSource>().SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } path && (path.StartsWith("/api/v1/", StringComparison.Ordinal) || path.StartsWith("/admin/v1/", StringComparison.Ordinal)))
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (Method: m, Path: e.RoutePattern.RawText!)))
            .ToList();

        Assert.Contains(endpoints, e => e.Path == "/api/v1/queue/join");
        foreach (var (method, path) in endpoints)
        {
            var pattern = Regex.Escape(path).Replace("\\{", "\\{", StringComparison.Ordinal);
            Assert.True(Regex.IsMatch(Doc, $@"\b{method}\b[^\n]*{pattern}") || Regex.IsMatch(Doc, $@"{pattern}[^\n]*\b{method}\b"),
                $"docs/API.md does not name {method} {path}");
        }
    }

    [Fact]
    public void ApiDoc_ListsEveryErrorCode_UnderTheStatusTheGatewayAnswersWith()
    {
        foreach (var code in Enum.GetValues<ApiErrorCode>())
        {
            var name = ApiError.Name(code);
            var row = Doc.Split('\n').FirstOrDefault(l => l.StartsWith($"| {ApiError.StatusCode(code)} |", StringComparison.Ordinal));
            Assert.True(row is not null && row.Contains($"`{name}`", StringComparison.Ordinal), $"the error table lacks {name} under {ApiError.StatusCode(code)}");
        }
    }

    [Fact]
    public void ApiDoc_NamesEveryFieldOfTheQueueApisAnswers()
    {
        foreach (var type in new[] { typeof(JoinResponse), typeof(StatusResponse), typeof(EnterResponse), typeof(ErrorPayload) })
        {
            foreach (var property in type.GetProperties().Where(p => p.DeclaringType == type && p.Name != "EqualityContract"))
            {
                var field = JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);
                Assert.True(Doc.Contains($"`{field}`", StringComparison.Ordinal), $"docs/API.md does not name {type.Name}.{field}");
            }
        }
    }
}
