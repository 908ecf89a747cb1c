using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.PowSolver;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Browser;

/// <summary>
/// The waiting room with proof of work on, in a real headless Chromium: the page fetches a challenge, solves it
/// in its Web Worker (WebCrypto; the worker's own SHA-256 where WebCrypto is missing), shows and announces the
/// check, joins with the solution, and fetches a fresh challenge when the gateway says the first one expired.
/// </summary>
[Collection(BrowserTests.Collection)]
public sealed class ProofOfWorkBrowserTests(ChromiumFixture chromium)
{
    private const int Bits = 12;

    // Records every state the page passes through, every text the live region speaks and every message shown.
    private const string Recorder = """
        window.__seen = { states: [], live: [], messages: [] };
        document.addEventListener('DOMContentLoaded', () => {
          const main = document.getElementById('wr');
          const live = document.getElementById('wr-live');
          const message = document.getElementById('wr-message');
          new MutationObserver(() => {
            const s = window.__seen;
            if (s.states[s.states.length - 1] !== main.dataset.state) s.states.push(main.dataset.state);
            if (live.textContent && s.live[s.live.length - 1] !== live.textContent) s.live.push(live.textContent);
            if (message.textContent && s.messages[s.messages.length - 1] !== message.textContent) s.messages.push(message.textContent);
          }).observe(document.body, { subtree: true, attributes: true, childList: true, characterData: true });
        });
        """;

    [Fact]
    public async Task WaitingRoom_WithProofOfWork_SolvesInAWorker_ShowsTheCheck_AndJoinsWithTheSolution()
    {
        await using var gateway = await GatewayHost.StartAsync(null, Settings());
        using var client = gateway.CreateClient();
        await JoinWithSolutionAsync(client); // takes the one token: the browser waits behind

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, "en-US");
        var page = browser.Page;
        await page.AddInitScriptAsync(Recorder);
        var joins = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Url.EndsWith("/api/v1/queue/join", StringComparison.Ordinal))
                lock (joins)
                    joins.Add(request.PostData ?? "");
        };

        await page.GotoAsync(new Uri(gateway.BaseAddress, "/waiting-room/concert").ToString());

        Assert.Equal(1, await BrowserPage.PositionAsync(page));
        var body = JsonNode.Parse(Assert.Single(joins))!;
        var challenge = body["pow"]!["challenge"]!.GetValue<string>();
        Assert.StartsWith("1.concert.12.", challenge, StringComparison.Ordinal);
        Assert.True(ProofOfWorkSolver.IsSolution(challenge, body["pow"]!["nonce"]!.GetValue<string>(), Bits));

        using var seen = JsonDocument.Parse(await page.EvaluateAsync<string>("() => JSON.stringify(window.__seen)"));
        var states = seen.RootElement.GetProperty("states").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.True(states.IndexOf("checking") >= 0 && states.IndexOf("checking") < states.IndexOf("waiting"), "states: " + string.Join(", ", states));
        Assert.Contains(seen.RootElement.GetProperty("messages").EnumerateArray(), m => m.GetString()!.StartsWith("A quick check that keeps ticket bots out", StringComparison.Ordinal) && m.GetString()!.EndsWith("%)", StringComparison.Ordinal));
        Assert.Contains(seen.RootElement.GetProperty("live").EnumerateArray(), m => m.GetString()!.StartsWith("A quick check", StringComparison.Ordinal)); // announced once, politely
        browser.AssertNoScriptErrors();
    }

    [Fact]
    public async Task WaitingRoom_WhenTheGatewaySaysTheChallengeExpired_FetchesAFreshOneAndJoins()
    {
        await using var gateway = await GatewayHost.StartAsync(null, Settings());
        using var client = gateway.CreateClient();
        await JoinWithSolutionAsync(client);

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, "ko-KR");
        var page = browser.Page;
        var challenges = 0;
        var joins = 0;
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("/api/v1/queue/challenge?", StringComparison.Ordinal))
                Interlocked.Increment(ref challenges);
        };
        // The first join is answered as if the solve had taken too long; the rest reach the gateway.
        await page.RouteAsync("**/api/v1/queue/join", async route =>
        {
            if (Interlocked.Increment(ref joins) == 1)
                await route.FulfillAsync(new() { Status = 400, ContentType = "application/json", Body = """{"error":{"code":"CHALLENGE_EXPIRED","message":"expired","trace_id":"t"}}""" });
            else
                await route.ContinueAsync();
        });

        await page.GotoAsync(new Uri(gateway.BaseAddress, "/waiting-room/concert").ToString());

        Assert.Equal(1, await BrowserPage.PositionAsync(page));
        Assert.Equal(2, Volatile.Read(ref joins));
        Assert.Equal(2, Volatile.Read(ref challenges));
        browser.AssertNoScriptErrors();
    }

    [Fact]
    public async Task PowWorker_WithAndWithoutWebCrypto_FindsNoncesTheReferenceSolverAccepts()
    {
        await using var gateway = await GatewayHost.StartAsync(null, Settings());
        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, "en-US");
        var page = browser.Page;
        await page.GotoAsync(new Uri(gateway.BaseAddress, "/healthz").ToString());

        foreach (var webCrypto in new[] { true, false })
        {
            foreach (var (challenge, bits) in new[] { ("1.concert.12.1790000000.AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB", 12), ("x", 9), (new string('c', 150), 10) })
            {
                var solved = await page.EvaluateAsync<JsonElement>("""
                    ([challenge, difficulty, webCrypto]) => new Promise((resolve, reject) => {
                      // Without WebCrypto (as on a page served over plain http): hide it, then load the real worker.
                      const source = webCrypto ? '/waiting-room/pow-worker.js' : URL.createObjectURL(new Blob([
                        "Object.defineProperty(self, 'crypto', { value: undefined }); importScripts('" + location.origin + "/waiting-room/pow-worker.js');"]));
                      const worker = new Worker(source);
                      worker.onmessage = (event) => { if (event.data.type !== 'progress') { worker.terminate(); resolve(event.data); } };
                      worker.onerror = (event) => reject(new Error(event.message));
                      worker.postMessage({ challenge, difficulty });
                    })
                    """, new object[] { challenge, bits, webCrypto });

                Assert.Equal("solved", solved.GetProperty("type").GetString());
                Assert.Equal(webCrypto, solved.GetProperty("webCrypto").GetBoolean());
                var nonce = solved.GetProperty("nonce").GetString()!;
                Assert.True(ProofOfWorkSolver.IsSolution(challenge, nonce, bits), $"{nonce} for {challenge} at {bits} bits (WebCrypto: {webCrypto})");
                // The first solution, as the reference solver counts: no nonce was skipped or misjudged.
                Assert.Equal(ProofOfWorkSolver.Solve(challenge, bits).Nonce, nonce);
            }
        }
        browser.AssertNoScriptErrors();
    }

    private static Dictionary<string, string?> Settings() => PageTestConfig.Room(capacity: 1, refill: 0.01, extra: new Dictionary<string, string?>
    {
        ["WaitingRoom:Rooms:concert:ProofOfWork:Enabled"] = "true",
        ["WaitingRoom:Rooms:concert:ProofOfWork:Difficulty"] = "12",
    });

    private static async Task JoinWithSolutionAsync(HttpClient client)
    {
        var challenge = (await client.GetFromJsonAsync<JsonObject>("/api/v1/queue/challenge?event_id=concert"))!;
        var text = challenge["challenge"]!.GetValue<string>();
        var (nonce, _) = ProofOfWorkSolver.Solve(text, challenge["difficulty"]!.GetValue<int>());
        using var response = await client.PostAsJsonAsync("/api/v1/queue/join", new { event_id = "concert", pow = new { challenge = text, nonce } });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }
}
