using Gateway.Proxy;

await GatewayApp.Build(args).RunAsync();
