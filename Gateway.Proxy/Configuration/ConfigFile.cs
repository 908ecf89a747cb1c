using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace Gateway.Proxy.Configuration;

/// <summary>
/// <c>Gateway:ConfigFile</c>: one more JSON configuration file (e.g. a Kubernetes ConfigMap's
/// <c>appsettings.Production.json</c>), read after the others and watched by polling. The kubelet updates a
/// mounted ConfigMap by swapping a <c>..data</c> symlink, which file-system events miss; the polling watcher
/// compares the file's (link target's) write time every few seconds, so routes edited in the ConfigMap apply
/// without a restart. When the file is given it alone defines the routes, clusters and rooms: the samples in
/// the shipped appsettings.json never leak into a deployment.
/// </summary>
internal static class ConfigFile
{
    public const string Key = "Gateway:ConfigFile";

    /// <summary>Adds the file to <paramref name="configuration"/>; returns a configuration of the file alone, or null when none is set.</summary>
    public static IConfiguration? Add(ConfigurationManager configuration)
    {
        var path = configuration[Key];
        if (string.IsNullOrWhiteSpace(path))
            return null;
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new InvalidOperationException($"{Key} is '{path}', but there is no file at '{full}'; fix the path or mount the file (e.g. /etc/waiting-room/appsettings.Production.json).");
        var source = new JsonConfigurationSource { FileProvider = Watch(full), Path = Path.GetFileName(full), Optional = false, ReloadOnChange = true };
        ((IConfigurationBuilder)configuration).Add(LastGoodJsonFiles.From(source));
        // The file alone, read through the same provider: one read of the file serves both views, so the rooms taken
        // from it never lag an edit behind the rest of the configuration (a second provider polls on its own).
        return new ConfigurationRoot([((IConfigurationRoot)configuration).Providers.Last()]);
    }

    private static PhysicalFileProvider Watch(string file) =>
        new(Path.GetDirectoryName(file)!) { UsePollingFileWatcher = true, UseActivePolling = true };
}
