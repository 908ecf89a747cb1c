using System.Collections.Frozen;

namespace Gateway.Admission.Gate;

/// <summary>
/// The admissions revoked in any room (by the admin API, an origin's <c>X-Waiting-Room-Command: revoke</c>,
/// or their holder leaving), as this instance knows them: added locally at once, and from the store's list
/// by every tick, so every gate stops honouring a revoked admission within one tick while checking an
/// admission stays a local lookup (a frozen set swapped whole; no lock on the hot path).
/// </summary>
internal sealed class RevokedAdmissions(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _revoked = new(StringComparer.Ordinal);
    private volatile FrozenSet<string> _set = FrozenSet<string>.Empty;

    public int Count => _set.Count;

    public bool Contains(string admissionId) => _set.Count != 0 && _set.Contains(admissionId);

    public void Add(string admissionId, DateTimeOffset revokedAt) => AddRange([(admissionId, revokedAt.ToUnixTimeMilliseconds())]);

    /// <summary>Adds revocations read from the store.</summary>
    public void AddRange(IReadOnlyCollection<(string AdmissionId, long RevokedAtMs)> revocations)
    {
        if (revocations.Count == 0)
            return;
        lock (_gate)
        {
            var changed = false;
            foreach (var (id, at) in revocations)
                changed |= _revoked.TryAdd(id, DateTimeOffset.FromUnixTimeMilliseconds(at));
            if (changed)
                _set = _revoked.Keys.ToFrozenSet(StringComparer.Ordinal);
        }
    }

    /// <summary>Forgets revocations older than <paramref name="longestAdmission"/>: their admissions have expired anyway.</summary>
    public void Prune(TimeSpan longestAdmission)
    {
        var cutoff = time.GetUtcNow() - longestAdmission;
        lock (_gate)
        {
            var stale = _revoked.Where(r => r.Value < cutoff).Select(r => r.Key).ToList();
            if (stale.Count == 0)
                return;
            foreach (var id in stale)
                _revoked.Remove(id);
            _set = _revoked.Keys.ToFrozenSet(StringComparer.Ordinal);
        }
    }
}
