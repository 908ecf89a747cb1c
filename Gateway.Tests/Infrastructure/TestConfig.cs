using System.Text.Json.Nodes;
using Gateway.SampleBackends;

namespace Gateway.Tests.Infrastructure;

/// <summary>Builds gateway settings for tests: flat configuration keys, written as nested appsettings JSON.</summary>
public static class TestConfig
{
    /// <summary>A fixed 32-byte test key (base64), never used outside tests.</summary>
    public const string TestSecret = "dGVzdC1zaWduaW5nLWtleS10ZXN0LXNpZ25pbmcta2V5IQ==";

    /// <summary>The admin bearer secret tests use, and its key id; configuration holds only its SHA-256.</summary>
    public const string AdminSecret = "test-admin-secret-1f0c9e";

    public const string AdminKeyId = "test-ops";

    /// <summary>Adds the test admin key (<see cref="AdminSecret"/>'s hash) to <paramref name="settings"/>, and returns them.</summary>
    public static Dictionary<string, string?> WithAdmin(Dictionary<string, string?> settings)
    {
        settings["Admin:Keys:0:Id"] = AdminKeyId;
        settings["Admin:Keys:0:Sha256"] = Sha256Hex(AdminSecret);
        return settings;
    }

    /// <summary>What <c>printf %s "$SECRET" | sha256sum</c> prints.</summary>
    public static string Sha256Hex(string secret) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));

    /// <summary>Routes for the three clusters on the sample backends; the gated ones name <paramref name="room"/>.</summary>
    public static Dictionary<string, string?> Gateway(SampleBackendsApp backends, string room = "concert", int capacity = 100, double refill = 10, bool gated = true)
    {
        var settings = new Dictionary<string, string?>
        {
            ["WaitingRoom:SigningKeys:0:Id"] = "test",
            ["WaitingRoom:SigningKeys:0:Secret"] = TestSecret,
            // Every test client comes from 127.0.0.1: one client address, so the per-client limits are off unless a test turns them on.
            ["WaitingRoom:JoinsPerClientPerMinute"] = "0",
            ["WaitingRoom:MaxPlacesPerClient"] = "0",
            ["WaitingRoom:PollsPerClientPerMinute"] = "0",
            ["WaitingRoom:MaintenanceInterval"] = "00:00:00.200",
            ["WaitingRoom:RetryAfter"] = "00:00:02",
            [$"WaitingRoom:Rooms:{room}:Capacity"] = capacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [$"WaitingRoom:Rooms:{room}:RefillPerSecond"] = refill.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Long enough for a first call on a loaded CI machine (an embedded store loading its scripts); outage tests see
            // calls fail at once anyway (the client fails fast while disconnected).
            ["Store:OperationTimeout"] = "00:00:02",
        };
        foreach (var (name, url) in new[] { ("reservation", backends.ReservationUrl), ("inventory", backends.InventoryUrl), ("payment", backends.PaymentUrl) })
        {
            var prefix = name == "inventory" ? "/api/inventory" : $"/api/{name}s";
            settings[$"ReverseProxy:Routes:{name}:ClusterId"] = name;
            settings[$"ReverseProxy:Routes:{name}:Match:Path"] = prefix + "/{**rest}";
            if (gated)
                settings[$"ReverseProxy:Routes:{name}:Metadata:WaitingRoom"] = room;
            settings[$"ReverseProxy:Clusters:{name}:Destinations:{name}-1:Address"] = url.ToString();
        }
        return settings;
    }

    public static string ToJson(IDictionary<string, string?> settings)
    {
        var root = new JsonObject();
        foreach (var (key, value) in settings)
        {
            var parts = key.Split(':');
            var node = root;
            for (var i = 0; i < parts.Length - 1; i++)
            {
                if (node[parts[i]] is not JsonObject child)
                {
                    child = new JsonObject();
                    node[parts[i]] = child;
                }
                node = child;
            }
            node[parts[^1]] = value;
        }
        return root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }
}
