namespace Gateway.Tests.Browser;

/// <summary>Gateway settings with one room and no routes, for tests of the page alone.</summary>
internal static class PageTestConfig
{
    public static Dictionary<string, string?> Room(int capacity = 100, double refill = 10, string room = "concert", IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["WaitingRoom:SigningKeys:0:Id"] = "test",
            ["WaitingRoom:SigningKeys:0:Secret"] = Infrastructure.TestConfig.TestSecret,
            ["WaitingRoom:JoinsPerClientPerMinute"] = "0",
            ["WaitingRoom:MaxPlacesPerClient"] = "0",
            ["WaitingRoom:PollsPerClientPerMinute"] = "0",
            ["WaitingRoom:MaintenanceInterval"] = "00:00:00.200",
            ["WaitingRoom:RetryAfter"] = "00:00:02",
            [$"WaitingRoom:Rooms:{room}:Capacity"] = capacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [$"WaitingRoom:Rooms:{room}:RefillPerSecond"] = refill.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            settings[key] = value;
        return settings;
    }
}
