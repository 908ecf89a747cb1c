using Microsoft.Extensions.Configuration.Json;

namespace Gateway.Proxy.Configuration;

/// <summary>
/// JSON configuration files that keep their last good contents when an edit cannot be parsed. The framework's
/// provider answers a broken file (a stray comma in a ConfigMap) on reload by emptying its data without a word:
/// nothing changes until any other source reloads, and then every room, route and admin key of that file is
/// gone at once. Here a file that does not parse on a reload leaves its previous data in force and is reported
/// (log event 103); the next good save applies as usual. A file that does not parse at
/// start-up still stops the start, as before.
/// </summary>
internal static partial class LastGoodJsonFiles
{
    /// <summary>Replaces every reloadable JSON file source of <paramref name="configuration"/> (appsettings*.json and the like) with one that keeps its last good contents.</summary>
    public static void Apply(IConfigurationBuilder configuration)
    {
        for (var i = 0; i < configuration.Sources.Count; i++)
        {
            if (configuration.Sources[i] is JsonConfigurationSource { ReloadOnChange: true } source and not Source)
                configuration.Sources[i] = From(source);
        }
    }

    /// <summary>A last-good source reading the same file the same way as <paramref name="source"/>.</summary>
    public static JsonConfigurationSource From(JsonConfigurationSource source) => new Source
    {
        FileProvider = source.FileProvider,
        Path = source.Path ?? string.Empty,
        Optional = source.Optional,
        ReloadOnChange = source.ReloadOnChange,
        ReloadDelay = source.ReloadDelay,
        OnLoadException = source.OnLoadException,
    };

    /// <summary>Tells <paramref name="logger"/> about every edit a last-good file of <paramref name="configuration"/> refused.</summary>
    public static void Report(IConfiguration configuration, ILogger logger)
    {
        if (configuration is not IConfigurationRoot root)
            return;
        foreach (var provider in root.Providers.OfType<Provider>())
            provider.Rejected += (path, error) => RejectedEdit(logger, path, error);
    }

    private sealed class Source : JsonConfigurationSource
    {
        public override IConfigurationProvider Build(IConfigurationBuilder builder)
        {
            EnsureDefaults(builder);
            return new Provider(this);
        }
    }

    internal sealed class Provider(JsonConfigurationSource source) : JsonConfigurationProvider(source)
    {
        private bool _loaded;

        /// <summary>An edit that did not parse: the file's path and why.</summary>
        public event Action<string, string>? Rejected;

        public override void Load(Stream stream)
        {
            try
            {
                // The parser builds a new dictionary and assigns it only when the whole file parsed.
                base.Load(stream);
                _loaded = true;
            }
            catch (Exception e) when (_loaded)
            {
                // Swallowed: the caller (the file provider's reload) then raises its change token with the old data,
                // so every listener sees the configuration it already had.
                Rejected?.Invoke(Source.Path ?? "?", (e.InnerException ?? e).Message);
            }
        }
    }

    [LoggerMessage(103, LogLevel.Error, "Configuration file {Path} was edited but does not parse; its last good contents stay in force: {Error}")]
    private static partial void RejectedEdit(ILogger logger, string path, string error);
}
