using System.Collections.Concurrent;
using System.Globalization;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;

namespace Gateway.Admission.ProofOfWork;

/// <summary>
/// How many bits a room's challenges ask for now. The floor is the room's <c>ProofOfWork:Difficulty</c>, or the
/// operators' override <c>pow_difficulty</c> in the room's control hash (the store's <c>ctl</c>, read by every
/// tick; the admin API can set it). The automatic mode adds bits while new places are created faster than
/// <c>AutoDifficulty:JoinsPerSecond</c>: the rate comes from a counter in the store (every instance's joins)
/// that each tick reads, so all instances see the same rate; each instance turns it into a difficulty itself,
/// so two instances may differ by a bit for a tick around a threshold. One bit per doubling of the rate over the
/// threshold, raised at once, lowered one bit per window, never above <c>MaxDifficulty</c>. All times are the
/// store's (the ticks' <see cref="RoomSnapshot.TakenAt"/>).
/// </summary>
internal sealed class ChallengeDifficulty(RoomSnapshots snapshots)
{
    /// <summary>The control-hash field that overrides <c>ProofOfWork:Difficulty</c> (1-32).</summary>
    public const string OverrideField = "pow_difficulty";

    private readonly ConcurrentDictionary<string, AutoLevel> _levels = new(StringComparer.Ordinal);

    /// <summary>
    /// The least difficulty a solution for <paramref name="room"/> may have now: the floor (configuration or the operators'
    /// override) exactly, and the automatic level less one bit. A raised difficulty makes easier challenges worthless, so
    /// a farm cannot solve a stock at the base price before a flood and spend it during one; the bit of slack is for
    /// instances that disagree around a threshold (each turns the store's join rate into a level itself), so a person's
    /// solve from one instance is not refused by the next for that alone.
    /// </summary>
    public int Least(Room room) => Math.Max(Floor(room.Options.ProofOfWork, snapshots.Get(room.Id)), Current(room) - 1);

    /// <summary>The difficulty of a challenge issued for <paramref name="room"/> now.</summary>
    public int Current(Room room)
    {
        var pow = room.Options.ProofOfWork;
        var snapshot = snapshots.Get(room.Id);
        var floor = Floor(pow, snapshot);
        var auto = pow.AutoDifficulty;
        if (auto.JoinsPerSecond <= 0 || snapshot is null)
            return floor;
        var ceiling = Math.Max(floor, auto.Ceiling(pow.Difficulty));
        var level = _levels.GetOrAdd(room.Id, static _ => new AutoLevel());
        lock (level)
            return floor + level.Observe(snapshot.TakenAt, snapshot.JoinsTotal, auto.JoinsPerSecond, auto.Window, ceiling - floor);
    }

    private static int Floor(ProofOfWorkOptions pow, RoomSnapshot? snapshot) =>
        snapshot is not null && snapshot.Overrides.TryGetValue(OverrideField, out var value)
            && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var bits) && bits is >= 1 and <= ProofOfWorkOptions.MaxBits
            ? bits
            : pow.Difficulty;

    /// <summary>One room's automatic extra bits, from the samples of the store's join counter.</summary>
    private sealed class AutoLevel
    {
        // A tick every 50 ms at the shortest over a 10-minute window at the longest: the samples are bounded.
        private const int MaxSamples = 12_000;
        private readonly Queue<(DateTimeOffset At, long Joins)> _samples = new();
        private (DateTimeOffset At, long Joins) _last = (DateTimeOffset.MinValue, 0);
        private DateTimeOffset _changedAt = DateTimeOffset.MinValue;
        private int _extra;

        /// <summary>Adds the sample if it is new and returns the extra bits in force (0..<paramref name="most"/>).</summary>
        public int Observe(DateTimeOffset at, long joins, double threshold, TimeSpan window, int most)
        {
            if (at > _last.At)
            {
                // The counter starts again when an idle room's keys expire: earlier samples say nothing then.
                if (joins < _last.Joins)
                    _samples.Clear();
                _last = (at, joins);
                _samples.Enqueue(_last);
                // Keep one sample at or before the window's start as the baseline.
                while (_samples.Count > MaxSamples || (_samples.Count > 1 && _samples.ElementAt(1).At <= at - window))
                    _samples.Dequeue();
                var (since, before) = _samples.Peek();
                var span = at - since;
                // Half a window of data at least, so one tick's burst right after a start does not count as a rate.
                if (span >= window / 2)
                    Step(at, (joins - before) / span.TotalSeconds, threshold, window);
            }
            _extra = Math.Clamp(_extra, 0, Math.Max(0, most));
            return _extra;
        }

        private void Step(DateTimeOffset at, double rate, double threshold, TimeSpan window)
        {
            // Each doubling of the rate over the threshold doubles the work per join: a farm's rate, bounded by its
            // CPUs, halves with each bit; people, who join once, pay one solve.
            var target = rate > threshold ? (int)Math.Ceiling(Math.Log2(rate / threshold)) : 0;
            if (target > _extra)
            {
                _extra = Math.Min(target, ProofOfWorkOptions.MaxBits);
                _changedAt = at;
            }
            else if (target < _extra && at - _changedAt >= window)
            {
                _extra--;
                _changedAt = at;
            }
        }
    }
}
