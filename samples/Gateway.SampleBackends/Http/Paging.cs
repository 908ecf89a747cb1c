using System.Globalization;

namespace Gateway.SampleBackends.Http;

/// <summary>The <c>limit</c> query parameter of list endpoints.</summary>
internal static class Paging
{
    private const int DefaultLimit = 20;
    private const int MaxLimit = 100;

    /// <summary>The requested page size, clamped to 1..100; 20 when absent or not a number.</summary>
    public static int Limit(string? raw) =>
        int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
            ? Math.Clamp(limit, 1, MaxLimit)
            : DefaultLimit;
}

/// <summary>A page of the newest items, with how many the service holds in all.</summary>
internal sealed record ListResponse<T>(IReadOnlyList<T> Items, int Total);
