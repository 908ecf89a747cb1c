using Microsoft.AspNetCore.Routing;

namespace Gateway.Admission.Pages;

/// <summary>
/// <c>GET /waiting-room/leave-worker.js</c>: the service worker that gives a place back when the person
/// closes the waiting-room page. At <c>pagehide</c> a page cannot tell closing from reloading, so it hands
/// its token to this worker, which waits a few seconds and leaves only if no tab of that room has opened
/// again: a reload or a second tab keeps the place, a closed page frees it within seconds instead of after
/// the room's abandon timeout. The worker has no fetch handler, so it never touches other requests.
/// </summary>
internal static class LeaveWorker
{
    public const string Path = WaitingRoomPage.PathPrefix + "leave-worker.js";

    /// <summary>How long a closed page's place waits for the same room to open again (a reload) before it is given back.</summary>
    public const int GraceMilliseconds = 4000;

    private static readonly string Script = $$"""
        'use strict';
        self.addEventListener('install', () => self.skipWaiting());
        self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
        self.addEventListener('message', (event) => {
          const data = event.data || {};
          if (data.type !== 'leave' || typeof data.token !== 'string' || typeof data.page !== 'string') return;
          event.waitUntil(new Promise((resolve) => setTimeout(resolve, {{GraceMilliseconds}}))
            .then(() => self.clients.matchAll({ type: 'window', includeUncontrolled: true }))
            .then((open) => {
              if (open.some((client) => new URL(client.url).pathname === data.page)) return undefined;
              return fetch('/api/v1/queue/leave?token=' + encodeURIComponent(data.token), { method: 'POST', cache: 'no-store', credentials: 'same-origin', keepalive: true });
            })
            .catch(() => undefined));
        });

        """;

    public static void Map(IEndpointRouteBuilder endpoints) => PageScript.Map(endpoints, Path, Script);
}
