using System.Collections.Concurrent;
using Gateway.Admission.Rooms;

namespace Gateway.Admission.Queue;

/// <summary>
/// Revocations the store could not take (it was unreachable): the instance that received one already stops
/// honouring the admission, and keeps it here until a tick finds the store back and hands it over, so every
/// other instance learns it and its MaxActive slot is freed. Nobody else would repeat it: an origin's
/// <c>X-Waiting-Room-Command: revoke</c> is removed from the response, and an operator told 503 may not retry.
/// Bounded: past <see cref="Limit"/> the newest are refused (and logged); an entry older than its room's
/// AdmissionTtl is dropped, since the admission has ended by itself.
/// </summary>
internal sealed class PendingRevocations
{
    /// <summary>At most this many kept (about 100 bytes each).</summary>
    public const int Limit = 100_000;

    private readonly ConcurrentQueue<Entry> _entries = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Keeps a revocation for the store; false when the queue is full.</summary>
    public bool Add(Room room, string admissionId, DateTimeOffset at)
    {
        if (Interlocked.Increment(ref _count) > Limit)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }
        _entries.Enqueue(new Entry(room, admissionId, at));
        return true;
    }

    /// <summary>Takes the oldest, or false when there is none.</summary>
    public bool TryTake(out Entry entry)
    {
        if (!_entries.TryDequeue(out entry))
            return false;
        Interlocked.Decrement(ref _count);
        return true;
    }

    internal readonly record struct Entry(Room Room, string AdmissionId, DateTimeOffset At);
}
