using Gateway.Admission.Diagnostics;
using Gateway.Admission.Queue;
using Gateway.Admission.Storage;
using Gateway.Admission.Tokens;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Admission.Gate;

/// <summary>
/// YARP transforms on every route: the admission (header <c>X-Admission-Token</c>, cookies <c>wr_adm_*</c>)
/// and the identity cookie never reach a backend; a backend's <c>X-Waiting-Room-Command: revoke</c> ends the
/// caller's admission on every instance and never reaches the client.
/// </summary>
internal sealed class AdmissionTransforms(QueueService queue, ILogger<AdmissionTransforms> logger) : ITransformProvider
{
    public const string CommandHeader = "X-Waiting-Room-Command";

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        context.AddRequestTransform(transform =>
        {
            var headers = transform.ProxyRequest.Headers;
            headers.Remove(WaitingRoomGate.HeaderName);
            if (headers.TryGetValues("Cookie", out var cookies))
            {
                var kept = WithoutOurCookies(cookies);
                headers.Remove("Cookie");
                if (kept.Length > 0)
                    headers.TryAddWithoutValidation("Cookie", kept);
            }
            return ValueTask.CompletedTask;
        });
        context.AddResponseTransform(async transform =>
        {
            var response = transform.HttpContext.Response;
            if (!response.Headers.TryGetValue(CommandHeader, out var command))
                return;
            response.Headers.Remove(CommandHeader);
            if (!SaysRevoke(command) || transform.HttpContext.Features.Get<GateAdmission>() is not { } admission)
                return;
            try
            {
                await queue.RevokeAsync(admission.Room, admission.AdmissionId, "origin");
                Log.OriginRevoked(logger, admission.Room.Id);
            }
            catch (StoreUnavailableException ex)
            {
                // This instance stops honouring it already; the others learn it once the store is back (the origin may repeat).
                Log.MaintenanceFailed(logger, admission.Room.Id, ex.Message);
            }
        });
    }

    /// <summary>
    /// True when any value of the command header, or any item of a comma-separated list in one (HTTP's way of folding a
    /// repeated header), is <c>revoke</c> in any case: a backend that sends the command twice, or beside another one,
    /// still ends the admission.
    /// </summary>
    internal static bool SaysRevoke(StringValues command)
    {
        foreach (var value in command)
        {
            foreach (var item in (value ?? "").Split(',', StringSplitOptions.TrimEntries))
            {
                if (string.Equals(item, "revoke", StringComparison.OrdinalIgnoreCase))
                    return true;
            }
        }
        return false;
    }

    /// <summary>The Cookie header without the gateway's own cookies (<c>wr_adm_*</c>, <c>wr_id</c>, in any case).</summary>
    internal static string WithoutOurCookies(IEnumerable<string> headerValues)
    {
        var kept = new List<string>();
        foreach (var value in headerValues)
        {
            foreach (var part in value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = part.IndexOf('=', StringComparison.Ordinal);
                var name = (equals >= 0 ? part.AsSpan(0, equals) : part.AsSpan()).Trim();
                // ASP.NET Core reads cookie names ignoring case, so the gate honours WR_ADM_<room> too: strip every spelling.
                if (name.StartsWith("wr_adm_", StringComparison.OrdinalIgnoreCase) || name.Equals(CallerIdentity.CookieName, StringComparison.OrdinalIgnoreCase))
                    continue;
                kept.Add(part);
            }
        }
        return string.Join("; ", kept);
    }
}
