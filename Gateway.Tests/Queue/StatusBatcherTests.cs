using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Admission.Diagnostics;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Queue;

/// <summary>
/// How status polls become store calls: the window, the full batch, the two batches in flight, failures. The store
/// here records the calls and answers each place with its own id's number, so a poll that got another's answer,
/// or none, shows. (The scripts themselves run against real stores in QueueStoreContractTests.)
/// </summary>
[Trait("Category", "Fast")]
public sealed class StatusBatcherTests : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(2);

    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly Room _room = new("batching", new RoomOptions { Capacity = 1, RefillPerSecond = 1 }, rankByTree: false, TimeSpan.FromMilliseconds(200));

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task Polls_WithinTheWindow_GoAsOneStoreCall()
    {
        var clock = new FakeTimeProvider();
        var store = new RecordingStore();
        var batcher = NewBatcher(store, clock, Window);

        var polls = Enumerable.Range(1, 10).Select(i => batcher.StatusAsync(_room, $"p{i}")).ToList();
        Assert.Empty(store.Calls);

        clock.Advance(Window);
        var answers = await Task.WhenAll(polls);

        var call = Assert.Single(store.Calls);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"p{i}"), call);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long?)i), answers.Select(a => a.Place.Position));
    }

    [Fact]
    public async Task EveryPlaceOfTheLastBatchPollingAgain_ClosesTheWindowAtOnce()
    {
        var clock = new FakeTimeProvider();
        var store = new RecordingStore();
        var batcher = NewBatcher(store, clock, Window);
        var first = new[] { batcher.StatusAsync(_room, "p1"), batcher.StatusAsync(_room, "p2") };
        clock.Advance(Window);
        await Task.WhenAll(first);

        // Clients polling in a loop: the same places, back as soon as answered. The first back waits for the second.
        var p1 = batcher.StatusAsync(_room, "p1");
        Assert.Single(store.Calls);
        var p2 = batcher.StatusAsync(_room, "p2");

        Assert.Equal(2, store.Calls.Count); // no time passed: the window closed because both were back
        Assert.Equal(["p1", "p2"], store.Calls[1]);
        Assert.Equal(2, (await p2).Place.Position);
        Assert.Equal(1, (await p1).Place.Position);

        // The window's timer still fires: it finds nothing gathering and sends nothing.
        clock.Advance(Window);
        Assert.Equal(2, store.Calls.Count);
    }

    [Fact]
    public async Task NewPlaces_AndPartOfTheLastBatch_WaitForTheWindow()
    {
        var clock = new FakeTimeProvider();
        var store = new RecordingStore();
        var batcher = NewBatcher(store, clock, Window);
        var first = new[] { batcher.StatusAsync(_room, "p1"), batcher.StatusAsync(_room, "p2"), batcher.StatusAsync(_room, "p3") };
        clock.Advance(Window);
        await Task.WhenAll(first);

        // People polling on their own schedules: others arrive, and only some of the last batch are back (twice, even).
        var polls = new[] { batcher.StatusAsync(_room, "p7"), batcher.StatusAsync(_room, "p1"), batcher.StatusAsync(_room, "p1"), batcher.StatusAsync(_room, "p3") };
        Assert.Single(store.Calls);

        clock.Advance(Window);
        await Task.WhenAll(polls);
        Assert.Equal(["p7", "p1", "p1", "p3"], store.Calls[1]);
    }

    [Fact]
    public async Task OnePlacePolledFromManyConnections_GoesWithoutTheWindow_WhileASlotIsFree()
    {
        // The shared yardstick polls one person from 64 connections: each poll of it is "back" at once.
        var clock = new FakeTimeProvider();
        var store = new RecordingStore { Hold = true };
        var batcher = NewBatcher(store, clock, Window);
        var opening = batcher.StatusAsync(_room, "p1");
        clock.Advance(Window);
        await store.CallStarted(0);

        var second = batcher.StatusAsync(_room, "p1");
        await store.CallStarted(1); // a slot was free: it went without a window
        var waiting = Enumerable.Range(0, 5).Select(_ => batcher.StatusAsync(_room, "p1")).ToList();
        Assert.Equal(2, store.Calls.Count); // both slots busy: the rest wait for one to come back

        store.Release(0);
        await store.CallStarted(2);
        Assert.Equal(5, store.Calls[2].Count);
        store.Release(1);
        store.Release(2);
        await Task.WhenAll([opening, second, .. waiting]);
    }

    [Fact]
    public async Task FullBatch_GoesBeforeTheWindowCloses()
    {
        var clock = new FakeTimeProvider();
        var store = new RecordingStore();
        var batcher = NewBatcher(store, clock, Window);

        var polls = Enumerable.Range(1, StatusBatcher.MaxBatch).Select(i => batcher.StatusAsync(_room, $"p{i}")).ToList();
        await Task.WhenAll(polls);
        Assert.Equal(StatusBatcher.MaxBatch, Assert.Single(store.Calls).Count);

        // The next poll opens a window of its own.
        var next = batcher.StatusAsync(_room, "p999");
        Assert.Single(store.Calls);
        clock.Advance(Window);
        Assert.Equal(999, (await next).Place.Position);
        Assert.Equal(2, store.Calls.Count);
    }

    [Fact]
    public async Task PollsDuringTwoRoundTrips_GoTogetherWhenOneReturns()
    {
        var store = new RecordingStore { Hold = true };
        var batcher = NewBatcher(store, new FakeTimeProvider(), TimeSpan.Zero);

        var first = batcher.StatusAsync(_room, "p1");
        var second = batcher.StatusAsync(_room, "p2");
        var later = Enumerable.Range(3, 8).Select(i => batcher.StatusAsync(_room, $"p{i}")).ToList();
        Assert.Equal(2, store.Calls.Count); // two batches in flight at most; the rest wait for one of them

        store.Release(0);
        Assert.Equal(1, (await first).Place.Position);
        await store.CallStarted(2);
        Assert.Equal(Enumerable.Range(3, 8).Select(i => $"p{i}"), store.Calls[2]);
        store.Release(1);
        store.Release(2);
        Assert.Equal(2, (await second).Place.Position);
        Assert.Equal(Enumerable.Range(3, 8).Select(i => (long?)i), (await Task.WhenAll(later)).Select(a => a.Place.Position));
    }

    [Fact]
    public async Task StoreFailure_FailsEveryPollOfItsBatch_AndTheNextBatchStillGoes()
    {
        var clock = new FakeTimeProvider();
        var store = new RecordingStore { FailNext = 1 };
        var batcher = NewBatcher(store, clock, Window);

        var failed = Enumerable.Range(1, 3).Select(i => batcher.StatusAsync(_room, $"p{i}")).ToList();
        clock.Advance(Window);
        foreach (var poll in failed)
            await Assert.ThrowsAsync<StoreUnavailableException>(() => poll);

        var next = batcher.StatusAsync(_room, "p4");
        clock.Advance(Window);
        Assert.Equal(4, (await next).Place.Position);
    }

    [Fact]
    public async Task ConcurrentPolls_EachGetTheirOwnAnswer_InFewerCalls_NeverMoreThanTwoInFlight()
    {
        var store = new RecordingStore { Delay = TimeSpan.FromMilliseconds(1) };
        var batcher = NewBatcher(store, TimeProvider.System, TimeSpan.FromMilliseconds(1));
        const int Threads = 8, PollsEach = 500;

        var answers = new ConcurrentDictionary<string, long?>();
        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(async () =>
        {
            var mine = new List<Task>();
            for (var i = 0; i < PollsEach; i++)
            {
                var id = $"p{(t * PollsEach) + i + 1}";
                mine.Add(batcher.StatusAsync(_room, id).ContinueWith(a => answers[id] = a.Result.Place.Position, TaskScheduler.Default));
                if (i % 50 == 0)
                    await Task.Yield();
            }
            await Task.WhenAll(mine);
        })));

        Assert.Equal(Threads * PollsEach, answers.Count);
        Assert.All(answers, a => Assert.Equal(long.Parse(a.Key[1..], System.Globalization.CultureInfo.InvariantCulture), a.Value));
        Assert.Equal(Threads * PollsEach, store.Calls.Sum(c => c.Count));
        Assert.All(store.Calls, c => Assert.InRange(c.Count, 1, StatusBatcher.MaxBatch));
        Assert.True(store.Calls.Count < Threads * PollsEach / 4, $"{store.Calls.Count} store calls for {Threads * PollsEach} polls");
        Assert.InRange(store.MostInFlight, 1, 2);
    }

    [Fact]
    public async Task AWindowOpenedWhileABatchIsOut_GoesWithTheReturningBatch_AndTheTimerThenFindsNothing()
    {
        var clock = new FakeTimeProvider();
        var store = new RecordingStore { Hold = true };
        var batcher = NewBatcher(store, clock, Window);

        var first = batcher.StatusAsync(_room, "p1");
        clock.Advance(Window);
        var second = batcher.StatusAsync(_room, "p2"); // a slot is free: it opens a window of its own
        store.Release(0);
        Assert.Equal(1, (await first).Place.Position);
        await store.CallStarted(1); // the returning batch took p2 before its window closed
        Assert.Equal(["p2"], store.Calls[1]);
        store.Release(1);
        Assert.Equal(2, (await second).Place.Position);

        clock.Advance(Window); // p2's window closes on nothing
        Assert.Equal(2, store.Calls.Count);
        var third = batcher.StatusAsync(_room, "p3");
        clock.Advance(Window);
        store.Release(2);
        Assert.Equal(3, (await third).Place.Position);
    }

    [Fact]
    public async Task Dispose_SendsWhatIsGathering_AndLaterPollsGoAtOnce()
    {
        var clock = new FakeTimeProvider();
        var store = new RecordingStore();
        var batcher = NewBatcher(store, clock, Window);

        var gathering = batcher.StatusAsync(_room, "p1");
        batcher.Dispose();
        Assert.Equal(1, (await gathering).Place.Position);
        Assert.Equal(2, (await batcher.StatusAsync(_room, "p2")).Place.Position); // no timer to wait for
        Assert.Equal(2, store.Calls.Count);
    }

    [Fact]
    public async Task EachBatch_RunsInTheContextOfItsFirstPoll()
    {
        var store = new RecordingStore();
        var batcher = NewBatcher(store, TimeProvider.System, TimeSpan.FromMilliseconds(1));

        using (new Activity("first poll").Start())
            await batcher.StatusAsync(_room, "p1");
        using (new Activity("second poll").Start())
            await batcher.StatusAsync(_room, "p2");

        // Whichever thread sent it (the window's timer, or the first batch returning), each batch ran in its first poll's
        // context (its store span a child of that request), never in that of the poll that created the room's timer.
        Assert.Equal(["first poll", "second poll"], store.Activities);
    }

    private StatusBatcher NewBatcher(RecordingStore store, TimeProvider clock, TimeSpan window) =>
        new(store, new WaitingRoomMetrics(_meters.GetRequiredService<IMeterFactory>()), clock, Options.Create(new StoreOptions { StatusBatchWindow = window }));

    /// <summary>Answers place <c>pN</c> with position N; can hold calls until released, fail, or take a while.</summary>
    private sealed class RecordingStore : IQueueStore
    {
        private readonly List<TaskCompletionSource> _held = [];
        private readonly List<TaskCompletionSource> _started = [];
        private int _inFlight;
        private int _mostInFlight;

        public List<IReadOnlyList<string>> Calls { get; } = [];

        /// <summary>The Activity current in each call, by name (null: none).</summary>
        public List<string?> Activities { get; } = [];

        public bool Hold { get; init; }

        public int FailNext { get; set; }

        public TimeSpan Delay { get; init; }

        public int MostInFlight => Volatile.Read(ref _mostInFlight);

        public async Task<StatusBatch> StatusAsync(Room room, IReadOnlyList<string> ids)
        {
            var inFlight = Interlocked.Increment(ref _inFlight);
            InterlockedMax(ref _mostInFlight, inFlight);
            Task wait;
            lock (Calls)
            {
                Calls.Add([.. ids]);
                Activities.Add(Activity.Current?.OperationName);
                var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _held.Add(held);
                Started(Calls.Count - 1).TrySetResult();
                if (!Hold)
                    held.SetResult();
                wait = held.Task;
            }
            try
            {
                await wait;
                if (Delay > TimeSpan.Zero)
                    await Task.Delay(Delay);
                if (FailNext > 0)
                {
                    FailNext--;
                    throw new StoreUnavailableException("The store did not complete 'status': test failure", new TimeoutException());
                }
                return new StatusBatch(DateTimeOffset.UtcNow, 0, [.. ids.Select(id => new Place(PlaceState.Waiting, long.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow, null))]);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public void Release(int call)
        {
            lock (Calls)
                _held[call].TrySetResult();
        }

        public Task CallStarted(int call)
        {
            lock (Calls)
                return Started(call).Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        private TaskCompletionSource Started(int call)
        {
            while (_started.Count <= call)
                _started.Add(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            return _started[call];
        }

        private static void InterlockedMax(ref int target, int value)
        {
            var seen = Volatile.Read(ref target);
            while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var was && was != seen)
                seen = was;
        }

        public Task<StoredJoin> JoinAsync(Room room, JoinRequest request) => throw new NotSupportedException();

        public Task<StoredEnter> EnterAsync(Room room, string id, string admissionId) => throw new NotSupportedException();

        public Task RecordFirstEtaAsync(Room room, string id, long etaSeconds) => throw new NotSupportedException();

        public Task<StoredLeave> LeaveAsync(Room room, string id) => throw new NotSupportedException();

        public Task<bool> RevokeAsync(Room room, string admissionId) => throw new NotSupportedException();

        public Task<RoomSnapshot> TickAsync(Room room, TickWork work) => throw new NotSupportedException();

        public Task SetOverridesAsync(Room room, IReadOnlyDictionary<string, string?> changes) => throw new NotSupportedException();

        public Task ClearOverridesAsync(Room room) => throw new NotSupportedException();

        public Task<AdaptResult> AdaptAsync(Room room, AdaptReport report) => throw new NotSupportedException();
    }
}
