using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Admission.Api;
using Gateway.Admission.ProofOfWork;
using Gateway.PowSolver;

namespace Gateway.Tests.ProofOfWork;

/// <summary>docs/API.md's "Proof of work" section stays true: the endpoint, fields, codes, keys, defaults and its example.</summary>
[Trait("Category", "Fast")]
public sealed partial class ProofOfWorkDocTests
{
    [GeneratedRegex("""\{"event_id": "concert", "pow": \{"challenge": "(?<challenge>[^"]+)", "nonce": "(?<nonce>[^"]+)"\}\}""")]
    private static partial Regex ExampleJoin();

    [Fact]
    public void ApiDoc_ProofOfWorkSection_NamesWhatTheGatewayDoes()
    {
        var doc = File.ReadAllText(RepoFile("docs", "API.md"));
        var start = doc.IndexOf("## Proof of work", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/API.md has a \"## Proof of work\" section");
        var next = doc.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = next < 0 ? doc[start..] : doc[start..next];

        Assert.Contains("GET /api/v1/queue/challenge?event_id=", section, StringComparison.Ordinal);
        Assert.Contains(Challenges.Algorithm, section, StringComparison.Ordinal);
        var response = JsonSerializer.SerializeToElement(new ChallengeResponse("c", Challenges.Algorithm, 1, DateTimeOffset.UnixEpoch, true, "e"), QueueJsonContext.Api.ChallengeResponse);
        Assert.All(response.EnumerateObject(), field => Assert.Contains($"\"{field.Name}\"", section, StringComparison.Ordinal));
        foreach (var code in new[] { ApiErrorCode.ChallengeRequired, ApiErrorCode.ChallengeInvalid, ApiErrorCode.ChallengeExpired, ApiErrorCode.InvalidEventId, ApiErrorCode.EventNotFound })
            Assert.Contains("`" + ApiError.Name(code) + "`", section, StringComparison.Ordinal);
        foreach (var key in new[] { "Enabled", "Difficulty", "ChallengeTtl", "AutoDifficulty:JoinsPerSecond", "AutoDifficulty:MaxDifficulty", "AutoDifficulty:Window", ChallengeDifficulty.OverrideField })
            Assert.Contains("`" + key + "`", section, StringComparison.Ordinal);
        var defaults = new ProofOfWorkOptions();
        Assert.Contains($"| `Difficulty` | leading zero bits, 1-{ProofOfWorkOptions.MaxBits} | `{defaults.Difficulty}`", section, StringComparison.Ordinal);
        Assert.Contains($"`{defaults.ChallengeTtl:hh\\:mm\\:ss}`", section, StringComparison.Ordinal);
        Assert.Contains($"1-{Challenges.MaxNonceLength} characters", section, StringComparison.Ordinal);
        Assert.Contains($"at most {Challenges.MaxChallengeLength} characters", section, StringComparison.Ordinal);

        // The example join's nonce really solves its challenge at the difficulty the challenge names.
        var example = ExampleJoin().Match(section);
        Assert.True(example.Success, "the section shows a join body with pow");
        var challenge = example.Groups["challenge"].Value;
        Assert.True(ProofOfWorkSolver.IsSolution(challenge, example.Groups["nonce"].Value, int.Parse(challenge.Split('.')[2], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains($"\"challenge\": \"{challenge}\"", section, StringComparison.Ordinal); // the same challenge in the GET example
    }

    private static string RepoFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Proxy.sln")))
                return Path.Combine([dir.FullName, .. parts]);
        }
        throw new InvalidOperationException("Proxy.sln not found above " + AppContext.BaseDirectory);
    }
}
