using Gateway.Admission.Diagnostics;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Queue;

/// <summary>
/// Sends the status polls of one room to the store in batches (one script call for all of them). A poll that
/// finds no batch gathering opens one for <see cref="StoreOptions.StatusBatchWindow"/>; the polls that arrive
/// meanwhile join it, and it goes when the window closes or it is full. While batches are in flight, the polls
/// that arrive gather for the next one. One store round trip then serves every poll in the batch: at 5,000 polls/s
/// a 2 ms window puts ~10 in each, where sending each poll at once made every one pay a round trip and its
/// thread wake-ups (measured in docs/BENCHMARKS.md). A window of zero sends at once when a slot is free.
/// <para>
/// A window also closes early (while a slot is free) once every place of the batch sent last has polled again: people
/// poll every half second at the closest, so that only happens with clients that poll in a loop, each waiting for its
/// answer (a benchmark's connections, a script), or in a room so quiet that nobody else polled in between. For them
/// waiting out the window gathers nobody new and only caps their rate (64 looping connections at ~11,000 polls/s with
/// a 2 ms window instead of ~24,000 without one).
/// </para>
/// </summary>
internal sealed class StatusBatcher : IDisposable
{
    /// <summary>Batches one room may have in flight from this instance: a second hides the first's round trip.</summary>
    private const int MaxInFlight = 2;

    /// <summary>The most places in one script call: bounds the time the store spends in one call (~10 us each).</summary>
    internal const int MaxBatch = 256;

    private readonly IQueueStore _store;
    private readonly WaitingRoomMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly TimeSpan _window;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RoomLine> _rooms = new(StringComparer.Ordinal);

    public StatusBatcher(IQueueStore store, WaitingRoomMetrics metrics, TimeProvider time, IOptions<StoreOptions> options)
    {
        _store = store;
        _metrics = metrics;
        _time = time;
        _window = options.Value.StatusBatchWindow;
    }

    /// <summary>The place's state and position, from a batch that included it.</summary>
    public Task<(DateTimeOffset Now, double TokensAvailable, Place Place)> StatusAsync(Room room, string placeId)
    {
        // The lines are keyed by room id, a closed set from configuration (the API refuses unknown rooms first).
        var line = _rooms.GetOrAdd(room.Id, static (_, batcher) => new RoomLine(batcher), this);
        var pending = new Pending(placeId);
        List<Pending>? send = null;
        lock (line)
        {
            line.Room = room;
            line.Waiting.Add(pending);
            var allBack = line.AllBack(placeId);
            if (line.InFlight < MaxInFlight)
            {
                if (_window <= TimeSpan.Zero || line.Waiting.Count >= MaxBatch || line.Closed || allBack)
                {
                    line.Gathering = false;
                    line.InFlight++;
                    send = line.Take();
                }
                else if (!line.Gathering)
                {
                    line.Gathering = true;
                    line.Timer.Change(_window, Timeout.InfiniteTimeSpan);
                }
            }
        }
        if (send is not null)
            Send(line, send);
        return pending.Completion.Task;
    }

    /// <summary>Stops the timers; what is gathering goes now, and later polls go at once (none waits for a timer).</summary>
    public void Dispose()
    {
        foreach (var line in _rooms.Values)
        {
            lock (line)
                line.Closed = true;
            line.Timer.Dispose();
            WindowClosed(line);
        }
    }

    /// <summary>The window closed: what gathered goes, unless a full batch or a returning one already took it.</summary>
    private void WindowClosed(RoomLine line)
    {
        List<Pending> send;
        lock (line)
        {
            if (!line.Gathering)
                return;
            line.Gathering = false;
            if (line.Waiting.Count == 0)
                return; // a returning batch took them
            // A window opens only with a slot free, and nothing takes one while it is open.
            line.InFlight++;
            send = line.Take();
        }
        Send(line, send);
    }

    /// <summary>
    /// Sends a batch in the context of its first poll, whatever thread sends it (a timer, a returning batch): its
    /// store span is a child of that poll's request, its log lines carry that trace (docs/OBSERVABILITY.md).
    /// </summary>
    private void Send(RoomLine line, List<Pending> batch)
    {
        if (batch[0].Context is { } context)
            ExecutionContext.Run(context, static state => { var (batcher, l, b) = ((StatusBatcher, RoomLine, List<Pending>))state!; _ = batcher.SendAsync(l, b); }, (this, line, batch));
        else
            _ = SendAsync(line, batch);
    }

    private async Task SendAsync(RoomLine line, List<Pending> batch)
    {
        Room room;
        lock (line)
            room = line.Room!;
        try
        {
            _metrics.StatusBatch(room.Id, batch.Count);
            var reply = await _store.StatusAsync(room, batch.ConvertAll(p => p.PlaceId));
            for (var i = 0; i < batch.Count; i++)
                batch[i].Completion.TrySetResult((reply.Now, reply.TokensAvailable, reply.Places[i]));
        }
        catch (Exception ex)
        {
            foreach (var pending in batch)
                pending.Completion.TrySetException(ex);
        }
        List<Pending> next;
        lock (line)
        {
            // What gathered during the round trip has waited at least as long as a window: it goes now, in this slot.
            if (line.Waiting.Count == 0)
            {
                line.InFlight--;
                return;
            }
            next = line.Take();
        }
        Send(line, next);
    }

    private sealed class RoomLine
    {
        public RoomLine(StatusBatcher batcher)
        {
            Batcher = batcher;
            // Without the creating request's ExecutionContext: a timer would otherwise carry the first poll's Activity
            // and logging scope into every batch it ever sends; each batch runs in its first poll's context instead.
            var flow = ExecutionContext.IsFlowSuppressed() ? (AsyncFlowControl?)null : ExecutionContext.SuppressFlow();
            try
            {
                Timer = batcher._time.CreateTimer(static state => ((RoomLine)state!).Batcher.WindowClosed((RoomLine)state!), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
            finally
            {
                flow?.Undo();
            }
        }

        public StatusBatcher Batcher { get; }

        /// <summary>Armed while a window is open; one per room for the life of the process.</summary>
        public ITimer Timer { get; }

        public Room? Room { get; set; }

        public List<Pending> Waiting { get; private set; } = [];

        public int InFlight { get; set; }

        /// <summary>A window is open (its timer armed). Call under the lock.</summary>
        public bool Gathering { get; set; }

        /// <summary>The batcher is disposed: polls go at once. Call under the lock.</summary>
        public bool Closed { get; set; }

        /// <summary>The places of the batch taken last that have not polled again since. Call under the lock.</summary>
        private HashSet<string> NotBack { get; } = new(StringComparer.Ordinal);

        /// <summary>
        /// Notes that <paramref name="placeId"/> polled again; true when it was the last place of the batch taken last
        /// still to come back (see the class summary). Call under the lock.
        /// </summary>
        public bool AllBack(string placeId) => NotBack.Remove(placeId) && NotBack.Count == 0;

        /// <summary>Up to <see cref="MaxBatch"/> of the waiting polls, oldest first. Call under the lock.</summary>
        public List<Pending> Take()
        {
            List<Pending> taken;
            if (Waiting.Count <= MaxBatch)
            {
                taken = Waiting;
                Waiting = [];
            }
            else
            {
                taken = Waiting.GetRange(0, MaxBatch);
                Waiting.RemoveRange(0, MaxBatch);
            }
            NotBack.Clear();
            foreach (var pending in taken)
                NotBack.Add(pending.PlaceId);
            return taken;
        }
    }

    private sealed class Pending(string placeId)
    {
        public string PlaceId { get; } = placeId;

        /// <summary>The poll's request context (a reference, not a copy; null when flow is suppressed).</summary>
        public ExecutionContext? Context { get; } = ExecutionContext.Capture();

        // Completed inline by the batch's continuation: the awaiting requests resume on that thread one after
        // another, each finishing with a short non-blocking response write (no extra thread-pool hop per poll).
        public TaskCompletionSource<(DateTimeOffset, double, Place)> Completion { get; } = new();
    }
}
