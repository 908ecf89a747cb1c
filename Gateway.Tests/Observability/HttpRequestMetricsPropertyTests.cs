using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gateway.Proxy.Diagnostics;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Observability;

/// <summary>The <c>method</c> label of the request metrics comes from a closed set whatever method a client sends.</summary>
[Properties(Arbitrary = [typeof(HostileInput), typeof(HttpRequestMetricsPropertyTests)], MaxTest = 5_000, Replay = "2026120116,1208070919")]
[Trait("Category", "Fast")]
public sealed class HttpRequestMetricsPropertyTests
{
    private static readonly string[] Standard = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"];

    /// <summary>Standard methods in random case, and near misses (a letter more or less, look-alike characters).</summary>
    public static Arbitrary<Method> Methods() => Arb.From(
        from method in Gen.Elements(Standard)
        from seed in Gen.Choose(0, int.MaxValue - 1)
        from change in Gen.Elements("none", "case", "append", "trim", "lookalike")
        select new Method(Vary(method, change, new Random(seed))));

    [Property]
    public void AnyMethod_IsOneOfTheNineStandardMethodsOrOther(HostileString method) => Check(method.Value);

    [Property]
    public void MethodsNearTheStandardOnes_AreLabelledAsTheStandardOneOnlyWhenTheyAreIt(Method method) => Check(method.Value);

    private static void Check(string method)
    {
        var label = HttpRequestMetrics.Method(method);
        if (Standard.Contains(method.ToUpperInvariant()) && System.Text.Ascii.IsValid(method))
            Assert.Equal(method.ToUpperInvariant(), label);
        else
            Assert.Equal("OTHER", label);
    }

    private static string Vary(string method, string change, Random random) => change switch
    {
        "case" => new string([.. method.Select(c => random.Next(2) == 0 ? char.ToLowerInvariant(c) : c)]),
        "append" => method + "ABCDEFGHIJKLMNOPQRSTUVWXYZ_- "[random.Next(29)],
        "trim" => method[..^1],
        "lookalike" => method.Replace('I', '\u0130').Replace('T', '\uff34').Replace('E', '\u0395'),
        _ => method,
    };

    public sealed record Method(string Value)
    {
        public override string ToString() => HostileInput.Describe(Value);
    }
}
