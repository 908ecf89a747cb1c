using Microsoft.Extensions.FileProviders;

namespace Gateway.Proxy.Configuration;

/// <summary>
/// <c>Gateway:ConfigFile</c>: one more JSON configuration file (e.g. a Kubernetes ConfigMap's
/// <c>appsettings.Production.json</c>), read after the others and watched by polling. The kubelet updates a
/// mounted ConfigMap by swapping a <c>..data</c> symlink, which file-system events miss; the polling watcher
/// compares the file's (link target's) write time every few seconds, so routes edited in the ConfigMap apply
/// without a restart.
/// </summary>
internal static class ConfigFile
{
    public const string Key = "Gateway:ConfigFile";

    public static void Add(ConfigurationManager configuration)
    {
        var path = configuration[Key];
        if (string.IsNullOrWhiteSpace(path))
            return;
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        if (!File.Exists(full))
            throw new InvalidOperationException($"{Key} is '{path}', but there is no file at '{full}'; fix the path or mount the file (e.g. /etc/waiting-room/appsettings.Production.json).");
        var provider = new PhysicalFileProvider(directory) { UsePollingFileWatcher = true, UseActivePolling = true };
        configuration.AddJsonFile(provider, Path.GetFileName(full), optional: false, reloadOnChange: true);
    }
}
