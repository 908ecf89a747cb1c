using System.Net;
using Gateway.SampleBackends;

namespace Gateway.Demo;

/// <summary><c>GET /</c> in the demo: where a newcomer lands from the README, with every URL worth trying.</summary>
internal static class LandingPage
{
    public static void Map(WebApplication app, string url, SampleBackendsApp backends) =>
        app.MapGet("/", (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
            return Results.Content(Html(url, backends), "text/html; charset=utf-8");
        });

    private static string Html(string url, SampleBackendsApp backends)
    {
        string Link(string path, string text) => $"<li><a href=\"{WebUtility.HtmlEncode(path)}\">{WebUtility.HtmlEncode(text)}</a></li>";
        return $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Waiting-room gateway demo</title>
            <style>body{max-width:720px;margin:40px auto;padding:0 16px;font:16px/1.6 system-ui,sans-serif;color:#111827}code{background:#f3f4f6;padding:2px 4px;border-radius:4px}a{color:#1d4ed8}</style></head>
            <body><main>
            <h1>Waiting-room gateway demo</h1>
            <p>A YARP gateway with a virtual waiting room, in front of three sample backends, on the embedded store.
            The room <code>concert</code> admits 10 people a second (burst 100) to the gated routes below.</p>
            <h2>Try it</h2>
            <ul>
            {{Link("/api/inventory/events/concert/seats", "A gated page: you are sent to the waiting room, admitted in turn, then land on the inventory service's answer")}}
            {{Link("/waiting-room/concert?return=/api/inventory/events/concert/seats", "The waiting room itself")}}
            {{Link("/api/reservations", "Another gated API (JSON callers get 429 ADMISSION_REQUIRED with the join URL)")}}
            </ul>
            <h2>Operate it</h2>
            <ul>
            {{Link("/metrics", "Prometheus metrics")}}
            {{Link("/healthz", "Liveness")}}
            {{Link("/readyz", "Readiness (the store answers)")}}
            </ul>
            <p>The queue API: <code>POST /api/v1/queue/join</code>, <code>GET /api/v1/queue/status?token=</code>,
            <code>POST /api/v1/queue/enter</code>, <code>DELETE /api/v1/queue/leave?token=</code> (docs/API.md).</p>
            <p>Backends behind the gateway: {{WebUtility.HtmlEncode($"{backends.ReservationUrl} {backends.InventoryUrl} {backends.PaymentUrl}")}}.
            Gateway: {{WebUtility.HtmlEncode(url)}}.</p>
            </main></body></html>
            """;
    }
}
