using System.Reflection;
using Gateway.Demo;
using Gateway.Proxy;
using Gateway.SampleBackends;

// The main job in one command: the three sample backends on 127.0.0.1:5101-5103 and the gateway on
// http://127.0.0.1:5000 over the embedded store, using Gateway.Proxy/appsettings.json (edits reload live).
// Development by default: an ephemeral admission-token key, readable logs. Never use this host in production.
var proxyDir = typeof(LandingPage).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
    .First(a => a.Key == "GatewayProxyDir").Value!;
var url = args.SkipWhile(a => a != "--urls").Skip(1).FirstOrDefault() ?? "http://127.0.0.1:5000";
var environment = args.Contains("--environment") ? [] : new[] { "--environment", "Development" };

await using var backends = await SampleBackendsApp.StartAsync(new SampleBackendsOptions());
var gateway = GatewayApp.Build([.. args, .. environment, "--contentRoot", Path.GetFullPath(proxyDir)], builder => builder.WebHost.UseUrls(url));
LandingPage.Map(gateway, url, backends);
await gateway.StartAsync();

Console.WriteLine($"""

    Waiting-room gateway demo is running (embedded store, single instance).
      Start here:     {url}/
      Waiting room:   {url}/waiting-room/concert?return=/api/inventory/events/concert/seats
      Gated APIs:     {url}/api/inventory/events/concert/seats  {url}/api/reservations  {url}/api/payments
      Metrics:        {url}/metrics    Health: {url}/healthz  {url}/readyz
      Backends:       {backends.ReservationUrl} {backends.InventoryUrl} {backends.PaymentUrl}
    Routes and rooms reload from {Path.GetFullPath(Path.Combine(proxyDir, "appsettings.json"))}. Ctrl+C stops.

    """);
await gateway.WaitForShutdownAsync();
