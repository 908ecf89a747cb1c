using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Observability;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Hosting;

/// <summary>
/// A bug inside the pipeline (here: a route constraint that throws while routing matches the request) answers 500 in
/// the contract's error shape with the trace id and no stack trace, and the request metrics count it as the 500 the
/// client saw.
/// </summary>
[Trait("Category", "Fast")]
public sealed class UnhandledErrorsTests
{
    [Fact]
    public async Task ExceptionInThePipeline_Answers500InTheErrorShape_AndIsCountedAs500()
    {
        var route = "boom" + Guid.NewGuid().ToString("N")[..8];
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?>
        {
            [$"ReverseProxy:Routes:{route}:ClusterId"] = route,
            [$"ReverseProxy:Routes:{route}:Match:Path"] = "/" + route + "/{**rest:explodes}",
            [$"ReverseProxy:Clusters:{route}:Destinations:d1:Address"] = $"http://127.0.0.1:{RedisServer.FreePort()}/",
        }, configure: builder => builder.Services.Configure<RouteOptions>(o => o.SetParameterPolicy<Explodes>("explodes")));
        using var http = gateway.CreateClient();
        var before = await PrometheusText.ScrapeAsync(http);

        using var response = await http.GetAsync($"/{route}/anything");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        var error = JsonNode.Parse(body)!["error"]!;
        Assert.Equal("INTERNAL_ERROR", error["code"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f]{32}$", error["trace_id"]!.GetValue<string>());
        Assert.DoesNotContain(Explodes.Message, body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", body, StringComparison.Ordinal);

        // Routing threw before it chose an endpoint: the route label is "unmatched", shared by other tests in this process.
        var after = await PrometheusText.ScrapeAsync(http);
        static double Count(PrometheusText scrape, string code) => scrape.Sum("http_requests_received_total", "route=unmatched", "method=GET", "code=" + code);
        Assert.True(Count(after, "500") >= Count(before, "500") + 1, "the 500 is counted as a 500");
        Assert.Equal(Count(before, "200"), Count(after, "200"));
    }

    private sealed class Explodes : IRouteConstraint
    {
        public const string Message = "a bug the client must not read about";

        public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
            throw new InvalidOperationException(Message);
    }
}
