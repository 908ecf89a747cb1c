// The baseline the gateway is measured against (loadtest/run-benchmarks.sh): the same ReverseProxy section
// shape as Gateway.Proxy's appsettings.json, YARP's default pipeline, and no admission middleware, metrics
// or tracing, so the difference between the two is what the waiting room and its telemetry cost.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));

var app = builder.Build();
app.MapGet("/healthz", () => Results.Text("ok", "text/plain"));
app.MapReverseProxy();
await app.RunAsync();
