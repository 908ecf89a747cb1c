using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.Admission.Pages;

/// <summary>Serves one of the page's own scripts (its workers) from the gateway's origin.</summary>
internal static class PageScript
{
    public static void Map(IEndpointRouteBuilder endpoints, string path, string script) =>
        endpoints.MapGet(path, (HttpContext context) =>
        {
            var headers = context.Response.Headers;
            // Browsers check a service worker for updates on their own; no-cache makes them see a new one at once.
            headers.CacheControl = "no-cache";
            headers.XContentTypeOptions = "nosniff";
            context.Response.ContentType = "text/javascript; charset=utf-8";
            return context.Response.WriteAsync(script, context.RequestAborted);
        });
}
