using Gateway.Admission.Queue;
using Xunit.Abstractions;

namespace Gateway.Tests.Queue;

/// <summary>
/// The fairness statistics themselves: a fair shuffle passes them and a biased one fails them, at the size
/// the opening tests use (3,000 people), with fixed seeds so every figure here is the same on every run.
/// </summary>
[Trait("Category", "Fast")]
public sealed class ShuffleStatisticsTests(ITestOutputHelper output)
{
    private const int People = 3000;

    [Fact]
    public void UniformShuffles_Pass_WithFixedSeeds()
    {
        var worst = (Chi: 0.0, Ks: 0.0, Z: 0.0);
        for (var seed = 1; seed <= 50; seed++)
        {
            var statistics = ShuffleStatistics.Of(Shuffled(new Random(seed)));
            Assert.True(statistics.Uniform, $"seed {seed}: {statistics}");
            worst = (Math.Max(worst.Chi, statistics.ChiSquare), Math.Max(worst.Ks, statistics.KsMax), Math.Max(worst.Z, Math.Abs(statistics.SpearmanZ)));
        }
        output.WriteLine($"50 uniform shuffles of {People}: worst chi-square {worst.Chi:F1}, worst KS {worst.Ks:F2}, worst |z| {worst.Z:F2}");
    }

    [Fact]
    public void NoShuffle_IsRejected()
    {
        var statistics = Report("join order kept", Enumerable.Range(0, People).ToArray());
        Assert.False(statistics.ChiSquarePasses);
        Assert.False(statistics.KsPasses);
        Assert.False(statistics.SpearmanPasses);
    }

    [Fact]
    public void JoinOrderKeptWithinBatchesOf100_BatchesShuffled_IsRejected()
    {
        var random = new Random(7);
        var batches = Enumerable.Range(0, People / 100).OrderBy(_ => random.Next()).ToArray();
        var order = batches.SelectMany(b => Enumerable.Range(b * 100, 100)).ToArray();

        var statistics = Report("batches of 100 in join order, batches shuffled", order);
        Assert.False(statistics.ChiSquarePasses);
        Assert.False(statistics.KsPasses);
    }

    [Fact]
    public void ShuffledOnlyWithinBatchesOf100_IsRejected()
    {
        var random = new Random(8);
        var order = Enumerable.Range(0, People / 100)
            .SelectMany(b => Enumerable.Range(b * 100, 100).OrderBy(_ => random.Next()))
            .ToArray();

        var statistics = Report("shuffled within batches of 100 only", order);
        Assert.False(statistics.ChiSquarePasses);
        Assert.False(statistics.KsPasses);
        Assert.False(statistics.SpearmanPasses);
    }

    [Fact]
    public void PartialShuffle_HalfKeepTheirJoinSlot_IsRejected()
    {
        var random = new Random(9);
        var order = Enumerable.Range(0, People).ToArray();
        var moving = Enumerable.Range(0, People).Where(_ => random.Next(2) == 0).ToArray();
        var shuffled = moving.OrderBy(_ => random.Next()).ToArray();
        for (var i = 0; i < moving.Length; i++)
            order[moving[i]] = shuffled[i];

        var statistics = Report("half the people keep their join slot, the rest shuffled", order);
        Assert.False(statistics.Uniform);
        Assert.False(statistics.SpearmanPasses);
    }

    [Fact]
    public void SlightHeadStartForEarlyJoiners_IsRejected()
    {
        // Sorted by a uniform draw minus a head start of 0.15 for the first joiner, falling to 0 for the last:
        // the first joiner's draw is as good as one 15% of the line further forward.
        var random = new Random(10);
        var order = Enumerable.Range(0, People).OrderBy(i => random.NextDouble() - (0.15 * (People - i) / People)).ToArray();

        var statistics = Report("head start of 15% of the line for the first joiner", order);
        Assert.False(statistics.SpearmanPasses);
    }

    [Fact]
    public void PrequeueScore_IsA53BitInteger_UniformOverItsRange()
    {
        const int draws = 100_000;
        var scores = Enumerable.Range(0, draws).Select(_ => QueueService.PrequeueScore()).ToArray();

        // Exact in a double (so in a Redis sorted-set score): whole numbers below 2^53.
        Assert.All(scores, s => Assert.True(s >= 0 && s < 9007199254740992.0 && s == Math.Floor(s), $"{s}"));
        Assert.Equal(draws, scores.Distinct().Count());
        // Kolmogorov-Smirnov against uniform on [0, 2^53): false alarm about 1e-6.
        var sorted = scores.Order().Select(s => s / 9007199254740992.0).ToArray();
        var d = sorted.Select((u, i) => Math.Max(Math.Abs(((i + 1.0) / draws) - u), Math.Abs((i / (double)draws) - u))).Max();
        Assert.True(Math.Sqrt(draws) * d < ShuffleStatistics.KsLimit, $"sqrt(n) D = {Math.Sqrt(draws) * d:F2}");
    }

    private ShuffleStatistics Report(string what, int[] order)
    {
        var statistics = ShuffleStatistics.Of(order);
        output.WriteLine($"{what}: {statistics}");
        return statistics;
    }

    private static int[] Shuffled(Random random)
    {
        var order = Enumerable.Range(0, People).ToArray();
        random.Shuffle(order);
        return order;
    }
}
