using System.Text.Json;

namespace Gateway.SampleBackends.Http;

/// <summary>Reads request bodies without the framework's empty 400 on bad JSON, so handlers answer with <see cref="ApiErrors"/>.</summary>
internal static class JsonBody
{
    /// <summary>The body as <typeparamref name="T"/>, or null when it is not JSON or does not parse.</summary>
    public static async Task<T?> TryReadAsync<T>(HttpContext context)
        where T : class
    {
        if (!context.Request.HasJsonContentType())
        {
            return null;
        }

        try
        {
            return await context.Request.ReadFromJsonAsync<T>(context.RequestAborted);
        }
        // Not JSON, or a charset the reader does not know ("application/json; charset=" or "charset=klingon").
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            return null;
        }
    }
}
