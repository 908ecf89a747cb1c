using Gateway.Admission.Rooms;

namespace Gateway.Admission.Queue;

/// <summary>
/// Sends the status polls of one room to the store in batches: while a batch is in flight, the polls that
/// arrive meanwhile gather and go together as the next one (one script call for all of them). Under no
/// load a poll goes at once; under a crowd the batch grows with the round-trip time, which amortises the
/// script call and its reply over every poll in it (measured in docs/BENCHMARKS.md). No timer, no added wait.
/// </summary>
internal sealed class StatusBatcher(IQueueStore store)
{
    /// <summary>Batches one room may have in flight from this instance: a second hides the first's round trip.</summary>
    private const int MaxInFlight = 2;

    /// <summary>The most places in one script call: bounds the time the store spends in one call (~10 us each).</summary>
    internal const int MaxBatch = 256;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RoomLine> _rooms = new(StringComparer.Ordinal);

    /// <summary>The place's state and position, from a batch that included it.</summary>
    public Task<(DateTimeOffset Now, double TokensAvailable, Place Place)> StatusAsync(Room room, string placeId)
    {
        var line = _rooms.GetOrAdd(room.Id, static _ => new RoomLine());
        var pending = new Pending(placeId);
        List<Pending>? send = null;
        lock (line)
        {
            line.Room = room;
            line.Waiting.Add(pending);
            if (line.InFlight < MaxInFlight)
            {
                line.InFlight++;
                send = line.Take();
            }
        }
        if (send is not null)
            _ = SendAsync(line, send);
        return pending.Completion.Task;
    }

    private async Task SendAsync(RoomLine line, List<Pending> batch)
    {
        while (true)
        {
            Room room;
            lock (line)
                room = line.Room!;
            try
            {
                var reply = await store.StatusAsync(room, batch.ConvertAll(p => p.PlaceId));
                for (var i = 0; i < batch.Count; i++)
                    batch[i].Completion.TrySetResult((reply.Now, reply.TokensAvailable, reply.Places[i]));
            }
            catch (Exception ex)
            {
                foreach (var pending in batch)
                    pending.Completion.TrySetException(ex);
            }
            lock (line)
            {
                if (line.Waiting.Count == 0)
                {
                    line.InFlight--;
                    return;
                }
                batch = line.Take();
            }
        }
    }

    private sealed class RoomLine
    {
        public Room? Room { get; set; }

        public List<Pending> Waiting { get; private set; } = [];

        public int InFlight { get; set; }

        /// <summary>Up to <see cref="MaxBatch"/> of the waiting polls, oldest first. Call under the lock.</summary>
        public List<Pending> Take()
        {
            if (Waiting.Count <= MaxBatch)
            {
                var all = Waiting;
                Waiting = [];
                return all;
            }
            var first = Waiting.GetRange(0, MaxBatch);
            Waiting.RemoveRange(0, MaxBatch);
            return first;
        }
    }

    private sealed class Pending(string placeId)
    {
        public string PlaceId { get; } = placeId;

        // Completed inline by the batch's continuation: the awaiting requests resume on that thread one after
        // another, each finishing with a short non-blocking response write (no extra thread-pool hop per poll).
        public TaskCompletionSource<(DateTimeOffset, double, Place)> Completion { get; } = new();
    }
}
