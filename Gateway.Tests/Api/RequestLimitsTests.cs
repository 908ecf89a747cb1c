using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Api;

/// <summary>
/// The queue API's bodies are small and read safely (CONTRACT v2): at most 4 KiB, refused before being read
/// (413), JSON only on join and enter (415), never a form parser, a temp file or a 500.
/// </summary>
public sealed class RequestLimitsTests
{
    [Theory]
    [InlineData("/api/v1/queue/join")]
    [InlineData("/api/v1/queue/enter")]
    [InlineData("/api/v1/queue/leave")]
    public async Task Body_DeclaredOver4KiB_Is413PayloadTooLarge(string path)
    {
        await using var bed = await GatewayTestBed.StartAsync(null);

        using var response = await bed.Client.Http.PostAsync(path, new StringContent(new string(' ', 4097) + "{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("\"PAYLOAD_TOO_LARGE\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DELETE")]
    [InlineData("POST")]
    public async Task Leave_WithTheTokenInTheQuery_AndABodyOver4KiB_Is413_AndThePlaceIsKept(string method)
    {
        await using var bed = await GatewayTestBed.StartAsync(null, capacity: 1, refill: 0.001);
        var token = (await bed.Client.JoinAsync(bed.Room, "someone")).Body["waiting_token"]!.GetValue<string>();

        using var request = new HttpRequestMessage(new HttpMethod(method), "/api/v1/queue/leave?token=" + Uri.EscapeDataString(token))
        {
            Content = new ByteArrayContent(new byte[9000]),
        };
        using var response = await bed.Client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("\"PAYLOAD_TOO_LARGE\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await bed.Client.StatusAsync(token)).Status);
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(64)]
    public async Task ChunkedBody_Of4KiB_InSmallChunks_IsAccepted(int chunkSize)
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var json = $$"""{"event_id":"{{bed.Room}}"}""";
        var body = Encoding.UTF8.GetBytes(json + new string(' ', 4096 - json.Length));

        using var content = new ChunkedContent(body, chunkSize);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await bed.Client.Http.PostAsync("/api/v1/queue/join", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>A body of unknown length (so HttpClient sends it chunked), written <c>chunkSize</c> bytes at a time.</summary>
    private sealed class ChunkedContent(byte[] body, int chunkSize) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var i = 0; i < body.Length; i += chunkSize)
            {
                await stream.WriteAsync(body.AsMemory(i, Math.Min(chunkSize, body.Length - i)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task ChunkedBodyOf25MB_IsRefusedAfter4KiB_WithoutWaitingForTheRest()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(bed.Gateway.BaseAddress.Host, bed.Gateway.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /api/v1/queue/leave HTTP/1.1\r\nHost: {bed.Gateway.BaseAddress.Authority}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"));

        // Send up to 25 MB in 64 KiB chunks while watching for the answer: it must come long before the end.
        var chunk = Encoding.ASCII.GetBytes(new string('a', 65536));
        var header = Encoding.ASCII.GetBytes("10000\r\n");
        var clock = Stopwatch.StartNew();
        var sent = 0L;
        var reading = ReadHeadAsync(stream);
        try
        {
            while (sent < 25L * 1024 * 1024 && !reading.IsCompleted)
            {
                await stream.WriteAsync(header);
                await stream.WriteAsync(chunk);
                await stream.WriteAsync("\r\n"u8.ToArray());
                sent += chunk.Length;
            }
        }
        catch (IOException)
        {
            // The gateway closed the connection after answering: exactly what it should do.
        }
        var head = await reading.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("HTTP/1.1 413", head, StringComparison.Ordinal);
        Assert.True(sent < 25L * 1024 * 1024, $"the gateway read all {sent} bytes before answering");
    }

    [Fact]
    public async Task Leave_Multipart_Is415_AndNoTempFileIsWritten()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var tempBefore = Directory.GetFiles(Path.GetTempPath(), "ASPNETCORE_*").Length;
        using var form = new MultipartFormDataContent { { new StringContent(new string('x', 3000)), "waiting_token" } };

        using var response = await bed.Client.Http.PostAsync("/api/v1/queue/leave", form);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("\"UNSUPPORTED_MEDIA_TYPE\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(tempBefore, Directory.GetFiles(Path.GetTempPath(), "ASPNETCORE_*").Length);
    }

    [Fact]
    public async Task Leave_FormWithElevenHundredFields_IsAnsweredWithoutA500()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var fields = string.Join('&', Enumerable.Range(0, 1100).Select(i => $"f{i}=1"));

        using var response = await bed.Client.Http.PostAsync("/api/v1/queue/leave", new StringContent(fields, Encoding.ASCII, "application/x-www-form-urlencoded"));

        Assert.True((int)response.StatusCode is 404 or 413, $"got {(int)response.StatusCode}");
    }

    [Theory]
    [InlineData("/api/v1/queue/join", "text/plain")]
    [InlineData("/api/v1/queue/join", "application/x-www-form-urlencoded")]
    [InlineData("/api/v1/queue/enter", "text/plain")]
    [InlineData("/api/v1/queue/enter", "multipart/form-data; boundary=x")]
    public async Task JoinAndEnter_WithANonJsonBody_Are415(string path, string contentType)
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        using var content = new StringContent($$"""{"event_id":"{{bed.Room}}"}""");
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await bed.Client.Http.PostAsync(path, content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("\"UNSUPPORTED_MEDIA_TYPE\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KestrelLimits_FromConfiguration_Apply()
    {
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MaxRequestHeaderCount"] = "10",
            ["Kestrel:Limits:MaxRequestLineSize"] = "1024",
        });
        using var http = gateway.CreateClient();

        using var fewHeaders = await http.GetAsync("/healthz");
        using var manyHeaders = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        for (var i = 0; i < 12; i++)
            manyHeaders.Headers.TryAddWithoutValidation($"X-Extra-{i}", "1");
        using var refusedHeaders = await http.SendAsync(manyHeaders);
        using var longLine = await http.GetAsync("/healthz?q=" + new string('a', 1100));

        Assert.Equal(HttpStatusCode.OK, fewHeaders.StatusCode);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, refusedHeaders.StatusCode);
        Assert.Equal(HttpStatusCode.RequestUriTooLong, longLine.StatusCode);
    }

    [Fact]
    public async Task KestrelDataRates_FromConfiguration_Apply()
    {
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond"] = "1000",
            ["Kestrel:Limits:MinRequestBodyDataRate:GracePeriod"] = "00:00:02",
            ["Kestrel:Limits:minResponseDataRate:bytesPerSecond"] = "50.5",
            ["Kestrel:Limits:MaxRequestHeaderCount"] = "10",
        });
        var limits = gateway.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(1000, limits.MinRequestBodyDataRate!.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(2), limits.MinRequestBodyDataRate.GracePeriod);
        // Keys in any case, as everywhere in configuration; the grace period defaults to Kestrel's 5 s.
        Assert.Equal(50.5, limits.MinResponseDataRate!.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(5), limits.MinResponseDataRate.GracePeriod);
        Assert.Equal(10, limits.MaxRequestHeaderCount);
    }

    [Fact]
    public async Task ABodyTrickledBelowTheMinimumRate_IsCutOff_LongBeforeItWouldEnd_WithoutA500()
    {
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond"] = "1000",
            ["Kestrel:Limits:MinRequestBodyDataRate:GracePeriod"] = "00:00:02",
        });
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(gateway.BaseAddress.Host, gateway.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /api/v1/queue/join HTTP/1.1\r\nHost: {gateway.BaseAddress.Authority}\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{{"));
        var clock = Stopwatch.StartNew();

        // One byte a second: far below 1,000 bytes/s. The answer must come once the grace period is over, not when the body would end.
        using var trickle = new CancellationTokenSource();
        var trickling = Task.Run(async () =>
        {
            while (!trickle.IsCancellationRequested)
            {
                await Task.Delay(1000, trickle.Token);
                await stream.WriteAsync(" "u8.ToArray(), trickle.Token);
            }
        });
        var answer = await ReadToEndAsync(stream).WaitAsync(TimeSpan.FromSeconds(20));
        await trickle.CancelAsync();
        try
        {
            await trickling;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // Cancelled, or the gateway had closed the connection.
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"answered after {clock.Elapsed}");
        Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
        Assert.Contains("\"INVALID_REQUEST\"", answer, StringComparison.Ordinal);
        Assert.Contains("arrived too slowly", answer, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxRequestHeaderCount", "0")]
    [InlineData("MaxRequestHeaderCount", "lots")]
    [InlineData("KeepAliveTimeout", "-00:00:01")]
    [InlineData("MaxRequestHeadersCount", "64")]
    [InlineData("MinRequestBodyDataRate:BytesPerSecond", "0")]
    [InlineData("MinRequestBodyDataRate:BytesPerSecond", "fast")]
    [InlineData("MinRequestBodyDataRate:GracePeriod", "00:00:00.5")]
    [InlineData("MinResponseDataRate:GracePeriod", "soon")]
    [InlineData("MinResponseDataRate:BytesPerSecnd", "240")]
    [InlineData("MinResponseDataRate", "none")]
    [InlineData("MinRequestBodyDataRate", "off")]
    [InlineData("MinRequestBodyDataRate:GracePeriod", "5")]
    [InlineData("MinRequestBodyDataRate:GracePeriod", "00:05:00")]
    public async Task KestrelLimit_InvalidOrMisspelt_StopsTheStart_NamingTheKeyAndValue(string key, string value)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MaxRequestLineSize"] = "8192",
            // A data rate with a good rate, so the grace period alone is at fault.
            ["Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond"] = "240",
            ["Kestrel:Limits:MinResponseDataRate:BytesPerSecond"] = "240",
        };
        if (key is "MinResponseDataRate")
            settings.Remove("Kestrel:Limits:MinResponseDataRate:BytesPerSecond");
        settings["Kestrel:Limits:" + key] = value;
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.StartAsync(null, settings));

        Assert.StartsWith($"Kestrel:Limits:{key} is '{value}': ", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Everything the gateway sends until it closes the connection.</summary>
    private static async Task<string> ReadToEndAsync(NetworkStream stream)
    {
        var buffer = new byte[4096];
        var all = new StringBuilder();
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
            all.Append(Encoding.ASCII.GetString(buffer, 0, read));
        return all.ToString();
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new byte[4096];
        var head = new StringBuilder();
        while (!head.ToString().Contains("\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
                break;
            head.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        return head.ToString();
    }
}
