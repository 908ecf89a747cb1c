using Gateway.Admission.Hosting;

namespace Gateway.Proxy.Diagnostics;

/// <summary>
/// The outermost step of the pipeline after the request metrics: a bug anywhere answers 500 in the contract's error shape, with the
/// trace id and nothing else (no stack trace, in any environment), and logs the exception once.
/// </summary>
internal sealed class UnhandledErrors(RequestDelegate next, ILogger<UnhandledErrors> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && ex is not OperationCanceledException)
        {
            GatewayErrors.LogUnhandled(logger, ex, context.Request.Method, context.Request.Path);
            if (context.Response.HasStarted)
                throw;
            context.Response.Clear();
            await GatewayErrors.WriteInternalErrorAsync(context);
        }
    }
}
