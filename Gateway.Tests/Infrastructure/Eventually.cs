namespace Gateway.Tests.Infrastructure;

/// <summary>Waits for a condition that becomes true asynchronously (config reload, a background tick), with a generous bound.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
                return;
            await Task.Delay(100);
        }
        Assert.Fail("condition not met in time" + (because is null ? "" : ": " + because));
    }
}
