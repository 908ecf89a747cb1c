using Gateway.Admission.Admin;
using Gateway.Tests.Infrastructure;
using static Gateway.Tests.Infrastructure.OptionsValidation;

namespace Gateway.Tests.Admin;

/// <summary>
/// <c>Admin</c>: every bad key entry, limit or URL fails validation with one message that names its full key and
/// says what to write instead; the defaults and a good configuration pass.
/// </summary>
[Trait("Category", "Fast")]
public sealed class AdminOptionsValidatorTests
{
    private const string Sha256 = "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b";

    private static readonly Dictionary<string, string?> Valid = new()
    {
        ["Admin:Keys:0:Id"] = "ops-oncall",
        ["Admin:Keys:0:Sha256"] = Sha256,
        ["Admin:Urls"] = "http://+:8081; https://127.0.0.1:8443",
    };

    [Fact]
    public void TheDefaults_AndAGoodConfiguration_Pass()
    {
        Assert.Empty(Failures([]));
        Assert.Empty(Failures(Valid));
    }

    [Theory]
    [InlineData("Admin:Keys:0:Id", "ops oncall", "Admin:Keys:0:Id must be 1-32 letters, digits, '-' or '_'", "(e.g. 'ops-oncall')")]
    [InlineData("Admin:Keys:0:Sha256", "not-hex", "Admin:Keys:0:Sha256 must be the hex SHA-256 of the bearer secret, 64 hex digits;", "printf %s \"$SECRET\" | sha256sum")]
    [InlineData("Admin:FailedAttemptsPerClientPerMinute", "0", "Admin:FailedAttemptsPerClientPerMinute is 0;", "(e.g. 10)")]
    [InlineData("Admin:MaxConcurrentConnections", "0", "Admin:MaxConcurrentConnections is 0;", "(e.g. 1000)")]
    [InlineData("Admin:Urls", "http://127.0.0.1:0", "Admin:Urls has 'http://127.0.0.1:0';", "(e.g. http://127.0.0.1:8081 or http://+:8081)")]
    [InlineData("Admin:Urls", "127.0.0.1:8081", "Admin:Urls has '127.0.0.1:8081';", "(e.g. http://127.0.0.1:8081 or http://+:8081)")]
    [InlineData("Admin:Urls", "http://unix:/tmp/admin.sock", "Admin:Urls has 'http://unix:/tmp/admin.sock';", "(e.g. http://127.0.0.1:8081 or http://+:8081)")]
    [InlineData("Admin:Urls", "http://127.0.0.1:8081;ftp://127.0.0.1:21", "Admin:Urls has 'ftp://127.0.0.1:21';", "(e.g. http://127.0.0.1:8081 or http://+:8081)")]
    public void ABadValue_FailsWithOneMessage_NamingItsKeyAndWhatToWrite(string key, string value, string failure, string fix)
    {
        var message = Assert.Single(Failures(new Dictionary<string, string?>(Valid) { [key] = value }));

        Assert.StartsWith(failure, message, StringComparison.Ordinal);
        Assert.Contains(fix, message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoKeysWithOneId_FailNamingTheSecond()
    {
        var failures = Failures(new Dictionary<string, string?>(Valid) { ["Admin:Keys:1:Id"] = "ops-oncall", ["Admin:Keys:1:Sha256"] = Sha256 });

        Assert.Equal(["Admin:Keys:1:Id 'ops-oncall' is used twice; every key needs its own id."], failures);
    }

    private static string[] Failures(IEnumerable<KeyValuePair<string, string?>> settings) =>
        OptionsValidation.Failures(new AdminOptionsValidator(), Bind<AdminOptions>(Configuration(settings), AdminOptions.SectionName));
}
