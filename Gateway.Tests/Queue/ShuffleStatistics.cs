using System.Globalization;

namespace Gateway.Tests.Queue;

/// <summary>
/// Is an order of people a uniformly random permutation of their join order? Three statistics, each with a
/// limit a uniformly random order exceeds with probability about 1e-6, so a test holding them fails on a
/// biased shuffle and (practically) never on a fair one:
/// <list type="bullet">
/// <item>chi-square of the 10 x 10 table join decile x position decile (81 degrees of freedom): any way the
/// join order shows through in where people end up;</item>
/// <item>Kolmogorov-Smirnov, per join decile, of its positions against the uniform distribution (Bonferroni over
/// the 10 deciles): one group of joiners sent to one part of the line;</item>
/// <item>Spearman's rank correlation of join order and position, as z = rho * sqrt(n - 1): early (or late)
/// joiners ahead on average, however slightly.</item>
/// </list>
/// </summary>
internal sealed record ShuffleStatistics(int People, double ChiSquare, double KsMax, double SpearmanZ)
{
    /// <summary>Two-sided normal quantile for a false alarm probability of 1e-6.</summary>
    public const double SpearmanLimit = 4.89;

    /// <summary>The chi-square (81 df) quantile for 1e-6, by Wilson-Hilferty (156.8).</summary>
    public static readonly double ChiSquareLimit = ChiSquareQuantile(81, 4.753);

    /// <summary>sqrt(m) * D for one decile, such that 2 exp(-2 x^2) = 1e-7 (1e-6 over ten deciles): 2.90.</summary>
    public static readonly double KsLimit = Math.Sqrt(Math.Log(2 / 1e-7) / 2);

    public bool ChiSquarePasses => ChiSquare < ChiSquareLimit;

    public bool KsPasses => KsMax < KsLimit;

    public bool SpearmanPasses => Math.Abs(SpearmanZ) < SpearmanLimit;

    public bool Uniform => ChiSquarePasses && KsPasses && SpearmanPasses;

    /// <summary>
    /// <paramref name="joinIndexByPosition"/>[p] is the join index (0 = first to join) of the person at
    /// position p (0 = front). A permutation of 0..n-1, n a multiple of 10 and at least 500.
    /// </summary>
    public static ShuffleStatistics Of(IReadOnlyList<int> joinIndexByPosition)
    {
        var n = joinIndexByPosition.Count;
        if (n < 500 || n % 10 != 0)
            throw new ArgumentException("the statistics need at least 500 people, a multiple of 10", nameof(joinIndexByPosition));
        if (joinIndexByPosition.Distinct().Count() != n || joinIndexByPosition.Min() != 0 || joinIndexByPosition.Max() != n - 1)
            throw new ArgumentException("not a permutation of 0..n-1", nameof(joinIndexByPosition));

        var table = new long[10, 10];
        var positionsByDecile = Enumerable.Range(0, 10).Select(_ => new List<int>()).ToArray();
        double squaredRankDifferences = 0;
        for (var position = 0; position < n; position++)
        {
            var joined = joinIndexByPosition[position];
            table[joined * 10 / n, position * 10 / n]++;
            positionsByDecile[joined * 10 / n].Add(position);
            squaredRankDifferences += (double)(joined - position) * (joined - position);
        }

        var expected = n / 100.0;
        double chi = 0;
        foreach (var count in table)
            chi += (count - expected) * (count - expected) / expected;

        double ksMax = 0;
        foreach (var positions in positionsByDecile)
        {
            positions.Sort();
            var m = positions.Count;
            double d = 0;
            for (var i = 0; i < m; i++)
            {
                // The uniform CDF at a position p of 0..n-1 is (p + 1) / n; the empirical one steps from i/m to (i+1)/m there.
                var cdf = (positions[i] + 1.0) / n;
                d = Math.Max(d, Math.Max(Math.Abs(((i + 1.0) / m) - cdf), Math.Abs((i / (double)m) - (positions[i] / (double)n))));
            }
            ksMax = Math.Max(ksMax, Math.Sqrt(m) * d);
        }

        var rho = 1 - (6 * squaredRankDifferences / (n * (((double)n * n) - 1)));
        return new ShuffleStatistics(n, chi, ksMax, rho * Math.Sqrt(n - 1));
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"n={People}: chi-square {ChiSquare:F1} (limit {ChiSquareLimit:F1}), KS max sqrt(m)D {KsMax:F2} (limit {KsLimit:F2}), Spearman z {SpearmanZ:F2} (limit +/-{SpearmanLimit:F2})");

    /// <summary>Wilson-Hilferty: the chi-square quantile for <paramref name="df"/> degrees of freedom at normal quantile <paramref name="z"/>.</summary>
    private static double ChiSquareQuantile(int df, double z)
    {
        var a = 2.0 / (9 * df);
        return df * Math.Pow(1 - a + (z * Math.Sqrt(a)), 3);
    }
}
