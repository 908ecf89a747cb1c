namespace Gateway.SampleBackends.Hosting;

/// <summary>One sample service: its name and the API it serves under its path prefix.</summary>
internal interface IBackendService
{
    /// <summary>Name used in <see cref="SampleBackendsApp.Stats"/> and in <c>GET /</c>, e.g. <c>reservation</c>.</summary>
    string Name { get; }

    /// <summary>Path prefix of the API, e.g. <c>/api/reservations</c>; the gateway routes on it and forwards paths unchanged.</summary>
    string PathPrefix { get; }

    /// <summary>Maps the service's API endpoints, all under <see cref="PathPrefix"/>.</summary>
    void MapEndpoints(IEndpointRouteBuilder routes);
}
