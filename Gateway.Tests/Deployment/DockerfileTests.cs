using Gateway.Tests.Infrastructure;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Gateway.Tests.Deployment;

/// <summary>
/// The Dockerfile builds what the chart expects to run: the published gateway on the chiseled runtime, as
/// the non-root app user, on port 8080. No image can be built here (no container engine), so these read the
/// file; the publish command itself is the one `dotnet publish` line tests and docs can point at.
/// </summary>
[Trait("Category", "Fast")]
public sealed partial class DockerfileTests
{
    private static readonly string[] Lines = File.ReadAllLines(Repo.File("Dockerfile"));

    private static IEnumerable<string> Instructions(string name) =>
        Lines.Where(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Select(l => l[(name.Length + 1)..].Trim());

    /// <summary>The command on the RUN line after the `# publish-command` marker.</summary>
    public static string PublishCommand()
    {
        var marker = Array.FindIndex(Lines, l => l.StartsWith("# publish-command", StringComparison.Ordinal));
        Assert.True(marker >= 0, "Dockerfile has no '# publish-command' line");
        var run = Lines[marker + 1];
        Assert.StartsWith("RUN ", run, StringComparison.Ordinal);
        return run["RUN ".Length..].Trim();
    }

    [Fact]
    public void Dockerfile_PublishesWithTheOneMarkedCommand()
    {
        Assert.Equal("dotnet publish Gateway.Proxy/Gateway.Proxy.csproj -c Release -o /app/publish -p:UseAppHost=false -p:EmbeddedStore=false", PublishCommand());
        Assert.Single(Lines, l => l.Contains("dotnet publish", StringComparison.Ordinal) && !l.StartsWith('#'));
    }

    [Fact]
    public void Dockerfile_BuildsOnTheSdkAndRunsOnTheChiseledRuntime_AsTheAppUser()
    {
        var from = Instructions("FROM").ToList();
        Assert.Equal(2, from.Count);
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0 ", from[0], StringComparison.Ordinal);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled ", from[1], StringComparison.Ordinal);

        var runtime = Lines.SkipWhile(l => !l.StartsWith("FROM mcr.microsoft.com/dotnet/aspnet", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(runtime, l => l.StartsWith("RUN ", StringComparison.Ordinal)); // no shell in a chiseled image
        Assert.Contains("USER 1654", runtime);
        Assert.Contains("WORKDIR /app", runtime);
        Assert.Contains("EXPOSE 8080", runtime);
        Assert.Contains(runtime, l => l.Contains("ASPNETCORE_URLS=http://+:8080", StringComparison.Ordinal));
        Assert.Contains(runtime, l => l.StartsWith("COPY --from=build /app/publish ", StringComparison.Ordinal));
        Assert.Equal("[\"dotnet\", \"Gateway.Proxy.dll\"]", Assert.Single(Instructions("ENTRYPOINT")));
        Assert.Empty(Instructions("HEALTHCHECK"));
        Assert.Contains(Lines, l => l.Contains("org.opencontainers.image.source", StringComparison.Ordinal));
        Assert.Contains(Lines, l => l.Contains("org.opencontainers.image.revision", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"^COPY (?!--from)(.+) (\S+)$")]
    private static partial Regex CopyLine();

    [Fact]
    public void Dockerfile_CopiesEveryProjectThatGatewayProxyReferences()
    {
        var copied = Lines.Select(l => CopyLine().Match(l)).Where(m => m.Success)
            .SelectMany(m => m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToList();

        foreach (var project in ProjectClosure(Repo.File("Gateway.Proxy", "Gateway.Proxy.csproj")))
        {
            var relative = Path.GetRelativePath(Repo.Root, project).Replace('\\', '/');
            var dir = Path.GetDirectoryName(relative)!.Replace('\\', '/') + "/";
            Assert.Contains(relative, copied); // restore layer
            Assert.Contains(dir, copied); // sources
        }
        foreach (var file in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" })
            Assert.Contains(file, copied);
    }

    private static HashSet<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>([Path.GetFullPath(project)]);
        while (queue.TryDequeue(out var next))
        {
            if (!seen.Add(next))
                continue;
            // The image is built with EmbeddedStore=false: the embedded store's reference is not part of it.
            foreach (var reference in XDocument.Load(next).Descendants("ProjectReference").Where(r => r.Attribute("Condition") is null))
            {
                var include = reference.Attribute("Include")!.Value.Replace('\\', '/');
                queue.Enqueue(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(next)!, include)));
            }
        }
        return seen;
    }

    [Fact]
    public void Dockerignore_KeepsBuildOutputToolsTestsAndGitOutOfTheContext()
    {
        var ignored = File.ReadAllLines(Repo.File(".dockerignore")).Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal);

        foreach (var entry in new[] { "**/bin/", "**/obj/", ".git", ".tools/", "Gateway.Tests/", "docs/", "loadtest/", "charts/" })
            Assert.Contains(entry, ignored);
        // Nothing the Dockerfile copies may be ignored.
        Assert.DoesNotContain("Gateway.Proxy/", ignored);
        Assert.DoesNotContain("Gateway.Admission/", ignored);
    }
}
