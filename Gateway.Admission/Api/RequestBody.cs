using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Gateway.Admission.Api;

/// <summary>
/// Reads the small bodies of the queue API safely: at most <see cref="MaxBytes"/>, refused before reading
/// when declared larger and as soon as a chunked body goes past it (413), only the media types an
/// endpoint accepts (415), never a form parser or a temp file, never an exception for malformed input.
/// </summary>
internal static class RequestBody
{
    public const int MaxBytes = 4096;

    // Data plus chunk framing: a chunk of one byte costs up to 7 bytes of framing ("1\r\n" + data + "\r\n"), more with extensions.
    private const int ChunkedLimit = 16 * MaxBytes;

    /// <summary>Reads a JSON body of type <typeparamref name="T"/>, or explains why not (the error result to answer with).</summary>
    public static async Task<(T? Value, IResult? Error)> ReadJsonAsync<T>(HttpContext context, JsonTypeInfo<T> type, string example) where T : class
    {
        if (!IsJson(context.Request.ContentType))
            return (null, ApiError.Result(ApiErrorCode.UnsupportedMediaType, "Send the body as application/json, e.g. " + example + "."));
        var (bytes, error) = await ReadAsync(context);
        if (error is not null)
            return (null, error);
        try
        {
            var value = bytes.Length == 0 ? null : JsonSerializer.Deserialize(bytes, type);
            return value is null
                ? (null, ApiError.Result(ApiErrorCode.InvalidRequest, "The body must be a JSON object like " + example + "."))
                : (value, null);
        }
        catch (JsonException)
        {
            return (null, ApiError.Result(ApiErrorCode.InvalidRequest, "The body must be a JSON object like " + example + "."));
        }
    }

    /// <summary>Reads the raw body (at most <see cref="MaxBytes"/>).</summary>
    public static async Task<(byte[] Bytes, IResult? Error)> ReadAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength > MaxBytes)
            return ([], TooLarge(context));
        // Kestrel itself stops a larger body (and will not drain one after the answer). A chunked body's limit has room
        // for its framing, which Kestrel counts too: a 4 KiB body in small chunks is within the contract's 4 KiB, and
        // the loop below still stops reading after MaxBytes + 1 bytes of data.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = request.ContentLength is null ? ChunkedLimit : MaxBytes + 1;
        var buffer = ArrayPool<byte>.Shared.Rent(MaxBytes + 1);
        try
        {
            var total = 0;
            while (total <= MaxBytes)
            {
                int read;
                try
                {
                    read = await request.Body.ReadAsync(buffer.AsMemory(total, MaxBytes + 1 - total), context.RequestAborted);
                }
                catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    return ([], TooLarge(context));
                }
                catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status408RequestTimeout)
                {
                    // Below Kestrel:Limits:MinRequestBodyDataRate after its grace period (a body trickled to hold the connection).
                    context.Response.Headers.Connection = "close";
                    return ([], ApiError.Result(ApiErrorCode.InvalidRequest, "The request body arrived too slowly; send it at once."));
                }
                catch (IOException) when (!context.RequestAborted.IsCancellationRequested)
                {
                    // Broken framing (a malformed or overflowing chunk size, a body that ends before its declared length):
                    // Kestrel throws BadHttpRequestException, or a plain IOException for a chunk size that overflows.
                    context.Response.Headers.Connection = "close";
                    return ([], ApiError.Result(ApiErrorCode.InvalidRequest, "The request body could not be read: its framing is malformed or it ended early."));
                }
                if (read == 0)
                    return (buffer[..total], null);
                total += read;
            }
            return ([], TooLarge(context));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>True for application/json (with any parameters, e.g. charset).</summary>
    public static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media) && media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);

    private static IResult TooLarge(HttpContext context)
    {
        // The rest of the body is never read: this connection cannot carry another request.
        context.Response.Headers.Connection = "close";
        return ApiError.Result(ApiErrorCode.PayloadTooLarge, $"Queue API bodies are at most {MaxBytes} bytes.");
    }
}
