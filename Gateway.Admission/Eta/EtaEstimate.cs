namespace Gateway.Admission.Eta;

/// <summary>An estimated wait in whole seconds and how much to trust it, in [0, 1].</summary>
public readonly record struct EtaEstimate(long Seconds, double Confidence);
