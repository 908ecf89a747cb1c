namespace Gateway.Admission.Eta;

/// <summary>An estimated wait in whole seconds and how much to trust it, in [0, 1].</summary>
public readonly record struct EtaEstimate(long Seconds, double Confidence);

/// <summary>A room's <c>MaxActive</c> as the ETA sees it.</summary>
/// <param name="Max">At most this many admissions in force at once.</param>
/// <param name="InUse">Admissions in force and reserved (ready, not yet entered) at the last tick.</param>
/// <param name="AdmissionTtl">The longest an admission stays in force.</param>
internal readonly record struct ActiveCap(long Max, long InUse, TimeSpan AdmissionTtl)
{
    /// <summary>Slots promotions can still fill at the bucket's pace.</summary>
    public long Free => Math.Max(0, Max - InUse);
}
