using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A client-side load balancer over gateway instances that follows readiness the way kube-proxy follows a
/// Service's endpoints: requests go round-robin to the instances whose <c>/readyz</c> answered 200 at the last
/// probe (every <see cref="ProbeInterval"/>; no answer within <see cref="ProbeTimeout"/> counts as not ready).
/// Requests name any base address (<see cref="Address"/>); the balancer sends them to the chosen instance and
/// records every answer (body read to the end) and every failure, so a test can count them afterwards.
/// </summary>
internal sealed class ReadinessBalancer : DelegatingHandler
{
    /// <summary>The base address requests through the balancer use; it never resolves.</summary>
    public static readonly Uri Address = new("http://balancer.invalid/");

    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(150);

    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);

    // With no instance ready a request waits for one, as a client retries a refused Service; this long at most.
    private static readonly TimeSpan NoneReadyWait = TimeSpan.FromSeconds(5);

    private readonly Endpoint[] _endpoints;
    private readonly HttpClient _probes = new(new SocketsHttpHandler { UseProxy = false, UseCookies = false, ActivityHeadersPropagator = null });
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<Outcome> _outcomes = new();
    private readonly ConcurrentQueue<Probe> _probeLog = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _probing = Task.CompletedTask;
    private int _next;

    public ReadinessBalancer(IReadOnlyDictionary<string, Uri> instances)
        : base(new SocketsHttpHandler { UseProxy = false, UseCookies = false, AllowAutoRedirect = false, ActivityHeadersPropagator = null }) =>
        _endpoints = instances.Select(i => new Endpoint(i.Key, i.Value)).ToArray();

    /// <summary>Time since the balancer was made: the clock of <see cref="Outcomes"/> and <see cref="Probes"/>.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    public IReadOnlyList<Outcome> Outcomes => [.. _outcomes];

    public IReadOnlyList<Probe> Probes => [.. _probeLog];

    /// <summary>Probes every instance once (so the ready ones take traffic at once), then keeps probing in the background.</summary>
    public async Task StartAsync()
    {
        await ProbeAllAsync();
        _probing = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(ProbeInterval, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                await ProbeAllAsync();
            }
        });
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = request.RequestUri!.AbsolutePath;
        var endpoint = await ChooseAsync();
        if (endpoint is null)
        {
            _outcomes.Enqueue(new Outcome("-", Elapsed, request.Method.Method, path, null, "no instance ready"));
            throw new HttpRequestException($"no instance was ready for {NoneReadyWait}");
        }
        request.RequestUri = new Uri(endpoint.BaseAddress, request.RequestUri.PathAndQuery);
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            // Read the whole body here: a connection closed mid-answer is a failure too.
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            _outcomes.Enqueue(new Outcome(endpoint.Name, Elapsed, request.Method.Method, path, (int)response.StatusCode, null));
            return response;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            _outcomes.Enqueue(new Outcome(endpoint.Name, Elapsed, request.Method.Method, path, null, Describe(ex)));
            throw;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Cancel();
            _probing.GetAwaiter().GetResult();
            _probes.Dispose();
            _stop.Dispose();
        }
        base.Dispose(disposing);
    }

    private async Task<Endpoint?> ChooseAsync()
    {
        var deadline = Elapsed + NoneReadyWait;
        while (true)
        {
            var ready = _endpoints.Where(e => e.Ready).ToArray();
            if (ready.Length > 0)
                return ready[(int)((uint)Interlocked.Increment(ref _next) % ready.Length)];
            if (Elapsed > deadline)
                return null;
            await Task.Delay(10);
        }
    }

    private Task ProbeAllAsync() => Task.WhenAll(_endpoints.Select(ProbeAsync));

    private async Task ProbeAsync(Endpoint endpoint)
    {
        using var timeout = new CancellationTokenSource(ProbeTimeout);
        try
        {
            using var response = await _probes.GetAsync(new Uri(endpoint.BaseAddress, "/readyz"), timeout.Token);
            endpoint.Ready = response.StatusCode == HttpStatusCode.OK;
            _probeLog.Enqueue(new Probe(endpoint.Name, Elapsed, (int)response.StatusCode, Refused: false, null));
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            endpoint.Ready = false;
            var refused = ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused };
            _probeLog.Enqueue(new Probe(endpoint.Name, Elapsed, null, refused, Describe(ex)));
        }
    }

    private static string Describe(Exception ex) =>
        ex.InnerException is null ? $"{ex.GetType().Name}: {ex.Message}" : $"{ex.GetType().Name}: {ex.Message} ({Describe(ex.InnerException)})";

    /// <summary>One request through the balancer: the instance it went to, when it ended, and its status or error.</summary>
    public sealed record Outcome(string Instance, TimeSpan At, string Method, string Path, int? Status, string? Error)
    {
        public bool Failed => Error is not null || Status >= 500;

        public override string ToString() => $"{At.TotalSeconds:F2}s {Instance} {Method} {Path}: {(Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Error)}";
    }

    /// <summary>One readiness probe: its status, or that the connection was refused (the instance stopped listening) or failed otherwise.</summary>
    public sealed record Probe(string Instance, TimeSpan At, int? Status, bool Refused, string? Error);

    private sealed class Endpoint(string name, Uri baseAddress)
    {
        private volatile bool _ready;

        public string Name { get; } = name;

        public Uri BaseAddress { get; } = baseAddress;

        public bool Ready
        {
            get => _ready;
            set => _ready = value;
        }
    }
}
