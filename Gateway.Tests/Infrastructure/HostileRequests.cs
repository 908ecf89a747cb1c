using System.Globalization;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>One hostile request as bytes on the wire, and what the test needs to judge its answer.</summary>
/// <param name="Kind">What the request tries (for the failure message and the tally).</param>
/// <param name="Path">The path it targets (decoded, without the query).</param>
/// <param name="Head">A HEAD request: the answer has no body.</param>
/// <param name="Malformed">Kestrel's HTTP parser may refuse it before any gateway code runs (its own bare 400/431/...).</param>
/// <param name="HalfClose">Shut the sending side after the request (a truncated body then ends early).</param>
/// <param name="Secrets">Values that must never be echoed back by a backend (admissions, identity cookies).</param>
public sealed record HostileRequest(string Kind, byte[] Bytes, string Path, bool Head, bool Malformed, bool HalfClose, IReadOnlyList<string> Secrets)
{
    /// <summary>A request the queue API answers itself: its 4xx answers are in the contract's error shape.</summary>
    public bool QueueApi => !Malformed && !Head && Path.StartsWith("/api/v1/queue/", StringComparison.OrdinalIgnoreCase);

    /// <summary>The one status the answer must have, when there is one (413 for bodies over 4 KiB).</summary>
    public int? ExpectedStatus { get; init; }

    public override string ToString()
    {
        var text = Encoding.Latin1.GetString(Bytes, 0, Math.Min(Bytes.Length, 600));
        return $"{Kind} ({Bytes.Length} bytes): {HostileInput.Describe(text)}";
    }
}

/// <summary>
/// Hostile HTTP requests to every part of the gateway, drawn from a seeded <see cref="Random"/>: random and huge
/// methods, paths and query strings, tokens of any bytes (and real ones, edited), garbage in every header the
/// gateway reads, join/enter/leave bodies of every wrong shape (wrong types, deep nesting, huge numbers, invalid
/// UTF-8, escaped lone surrogates, multipart, 1,100-field forms, over 4 KiB declared or chunked, truncated,
/// malformed chunks), requests to the gated routes with forged, foreign, valid and oddly spelled admissions, and
/// requests Kestrel's own parser refuses.
/// </summary>
public sealed class HostileRequests(int seed, Uri server, string room, RealTokens real)
{
    private static readonly string[] StandardMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"];
    private static readonly string[] OddMethods = ["get", "Post", "delete", "FOO", "M-SEARCH", "PROPFIND", "BREW", "QUERY", "PURGE", "X", "G", "GET_", "HEAD-", "!#$%&'*+-.^_`|~"];
    private static readonly string[] ContentTypes =
    [
        "application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/json; charset=utf-16", "application/json;charset=\"utf-8\"",
        "application/json, text/plain", "application/jsonx", "application/problem+json", "text/json", "text/plain", "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=x", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"",
        "multipart/mixed; boundary=zz", "", ";", ";;;", "/", "application/", "*/*", "application/json; charset=", "application/json; =", "text/html",
    ];

    private readonly Random _random = new(seed);

    public HostileRequest Next() => _random.Next(100) switch
    {
        < 12 => AnyMethodAnywhere(),
        < 24 => Status(),
        < 38 => Join(),
        < 47 => Enter(),
        < 58 => Leave(),
        < 64 => Oversized(),
        < 77 => Gated(),
        < 82 => Page(),
        < 89 => BadBodies(),
        < 95 => ProofOfWork(),
        _ => ProtocolGarbage(),
    };

    /// <summary>
    /// The proof-of-work room (<see cref="RealTokens.PowRoom"/>): challenges asked for any event id, and joins whose
    /// <c>pow</c> is of every wrong shape: not an object, fields of the wrong type, the real challenge edited or with
    /// any nonce, hostile text, escaped lone surrogates, huge strings. An unauthenticated caller reaches all of it.
    /// </summary>
    private HostileRequest ProofOfWork()
    {
        if (_random.Next(4) == 0)
        {
            var eventId = _random.Next(4) switch
            {
                0 => real.PowRoom,
                1 => room,
                2 => Token(),
                _ => HostileText(60),
            };
            var query = _random.Next(6) == 0 ? "" : "?event_id=" + Encode(eventId) + (_random.Next(6) == 0 ? "&event_id=" + Encode(real.PowRoom) : "");
            var challenge = new Builder(_random.Next(6) == 0 ? Method() : "GET", "/api/v1/queue/challenge" + query, "/api/v1/queue/challenge", "challenge");
            AddRandomHeaders(challenge);
            return challenge.Build(server);
        }
        var builder = new Builder("POST", "/api/v1/queue/join", "/api/v1/queue/join", "join pow");
        AddRandomHeaders(builder);
        var pow = _random.Next(8) switch
        {
            0 => Pick(["null", "5", "\"x\"", "[]", "{}", "true", "[" + Quote(real.Challenge) + ",\"1\"]"]),
            1 => "{\"challenge\":" + PowText(real.Challenge) + "}",
            2 => "{\"nonce\":" + PowText("1") + "}",
            3 => "{\"challenge\":" + Pick(["5", "null", "{}", "[]", "1e999"]) + ",\"nonce\":" + Pick(["5", "null", "{}", "-1", "123456789012345678901234567890"]) + "}",
            4 => "{\"challenge\":" + Quote(real.Challenge) + ",\"nonce\":" + Quote(_random.Next().ToString(CultureInfo.InvariantCulture)) + "}",
            5 => "{\"challenge\":" + Quote(Edit(real.Challenge)) + ",\"nonce\":" + PowText("7") + "}",
            6 => "{\"challenge\":" + PowText(real.Challenge) + ",\"nonce\":" + PowText("7") + ",\"challenge\":" + Quote(real.Challenge) + "}",
            _ => "{\"challenge\":" + PowText(real.Challenge) + ",\"nonce\":" + PowText("7") + "}",
        };
        var body = "{\"event_id\":" + Quote(real.PowRoom) + (_random.Next(3) == 0 ? ",\"user_id\":" + Quote(HostileText(30)) : "") + ",\"pow\":" + pow + "}";
        builder.Body(Encoding.UTF8.GetBytes(body), "application/json", chunked: _random.Next(5) == 0);
        return builder.Build(server);
    }

    /// <summary>A JSON string for a <c>pow</c> field: the real value, or one that breaks decoding or parsing.</summary>
    private string PowText(string real) => _random.Next(8) switch
    {
        0 => Quote(real),
        1 => "\"\\ud800\"",
        2 => "\"" + real + "\\udfff\"",
        3 => "\"\\u0000" + real + "\"",
        4 => Quote(new string('9', _random.Next(20, 3_000))),
        5 => Quote(Token()),
        6 => Quote(real + "." + Base64Url(_random.Next(0, 40))),
        _ => Quote(HostileText(80)),
    };

    private HostileRequest AnyMethodAnywhere()
    {
        var method = Method();
        var (target, path) = Target();
        var builder = new Builder(method, target, path, "method");
        AddRandomHeaders(builder);
        if (_random.Next(3) == 0)
            builder.Body(Encoding.UTF8.GetBytes(Json()), Pick(ContentTypes));
        return builder.Build(server);
    }

    private HostileRequest Status()
    {
        var query = _random.Next(10) switch
        {
            0 => "",
            1 => "?token",
            2 => "?token=" + Encode(Token()) + "&token=" + Encode(Token()),
            3 => "?token=%" + Pick(["", "z", "zz", "0", "c0%af", "ff", "00"]),
            4 => "?TOKEN=" + Encode(real.WaitingToken),
            5 => "?token=" + Encode(real.WaitingToken) + "&" + Encode(Token()) + "=" + Encode(Token()),
            _ => "?token=" + Encode(Token()),
        };
        var builder = new Builder(_random.Next(8) == 0 ? Method() : "GET", "/api/v1/queue/status" + query, "/api/v1/queue/status", "status");
        AddRandomHeaders(builder);
        return builder.Build(server);
    }

    private HostileRequest Join()
    {
        var builder = new Builder(_random.Next(10) == 0 ? Method() : "POST", "/api/v1/queue/join" + (_random.Next(6) == 0 ? "?" + Encode(Token()) : ""), "/api/v1/queue/join", "join");
        AddRandomHeaders(builder);
        if (_random.Next(3) == 0)
            builder.Header("Idempotency-Key", _random.Next(4) == 0 ? new string('k', _random.Next(100, 300)) : AsciiText(_random.Next(0, 140)));
        if (_random.Next(6) == 0)
            builder.Header("Idempotency-Key", "a").Header("Idempotency-Key", "b");
        var body = _random.Next(10) switch
        {
            < 3 => Encoding.UTF8.GetBytes(JoinJson()),
            < 5 => Encoding.UTF8.GetBytes(Json()),
            < 7 => WeirdJson(),
            _ => Encoding.UTF8.GetBytes(HostileText(200)),
        };
        builder.Body(body, _random.Next(3) == 0 ? Pick(ContentTypes) : "application/json", chunked: _random.Next(5) == 0);
        return builder.Build(server);
    }

    private HostileRequest Enter()
    {
        var builder = new Builder(_random.Next(10) == 0 ? Method() : "POST", "/api/v1/queue/enter", "/api/v1/queue/enter", "enter");
        AddRandomHeaders(builder);
        var token = _random.Next(8) switch
        {
            0 => "null",
            1 => _random.Next(-5, 5).ToString(CultureInfo.InvariantCulture),
            2 => "[" + Quote(real.WaitingToken) + "]",
            3 => "{\"a\":" + Quote(Token()) + "}",
            4 => "\"\\ud800\\udc00\\ud800\"",
            _ => Quote(Token()),
        };
        var body = _random.Next(6) == 0 ? WeirdJson() : Encoding.UTF8.GetBytes("{\"waiting_token\":" + token + (_random.Next(4) == 0 ? ",\"waiting_token\":" + Quote(Token()) : "") + "}");
        builder.Body(body, _random.Next(4) == 0 ? Pick(ContentTypes) : "application/json", chunked: _random.Next(5) == 0);
        return builder.Build(server);
    }

    private HostileRequest Leave()
    {
        var query = _random.Next(3) == 0 ? "?token=" + Encode(Token()) : _random.Next(5) == 0 ? "?token=" : "";
        var method = _random.Next(10) switch
        {
            < 4 => "DELETE",
            < 9 => "POST",
            _ => Method(),
        };
        var builder = new Builder(method, "/api/v1/queue/leave" + query, "/api/v1/queue/leave", "leave");
        AddRandomHeaders(builder);
        switch (_random.Next(9))
        {
            case 0:
                builder.Body(Encoding.UTF8.GetBytes(Token()), Pick(["text/plain", "text/plain;charset=UTF-8", "TEXT/PLAIN"]));
                break;
            case 1:
                builder.Body(Encoding.UTF8.GetBytes("waiting_token=" + Encode(Token()) + "&waiting_token=" + Encode(Token())), "application/x-www-form-urlencoded");
                break;
            case 2:
                // 1,100 fields: within 4 KiB with short names, over it with longer ones.
                var shortNames = _random.Next(2) == 0;
                var fields = string.Join('&', Enumerable.Range(0, 1_100).Select(i => shortNames ? "a=" : $"field{i}={i}"));
                builder.Body(Encoding.ASCII.GetBytes(fields), "application/x-www-form-urlencoded", chunked: _random.Next(2) == 0);
                break;
            case 3:
                builder.Body(Multipart(), Pick(["multipart/form-data; boundary=xyz", "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"unterminated"]));
                break;
            case 4:
                builder.Body(Encoding.UTF8.GetBytes("{\"waiting_token\":" + Pick([Quote(Token()), "5", "null", "\"\\udfff\"", "{}", "[[[[[[[[[[[[1]]]]]]]]]]]]"]) + "}"), Pick(["application/json", "text/plain", ""]));
                break;
            case 5:
                builder.Body([0xEF, 0xBB, 0xBF, 0xFF, 0xFE, 0xC0, 0xAF, (byte)'{'], Pick(["text/plain", "application/json", "application/x-www-form-urlencoded"]));
                break;
            case 6:
                builder.Body(WeirdJson(), Pick(ContentTypes));
                break;
            case 7:
                break;
            default:
                builder.Body(Encoding.UTF8.GetBytes(HostileText(300)), _random.Next(3) == 0 ? null : Pick(ContentTypes));
                break;
        }
        return builder.Build(server);
    }

    private HostileRequest Oversized()
    {
        var (path, type) = Pick([("/api/v1/queue/join", "application/json"), ("/api/v1/queue/enter", "application/json"), ("/api/v1/queue/leave", "text/plain"), ("/api/v1/queue/leave", "application/x-www-form-urlencoded")]);
        var builder = new Builder("POST", path, path, "oversized");
        var size = _random.Next(4_097, 20_000);
        var body = Encoding.ASCII.GetBytes("{\"event_id\":\"" + room + "\",\"user_id\":\"" + new string('x', size) + "\"}");
        switch (_random.Next(3))
        {
            case 0:
                builder.Body(body, type, chunked: true);
                builder.Kind = "oversized chunked";
                break;
            case 1:
                builder.Body(body, type);
                builder.Kind = "oversized declared";
                break;
            default:
                // Declares far more than it sends: refused on the declaration, without waiting for the body.
                builder.Header("Content-Type", type).Header("Content-Length", Pick(["4097", "1000000", "9999999999", "9223372036854775807"]));
                builder.Raw(Encoding.ASCII.GetBytes("{\"event_id\":"));
                builder.Kind = "oversized declared, not sent";
                break;
        }
        builder.ExpectStatus = 413;
        return builder.Build(server);
    }

    private HostileRequest Gated()
    {
        var path = Pick(["/api/inventory", $"/api/inventory/events/{room}/seats", "/api/reservations", "/api/payments/p-1", "/api/inventory/_backend/echo", "/api/reservations/_backend/echo"]);
        var query = _random.Next(4) == 0 ? "?" + Encode(Token()) + "=" + Encode(Token()) : "";
        var admitted = _random.Next(4) == 0;
        var method = admitted && path.EndsWith("echo", StringComparison.Ordinal) ? Method(allowHuge: false) : _random.Next(3) == 0 ? Method() : "GET";
        var builder = new Builder(method, path + query, path, admitted ? "gated, admitted" : "gated");
        if (admitted)
        {
            builder.Secrets.Add(real.Admission);
            if (_random.Next(2) == 0)
                builder.Header(Pick(["X-Admission-Token", "x-admission-token", "X-ADMISSION-TOKEN"]), real.Admission);
            else
                builder.Header("Cookie", $"{Pick(["wr_adm_", "WR_ADM_", "Wr_Adm_"])}{room}={real.Admission}; wr_id={real.IdentityCookie}");
            builder.Secrets.Add(real.IdentityCookie);
        }
        switch (_random.Next(6))
        {
            case 0:
                builder.Header("X-Admission-Token", Token());
                break;
            case 1:
                builder.Header("X-Admission-Token", real.OtherRoomAdmission);
                break;
            case 2:
                builder.Header("Cookie", $"wr_adm_{room}={Encode(Token())}; wr_adm_{room}={Encode(Token())}; wr_adm_other={real.OtherRoomAdmission}");
                break;
            case 3:
                builder.Header("X-Admission-Token", Edit(real.Admission));
                break;
        }
        if (_random.Next(2) == 0)
            builder.Header("Accept", Pick(["text/html", "TEXT/HTML", "text/html;q=0", "application/json", "*/*", "text/htm", AsciiText(40)]));
        AddRandomHeaders(builder);
        if (_random.Next(4) == 0)
            builder.Body(Encoding.UTF8.GetBytes(Json()), Pick(ContentTypes), chunked: _random.Next(3) == 0);
        return builder.Build(server);
    }

    private HostileRequest Page()
    {
        var (target, path) = _random.Next(6) switch
        {
            0 => ("/waiting-room/" + Encode(Token()), "/waiting-room/x"),
            1 => ("/waiting-room/leave-worker.js?" + Encode(Token()), "/waiting-room/leave-worker.js"),
            2 => ("/waiting-room/", "/waiting-room/"),
            _ => ($"/waiting-room/{room}?return=" + Encode(Pick(["/", "//evil.example", "/\\evil", "/waiting-room/" + room, "/\t/x", HostileText(100), new string('/', 3000)])), "/waiting-room/" + room),
        };
        var builder = new Builder(_random.Next(6) == 0 ? Method() : "GET", target, path, "page");
        AddRandomHeaders(builder);
        return builder.Build(server);
    }

    /// <summary>Bodies that end or break mid-way: truncated with the connection half-closed, malformed chunk framing, a wrong Content-Length.</summary>
    private HostileRequest BadBodies()
    {
        var path = Pick(["/api/v1/queue/join", "/api/v1/queue/enter", "/api/v1/queue/leave", "/api/inventory", "/api/reservations"]);
        var builder = new Builder("POST", path, path, "bad body");
        builder.Header("Content-Type", path.EndsWith("leave", StringComparison.Ordinal) ? "text/plain" : "application/json");
        var json = Encoding.UTF8.GetBytes(JoinJson());
        switch (_random.Next(5))
        {
            case 0:
                builder.Header("Content-Length", (json.Length + _random.Next(1, 500)).ToString(CultureInfo.InvariantCulture));
                builder.Raw(json);
                builder.HalfClose = true;
                builder.Kind = "bad body: truncated";
                break;
            case 1:
                builder.Header("Transfer-Encoding", "chunked");
                builder.Raw(Encoding.ASCII.GetBytes(Pick(["zz\r\nabc\r\n0\r\n\r\n", "5\r\nabc\r\n0\r\n\r\n", "-1\r\n\r\n", "3;x=\"\r\nabc\r\n0\r\n\r\n", "ffffffffffffffff\r\nabc", "3\r\nabcXX0\r\n\r\n", "3\nabc\n0\n\n"])));
                builder.HalfClose = true;
                builder.Kind = "bad body: malformed chunks";
                break;
            case 2:
                builder.Header("Transfer-Encoding", "chunked");
                builder.Raw([.. Encoding.ASCII.GetBytes($"{json.Length:x}\r\n"), .. json, .. "\r\n"u8]);
                builder.HalfClose = true;
                builder.Kind = "bad body: chunked without its last chunk";
                break;
            case 3:
                builder.Header("Content-Length", "0");
                builder.Kind = "bad body: empty";
                break;
            default:
                builder.Header("Expect", "100-continue").Header("Content-Length", json.Length.ToString(CultureInfo.InvariantCulture));
                builder.Raw(json);
                builder.Kind = "bad body: expect 100-continue";
                break;
        }
        // A truncated body may be refused by Kestrel itself once the gateway has answered or never read it.
        builder.MaybeMalformed = true;
        return builder.Build(server);
    }

    private HostileRequest ProtocolGarbage()
    {
        var kind = _random.Next(14);
        string text = kind switch
        {
            0 => $"GE T /api/v1/queue/join HTTP/1.1\r\nHost: h\r\n\r\n",
            1 => $"GET /api/v1/queue/status?token=\u00e9\u00ff HTTP/1.1\r\nHost: h\r\n\r\n",
            2 => $"GET /api/inventory HTTP/1.1\r\nHost: h\r\nX-Admission-Token: a\u0001b\r\n\r\n",
            3 => $"GET /api/inventory HTTP/1.1\r\nHost: h\r\nCookie: {new string('a', 40_000)}\r\n\r\n",
            4 => "GET /healthz HTTP/1.1\r\nHost: h\r\n" + string.Concat(Enumerable.Range(0, 150).Select(i => $"X-H{i}: {i}\r\n")) + "\r\n",
            5 => "POST /api/v1/queue/join HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{\"a\":",
            6 => "POST /api/v1/queue/join HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            7 => "POST /api/v1/queue/join HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
            8 => "POST /api/v1/queue/join HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
            9 => $"GET /{new string('a', 9_000)} HTTP/1.1\r\nHost: h\r\n\r\n",
            10 => "GET /api/v1/queue/status HTTP/1.1\r\nHost: h\r\nAccept-Language: ko\r\n  , en\r\n\r\n",
            11 => "GET /api/v1/queue/status HTTP/1.1\r\n\r\n",
            12 => "GET /api/v1/queue/status HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            _ => $"{new string('G', 6_000)} /api/v1/queue/join HTTP/1.1\r\nHost: h\r\nX: {Encoding.Latin1.GetString([0x80, 0xff, 0xfe])}\r\n\r\n",
        };
        return new HostileRequest("protocol garbage " + kind, Encoding.Latin1.GetBytes(text), "/", false, true, false, []);
    }

    private void AddRandomHeaders(Builder builder)
    {
        if (_random.Next(3) == 0)
            builder.Header("Accept-Language", Pick(["ko", "ko-KR,ko;q=0.9,en;q=0.8", "en;q=0, ko;q=0", "*", "ko;q=2", "ko;q=NaN", ",,,,", AsciiText(_random.Next(0, 300))]));
        if (_random.Next(4) == 0)
            builder.Header("Cookie", _random.Next(3) switch
            {
                0 => $"wr_id={Encode(Token())}",
                1 => $"wr_id={Edit(real.IdentityCookie)}; wr_adm_{room}={Encode(Token())}",
                _ => string.Join("; ", Enumerable.Range(0, _random.Next(1, 60)).Select(i => $"{Pick(["wr_id", "WR_ID", "wr_adm_" + room, "a", "wr_adm_", "=", ""])}={Encode(Token())}")),
            });
        if (_random.Next(5) == 0)
            builder.Header("X-Forwarded-For", Pick(["999.1.1.1", "::ffff:zz", "unknown", "1.2.3.4, ::1, [::1]:80", "", ",,,", "2001:db8::1%eth0", AsciiText(60), string.Join(",", Enumerable.Repeat("10.0.0.1", 200))]));
        if (_random.Next(5) == 0)
            builder.Header("X-Forwarded-Proto", Pick(["https", "javascript", "HTTPS, http", "", "h\ttp", AsciiText(20)]));
        if (_random.Next(6) == 0)
            builder.Header("X-Admission-Token", Token());
        if (_random.Next(8) == 0)
            builder.Header(AsciiToken(_random.Next(1, 40)), AsciiText(_random.Next(0, 200)));
        if (_random.Next(10) == 0)
            builder.Header("traceparent", Pick(["00-zz-zz-01", "ff-" + new string('0', 32) + "-" + new string('0', 16) + "-00", AsciiText(60)]));
    }

    /// <summary>A method: mostly standard, sometimes lowercase or unknown, sometimes 1,000 to 6,000 characters.</summary>
    private string Method(bool allowHuge = true) => _random.Next(10) switch
    {
        < 5 => Pick(StandardMethods),
        < 8 => Pick(OddMethods),
        8 => AsciiToken(_random.Next(1, 30)),
        _ => allowHuge ? new string(Pick(['A', 'G', 'x']), _random.Next(1_000, 6_001)) : Pick(OddMethods),
    };

    private (string Target, string Path) Target()
    {
        var path = Pick([
            "/api/v1/queue/join", "/api/v1/queue/status", "/api/v1/queue/enter", "/api/v1/queue/leave", "/api/v1/queue/", "/api/v1/queue/nope",
            "/api/v1/queue/join/extra", "/API/V1/QUEUE/JOIN", "/api/v1/queue//join", "/api/v1/queue/%6Aoin", "/api/v1/queue/join%00", "/api/v1/queue/join;x=1",
            "/api/v1/queue/%2e%2e/queue/join", "/metrics", "/healthz", "/readyz", "/", "/favicon.ico", "/waiting-room/" + room, "/api/inventory/_backend/echo",
            "/%", "/%zz", "/%c0%af", "/..%2f..%2fetc/passwd", "//x", "/" + Encode(HostileText(40)), "/" + new string('a', 7_000), "/a/" + string.Concat(Enumerable.Repeat("%2F", 500))]);
        var query = _random.Next(3) switch
        {
            0 => "",
            1 => "?token=" + Encode(Token()),
            _ => "?" + string.Join('&', Enumerable.Range(0, _random.Next(1, 50)).Select(_ => Encode(Token()) + "=" + Encode(Token()))),
        };
        return (path + query, Uri.UnescapeDataString(path.Split('?')[0]));
    }

    /// <summary>A token: real ones, real ones edited, random bytes, hostile text, base64url of every length.</summary>
    private string Token() => _random.Next(10) switch
    {
        0 => real.WaitingToken,
        1 => Edit(real.WaitingToken),
        2 => Edit(real.Admission),
        3 => room + "." + Base64Url(22) + "." + Base64Url(22),
        4 => Base64Url(_random.Next(0, 120)) + "." + Base64Url(_random.Next(0, 60)),
        5 => Encoding.Latin1.GetString(RandomBytes(_random.Next(0, 80))),
        6 => new string('.', _random.Next(0, 40)) + new string('|', _random.Next(0, 40)),
        7 => new string('A', _random.Next(100, 3_000)),
        _ => HostileText(80),
    };

    /// <summary>The token with one character replaced by another of the base64url alphabet (never by itself).</summary>
    private string Edit(string token)
    {
        var at = _random.Next(token.Length);
        var replacement = HostileInput.Base64UrlAlphabet[_random.Next(64)];
        if (replacement == token[at])
            replacement = replacement == 'A' ? 'B' : 'A';
        return token[..at] + replacement + token[(at + 1)..];
    }

    private string JoinJson() => _random.Next(8) switch
    {
        0 => $"{{\"event_id\":\"{room}\"}}",
        1 => $"{{\"event_id\":\"{room}\",\"user_id\":{Quote(HostileText(40))}}}",
        2 => $"{{\"event_id\":\"{room}\",\"user_token\":{Quote(JwtLike())}}}",
        3 => $"{{\"event_id\":{Pick(["5", "null", "true", "[\"" + room + "\"]", "{\"a\":1}", "1e999999", "123456789012345678901234567890", "\"\\ud800\"", "\"" + room + "\\u0000\"", Quote(HostileText(70))])}}}",
        4 => $"{{\"event_id\":\"{room}\",\"user_id\":{Pick(["5", "[]", "{}", "null", "\"\\udc00x\"", "\"a|b\"", Quote(new string('u', 129))])}}}",
        5 => $"{{\"event_id\":\"{room}\",\"user_token\":{Pick(["5", "[]", "null", "\"\"", "\"a.b.c\"", Quote(new string('e', 3_000))])}}}",
        6 => $"{{\"event_id\":\"other\",\"event_id\":\"{room}\"}}",
        _ => $"{{\"event_id\":\"{room}\",\"extra\":{Json()}}}",
    };

    private string Json() => _random.Next(8) switch
    {
        0 => new string('[', _random.Next(1, 2_000)) + new string(']', _random.Next(0, 2_000)),
        1 => string.Concat(Enumerable.Repeat("{\"a\":", _random.Next(1, 500))) + "1" + new string('}', _random.Next(0, 500)),
        2 => Pick(["null", "true", "[]", "{}", "\"\"", "0", "-0", "1e309", "NaN", "{\"event_id\":}", "{,}", "{\"a\":1,}", "/* c */ {}", "{'event_id':'x'}"]),
        3 => "{" + string.Join(',', Enumerable.Range(0, _random.Next(1, 100)).Select(i => $"\"k{i}\":{i}")) + "}",
        4 => Quote(HostileText(100)),
        _ => "{\"event_id\":" + Quote(HostileText(30)) + ",\"waiting_token\":" + Quote(Token()) + "}",
    };

    /// <summary>JSON-ish bytes no serializer would write: invalid UTF-8, a BOM, UTF-16, NULs, trailing garbage.</summary>
    private byte[] WeirdJson() => _random.Next(7) switch
    {
        0 => [.. "{\"event_id\":\""u8, 0xFF, 0xFE, 0xC0, 0xAF, .. "\"}"u8],
        1 => [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes($"{{\"event_id\":\"{room}\"}}")],
        2 => Encoding.Unicode.GetBytes($"{{\"event_id\":\"{room}\"}}"),
        3 => [.. Encoding.UTF8.GetBytes($"{{\"event_id\":\"{room}\"}}"), 0, .. "xyz"u8],
        4 => RandomBytes(_random.Next(0, 400)),
        5 => Encoding.UTF8.GetBytes($"{{\"event_id\":\"{room}\"}}{{\"event_id\":\"{room}\"}}"),
        _ => [.. "{\"waiting_token\":\"\\ud800\",\"event_id\":\"\\udfff"u8, .. "\"}"u8],
    };

    private byte[] Multipart() => _random.Next(3) switch
    {
        0 => Encoding.ASCII.GetBytes("--xyz\r\nContent-Disposition: form-data; name=\"waiting_token\"\r\n\r\n" + Base64Url(30) + "\r\n--xyz--\r\n"),
        1 => Encoding.ASCII.GetBytes("--xyz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\n" + new string('z', 2_000)),
        _ => RandomBytes(_random.Next(0, 500)),
    };

    private string JwtLike() =>
        string.Join('.', Enumerable.Range(0, _random.Next(1, 6)).Select(_ => _random.Next(3) == 0 ? "eyJhbGciOiJIUzI1NiIsImtpZCI6Im9yaWdpbiJ9" : Base64Url(_random.Next(0, 80))));

    private string HostileText(int max)
    {
        var text = new StringBuilder();
        var length = _random.Next(0, max + 1);
        while (text.Length < length)
        {
            switch (_random.Next(4))
            {
                case 0:
                    HostileInput.AnyChar(_random, text);
                    break;
                case 1:
                    HostileInput.NonAsciiPiece(_random, text);
                    break;
                case 2:
                    HostileInput.SeparatorHeavy(_random, text);
                    break;
                default:
                    HostileInput.Ascii(_random, text);
                    break;
            }
        }
        return text.ToString();
    }

    /// <summary>Printable ASCII (what Kestrel takes in a header value), including the characters that mean something in headers.</summary>
    private string AsciiText(int length) => new([.. Enumerable.Range(0, length).Select(_ => (char)_random.Next(0x20, 0x7F))]);

    private string AsciiToken(int length) => new([.. Enumerable.Range(0, length).Select(_ => "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[_random.Next(77)])]);

    private string Base64Url(int length) => new([.. Enumerable.Range(0, length).Select(_ => HostileInput.Base64UrlAlphabet[_random.Next(64)])]);

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    private T Pick<T>(T[] values) => values[_random.Next(values.Length)];

    /// <summary>Percent-encodes the UTF-8 of <paramref name="value"/> (lone surrogates become U+FFFD), keeping unreserved characters.</summary>
    private static string Encode(string value)
    {
        var text = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
                text.Append((char)b);
            else
                text.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
        }
        return text.ToString();
    }

    private static string Quote(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    /// <summary>Writes one request: request line, Host, the headers, Connection: close, then the body framing.</summary>
    private sealed class Builder(string method, string target, string path, string kind)
    {
        private readonly List<(string Name, string Value)> _headers = [];
        private byte[] _body = [];

        public string Kind { get; set; } = kind;

        public List<string> Secrets { get; } = [];

        public bool HalfClose { get; set; }

        public bool MaybeMalformed { get; set; }

        public int? ExpectStatus { get; set; }

        public Builder Header(string name, string value)
        {
            _headers.Add((name, value));
            return this;
        }

        public Builder Body(byte[] body, string? contentType, bool chunked = false)
        {
            if (contentType is not null)
                Header("Content-Type", contentType);
            if (chunked)
            {
                Header("Transfer-Encoding", "chunked");
                var framed = new MemoryStream();
                foreach (var chunk in body.Chunk(1_000))
                {
                    framed.Write(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"));
                    framed.Write(chunk);
                    framed.Write("\r\n"u8);
                }
                framed.Write("0\r\n\r\n"u8);
                _body = framed.ToArray();
            }
            else
            {
                Header("Content-Length", body.Length.ToString(CultureInfo.InvariantCulture));
                _body = body;
            }
            return this;
        }

        /// <summary>Body bytes written as they are, with whatever framing headers the caller set.</summary>
        public Builder Raw(byte[] bytes)
        {
            _body = bytes;
            return this;
        }

        public HostileRequest Build(Uri server)
        {
            var head = new StringBuilder($"{method} {target} HTTP/1.1\r\nHost: {server.Authority}\r\n");
            foreach (var (name, value) in _headers)
                head.Append(name).Append(": ").Append(value).Append("\r\n");
            head.Append("Connection: close\r\n\r\n");
            // Header values are Latin-1 on the wire; anything outside printable ASCII may be refused by Kestrel's parser.
            var bytes = Encoding.Latin1.GetBytes(head.ToString());
            var malformed = MaybeMalformed || target.Contains("%00", StringComparison.Ordinal) || bytes.Any(b => b >= 0x7F || (b < 0x20 && b is not (byte)'\r' and not (byte)'\n')) ||
                bytes.Length > 32 * 1024 || method.Length + target.Length > 8 * 1024 || _headers.Count(h => h.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) > 1;
            return new HostileRequest(Kind + (ExpectStatus is { } status ? $" (expects {status})" : ""), [.. bytes, .. _body], path, method == "HEAD", malformed, HalfClose, Secrets)
            {
                ExpectedStatus = ExpectStatus,
            };
        }
    }
}

/// <summary>Real tokens the hostile requests use as they are and edited.</summary>
/// <param name="PowRoom">A room that requires proof of work at join.</param>
/// <param name="Challenge">A challenge the gateway issued for <paramref name="PowRoom"/>.</param>
public sealed record RealTokens(string WaitingToken, string Admission, string OtherRoomAdmission, string IdentityCookie, string PowRoom, string Challenge);
