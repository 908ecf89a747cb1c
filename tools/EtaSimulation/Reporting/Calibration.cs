namespace Gateway.EtaSimulation.Reporting;

/// <summary>
/// How well confidence predicts error: samples grouped by the confidence they were given, with the accuracy
/// they turned out to have, and the rank correlation between confidence and accuracy (1 = confidence orders
/// the ETAs exactly by how right they were, 0 = it says nothing).
/// </summary>
internal sealed record Calibration(IReadOnlyList<CalibrationBand> Bands, double RankCorrelation)
{
    /// <summary>Expected calibration error: how far, on average over all samples, the band's confidence is from the band's accuracy.</summary>
    public double CalibrationError
    {
        get
        {
            var total = Bands.Sum(b => b.Count);
            return total == 0 ? double.NaN : Bands.Sum(b => b.Count * Math.Abs(b.MeanConfidence - b.MeanAccuracy)) / total;
        }
    }

    private static readonly double[] Edges = [0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0001];

    public static Calibration Of(IReadOnlyList<EtaSample> samples, Func<EtaSample, double> confidence, Func<EtaSample, double> accuracy)
    {
        var bands = new List<CalibrationBand>();
        for (var i = 0; i + 1 < Edges.Length; i++)
        {
            var (low, high) = (Edges[i], Edges[i + 1]);
            var inBand = samples.Where(s => confidence(s) >= low && confidence(s) < high).ToArray();
            if (inBand.Length == 0)
                continue;
            var accuracies = inBand.Select(accuracy).Order().ToArray();
            bands.Add(new CalibrationBand(low, Math.Min(high, 1), inBand.Length, inBand.Average(confidence), accuracies.Average(), AccuracySummary.Percentile(accuracies, 0.10)));
        }
        return new Calibration(bands, Spearman(samples.Select(confidence).ToArray(), samples.Select(accuracy).ToArray()));
    }

    private static double Spearman(double[] x, double[] y)
    {
        if (x.Length < 3)
            return double.NaN;
        var (rx, ry) = (Ranks(x), Ranks(y));
        double mx = rx.Average(), my = ry.Average(), sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < rx.Length; i++)
        {
            sxy += (rx[i] - mx) * (ry[i] - my);
            sxx += (rx[i] - mx) * (rx[i] - mx);
            syy += (ry[i] - my) * (ry[i] - my);
        }
        return sxx == 0 || syy == 0 ? 0 : sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>Ranks with ties sharing their average rank.</summary>
    private static double[] Ranks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && values[order[j + 1]] == values[order[i]])
                j++;
            for (var k = i; k <= j; k++)
                ranks[order[k]] = (i + j) / 2.0;
            i = j + 1;
        }
        return ranks;
    }
}

/// <summary>Samples whose confidence was in [<paramref name="Low"/>, <paramref name="High"/>).</summary>
internal sealed record CalibrationBand(double Low, double High, int Count, double MeanConfidence, double MeanAccuracy, double P10Accuracy);
