using System.Diagnostics;
using System.Globalization;
using System.Text;
using Gateway.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Gateway.Tests.Deployment;

internal sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);

internal static class Tool
{
    public static string Helm => Installed(Repo.File(".tools", "bin", "helm"));

    public static string ManifestCheck => Installed(Repo.File(".tools", "manifest-check", "validate.mjs"));

    private static string Installed(string path) =>
        System.IO.File.Exists(path)
            ? path
            : throw new InvalidOperationException(
                $"{path} is missing: run `bash build/tools.sh` (build/test.sh runs it before the tests) to install helm, kubectl and the manifest check into .tools/");

    public static ProcessResult Run(string fileName, IEnumerable<string> args, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repo.Root,
        };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        // Helm must not read a developer's kubeconfig or repositories: every render is offline.
        info.Environment["KUBECONFIG"] = "/nonexistent";
        info.Environment["HELM_CACHE_HOME"] = Path.Combine(Path.GetTempPath(), "wrg-helm-cache");
        info.Environment["HELM_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "wrg-helm-config");
        info.Environment["HELM_DATA_HOME"] = Path.Combine(Path.GetTempPath(), "wrg-helm-data");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            info.Environment[name] = value;

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + fileName);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', info.ArgumentList)} did not finish in time");
        }
        return new ProcessResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}

/// <summary>`helm template` of the chart, parsed into objects.</summary>
internal static class Chart
{
    public const string Release = "gw";
    public const string Namespace = "tickets";
    public const string FullName = "gw-waiting-room-gateway";

    public static string RequiredValues => Path.Combine(Repo.ChartDir, "ci", "required-values.yaml");

    public static string ProductionValues => Path.Combine(Repo.ChartDir, "values-production.yaml");

    /// <summary>Runs helm template with the given arguments (no values file is added).</summary>
    public static ProcessResult TemplateRaw(params string[] args) =>
        Tool.Run(Tool.Helm, ["template", Release, Repo.ChartDir, "--namespace", Namespace, .. args]);

    /// <summary>The default values plus only what the chart requires (ci/required-values.yaml), and <paramref name="args"/>.</summary>
    public static Rendered Default(params string[] args) => Render(["-f", RequiredValues, .. args]);

    /// <summary>values-production.yaml and <paramref name="args"/>.</summary>
    public static Rendered Production(params string[] args) => Render(["-f", ProductionValues, .. args]);

    private static Rendered Render(string[] args)
    {
        var result = TemplateRaw(args);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"helm template {string.Join(' ', args)} failed ({result.ExitCode}):\n{result.Stderr}");
        return new Rendered(result.Stdout);
    }
}

internal sealed class Rendered
{
    public Rendered(string yaml)
    {
        Text = yaml;
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        Objects = stream.Documents
            .Select(d => new Node(d.RootNode))
            .Where(n => n["kind"].Exists)
            .ToList();
    }

    public string Text { get; }

    public IReadOnlyList<Node> Objects { get; }

    public IEnumerable<Node> OfKind(string kind) => Objects.Where(o => o["kind"].Str == kind);

    public Node Single(string kind, string? name = null)
    {
        var matches = OfKind(kind).Where(o => name is null || o["metadata"]["name"].Str == name).ToList();
        Assert.True(matches.Count == 1, $"expected one {kind} {name}, found {matches.Count}");
        return matches[0];
    }

    public bool Has(string kind) => OfKind(kind).Any();

    public Node Deployment => Single("Deployment");

    public Node PodSpec => Deployment["spec"]["template"]["spec"];

    public Node Gateway => PodSpec["containers"].Items.Single(c => c["name"].Str == "gateway");

    public string? Env(string name) => Gateway["env"].Items.SingleOrDefault(e => e["name"].Str == name)?["value"].Str;

    public string? PodAnnotation(string name) => Deployment["spec"]["template"]["metadata"]["annotations"][name].Str;
}

/// <summary>Read-only access to a parsed YAML node; missing keys give a node whose Exists is false.</summary>
internal sealed class Node(YamlNode? node)
{
    public YamlNode? Raw => node;

    public bool Exists => node is not null && !(node is YamlScalarNode { Value: null or "~" or "null" } s && s.Style == YamlDotNet.Core.ScalarStyle.Plain);

    public Node this[string key] =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? new Node(value) : new Node(null);

    public Node this[int index] =>
        node is YamlSequenceNode seq && index < seq.Children.Count ? new Node(seq.Children[index]) : new Node(null);

    public string? Str => (node as YamlScalarNode)?.Value;

    public int Int => int.Parse(Str ?? throw new InvalidOperationException("not a scalar: " + this), CultureInfo.InvariantCulture);

    public IEnumerable<Node> Items => node is YamlSequenceNode seq ? seq.Children.Select(c => new Node(c)) : [];

    public IEnumerable<KeyValuePair<string, Node>> Entries =>
        node is YamlMappingNode map
            ? map.Children.Select(kv => new KeyValuePair<string, Node>(((YamlScalarNode)kv.Key).Value ?? "", new Node(kv.Value)))
            : [];

    /// <summary>Every scalar under this node with its dotted path (for scans).</summary>
    public IEnumerable<(string Path, string Value)> Scalars(string path = "")
    {
        switch (node)
        {
            case YamlScalarNode s:
                yield return (path, s.Value ?? "");
                break;
            case YamlMappingNode m:
                foreach (var (key, value) in Entries)
                {
                    foreach (var x in value.Scalars(path.Length == 0 ? key : path + "." + key))
                        yield return x;
                }
                break;
            case YamlSequenceNode q:
                var i = 0;
                foreach (var child in q.Children)
                {
                    foreach (var x in new Node(child).Scalars($"{path}[{i++}]"))
                        yield return x;
                }
                break;
        }
    }

    public override string ToString()
    {
        if (node is null)
            return "(missing)";
        var sb = new StringBuilder();
        new YamlStream(new YamlDocument(node)).Save(new StringWriter(sb, CultureInfo.InvariantCulture), assignAnchors: false);
        return sb.ToString();
    }
}
