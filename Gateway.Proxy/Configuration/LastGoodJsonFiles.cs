using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace Gateway.Proxy.Configuration;

/// <summary>
/// JSON configuration files that keep their last good contents when an edit cannot be parsed or the file goes
/// missing. The framework's provider answers a broken file (a stray comma in a ConfigMap) or a missing one (an
/// editor's save by rename caught half-way, a ConfigMap key removed) on reload by emptying its data without a
/// word: nothing changes until any other source reloads, and then every room, route and admin key of that file is
/// gone at once. Here such a reload leaves the previous data in force and is reported (log event 103); the next
/// good save applies as usual. An optional file absent at start-up counts as empty and good, so a broken first
/// version of it is refused the same way. A file that does not parse at start-up still stops the start.
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
            var kept = new KeptFile();
            // The provider reads through a view of the file system that answers a missing file with its last good bytes.
            return new Provider(new Source
            {
                FileProvider = FileProvider is null ? null : new KeepingFileProvider(FileProvider, kept),
                Path = Path ?? string.Empty,
                Optional = Optional,
                ReloadOnChange = ReloadOnChange,
                ReloadDelay = ReloadDelay,
                OnLoadException = OnLoadException,
            }, kept);
        }
    }

    /// <summary>The bytes of the file's last good version, and whether the read in progress is of them (the file is missing).</summary>
    internal sealed class KeptFile
    {
        public byte[]? Bytes;
        public bool Serving;
    }

    internal sealed class Provider(JsonConfigurationSource source, KeptFile kept) : JsonConfigurationProvider(source)
    {
        private bool _loaded;

        /// <summary>An edit that was refused: the file's path and why.</summary>
        public event Action<string, string>? Rejected;

        public override void Load()
        {
            base.Load();
            // From here every version must parse: an optional file absent at start-up was an empty, good one.
            _loaded = true;
        }

        public override void Load(Stream stream)
        {
            if (kept.Serving)
            {
                kept.Serving = false;
                base.Load(new MemoryStream(kept.Bytes!, writable: false));
                Rejected?.Invoke(Source.Path ?? "?", "the file is missing");
                return;
            }
            var bytes = Read(stream);
            try
            {
                // The parser builds a new dictionary and assigns it only when the whole file parsed.
                base.Load(new MemoryStream(bytes, writable: false));
                kept.Bytes = bytes;
                _loaded = true;
            }
            catch (Exception e) when (_loaded)
            {
                // Swallowed: the caller (the file provider's reload) then raises its change token with the old data,
                // so every listener sees the configuration it already had.
                Rejected?.Invoke(Source.Path ?? "?", (e.InnerException ?? e).Message);
            }
        }

        private static byte[] Read(Stream stream)
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
    }

    /// <summary>The file system as it is, except that a missing file that once parsed is its last good version.</summary>
    private sealed class KeepingFileProvider(IFileProvider inner, KeptFile kept) : IFileProvider
    {
        public IFileInfo GetFileInfo(string subpath)
        {
            var file = inner.GetFileInfo(subpath);
            if (file.Exists || kept.Bytes is not { } bytes)
                return file;
            kept.Serving = true;
            return new KeptFileInfo(bytes, file.Name);
        }

        public IDirectoryContents GetDirectoryContents(string subpath) => inner.GetDirectoryContents(subpath);

        public IChangeToken Watch(string filter) => inner.Watch(filter);
    }

    private sealed class KeptFileInfo(byte[] bytes, string name) : IFileInfo
    {
        public bool Exists => true;

        public long Length => bytes.Length;

        public string? PhysicalPath => null;

        public string Name => name;

        public DateTimeOffset LastModified => DateTimeOffset.MinValue;

        public bool IsDirectory => false;

        public Stream CreateReadStream() => new MemoryStream(bytes, writable: false);
    }

    [LoggerMessage(103, LogLevel.Error, "Configuration file {Path} was edited but cannot be used; its last good contents stay in force: {Error}")]
    private static partial void RejectedEdit(ILogger logger, string path, string error);
}
