using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Proxy.Hosting;

/// <summary>
/// <c>Kestrel:Limits</c> onto Kestrel's limits. Kestrel itself reads only its endpoints from configuration, so the
/// limits the shipped appsettings.json sets apply through this binding, once, when the server starts. A misspelt key
/// or a value Kestrel refuses stops the start with the key's path and value: a limit that silently does not apply is
/// worse than no start. The two data rates (<c>MinRequestBodyDataRate</c>, <c>MinResponseDataRate</c>), whose type
/// the binder cannot build, take <c>BytesPerSecond</c> and <c>GracePeriod</c>. They cannot be switched off: without
/// them nothing bounds a body or a response trickled a byte at a time, and a few thousand such clients hold the
/// public connection cap.
/// </summary>
internal static class KestrelLimits
{
    private static readonly string[] DataRates = [nameof(KestrelServerLimits.MinRequestBodyDataRate), nameof(KestrelServerLimits.MinResponseDataRate)];

    public static void Bind(IConfigurationSection section, KestrelServerLimits limits)
    {
        var rest = Without(section, DataRates);
        try
        {
            rest.Bind(limits, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (Exception ex) when (IsBindFailure(ex))
        {
            // The binder names neither the key nor the value when a limit's setter refuses it: find the entry that fails alone.
            var culprit = rest.GetChildren().FirstOrDefault(child => !BindsAlone(rest, child)) ?? section;
            // A value out of range throws from the limit's setter, which the binder calls by reflection.
            var reason = ex is TargetInvocationException { InnerException: { } inner } ? inner.Message : ex.Message;
            throw Refused(culprit, reason, ex);
        }
        if (section.GetSection(nameof(KestrelServerLimits.MinRequestBodyDataRate)) is { } body && body.Exists())
            limits.MinRequestBodyDataRate = DataRate(body);
        if (section.GetSection(nameof(KestrelServerLimits.MinResponseDataRate)) is { } response && response.Exists())
            limits.MinResponseDataRate = DataRate(response);
    }

    /// <summary>A data rate: <c>BytesPerSecond</c> (above 0) and an optional <c>GracePeriod</c> (hh:mm:ss, above 1 s and at most a minute; 5 s when not given).</summary>
    private static MinDataRate DataRate(IConfigurationSection rate)
    {
        if (rate.Value is not null)
            throw Refused(rate, "a data rate has BytesPerSecond and GracePeriod (it cannot be switched off: nothing else bounds a trickled body or response)", null);
        foreach (var child in rate.GetChildren())
        {
            if (!child.Key.Equals(nameof(MinDataRate.BytesPerSecond), StringComparison.OrdinalIgnoreCase) &&
                !child.Key.Equals(nameof(MinDataRate.GracePeriod), StringComparison.OrdinalIgnoreCase))
                throw Refused(child, "a data rate has only BytesPerSecond and GracePeriod", null);
        }
        var bytes = rate.GetSection(nameof(MinDataRate.BytesPerSecond));
        if (!double.TryParse(bytes.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var bytesPerSecond) || !(bytesPerSecond > 0) || double.IsInfinity(bytesPerSecond))
            throw Refused(bytes, "BytesPerSecond must be a number above 0 (Kestrel's default is 240)", null);
        var grace = rate.GetSection(nameof(MinDataRate.GracePeriod));
        var gracePeriod = TimeSpan.FromSeconds(5);
        // "5" alone would read as five days: only the hh:mm:ss form, and at most a minute.
        if (grace.Value is not null && (!grace.Value.Contains(':', StringComparison.Ordinal) ||
            !TimeSpan.TryParse(grace.Value, CultureInfo.InvariantCulture, out gracePeriod) || gracePeriod <= TimeSpan.FromSeconds(1) || gracePeriod > TimeSpan.FromMinutes(1)))
            throw Refused(grace, "GracePeriod must be hh:mm:ss, above 1 s and at most a minute (e.g. 00:00:05)", null);
        return new MinDataRate(bytesPerSecond, gracePeriod);
    }

    private static InvalidOperationException Refused(IConfigurationSection culprit, string reason, Exception? inner) =>
        new($"{culprit.Path}{(culprit.Value is null ? "" : $" is '{culprit.Value}'")}: {reason} (Kestrel:Limits takes Kestrel's KestrelServerLimits, e.g. MaxRequestHeaderCount = 64, MinRequestBodyDataRate = {{BytesPerSecond = 240, GracePeriod = 00:00:05}}).", inner);

    /// <summary>What the binder throws for a value it cannot convert, an unknown key, or a setter that refuses the value.</summary>
    private static bool IsBindFailure(Exception ex) => ex is InvalidOperationException or ArgumentException or TargetInvocationException;

    /// <summary><paramref name="section"/> as a configuration of its own, without the children named <paramref name="keys"/>.</summary>
    private static IConfigurationSection Without(IConfigurationSection section, string[] keys)
    {
        var entries = section.GetChildren()
            .Where(child => !keys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            .SelectMany(child => child.AsEnumerable());
        return new ConfigurationBuilder().AddInMemoryCollection(entries).Build().GetSection(section.Path);
    }

    private static bool BindsAlone(IConfigurationSection section, IConfigurationSection child)
    {
        var alone = new ConfigurationBuilder().AddInMemoryCollection(child.AsEnumerable()).Build().GetSection(section.Path);
        try
        {
            alone.Bind(new KestrelServerLimits(), o => o.ErrorOnUnknownConfiguration = true);
            return true;
        }
        catch (Exception ex) when (IsBindFailure(ex))
        {
            return false;
        }
    }
}
