using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Gateway.SampleBackends.Storage;

/// <summary>
/// In-memory items by id that never hold more than a fixed number: adding to a full store evicts the
/// oldest, so a long load run cannot exhaust memory.
/// </summary>
internal sealed class BoundedStore<T>
    where T : class
{
    /// <summary>Enough for any demo or test; about 100k small records is tens of megabytes at most.</summary>
    public const int DefaultCapacity = 100_000;

    private const int InitialOrderSize = 1024;

    private readonly ConcurrentDictionary<string, T> _items = new(StringComparer.Ordinal);
    private readonly Lock _writeLock = new();
    private readonly int _capacity;

    // Ids in insertion order as a ring: _next is the slot the next id goes to, which once the ring is full
    // is also the oldest id. Grows up to the capacity instead of allocating it all up front.
    private string[] _order = new string[InitialOrderSize];
    private int _next;
    private int _count;

    public BoundedStore(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    public int Count => Volatile.Read(ref _count);

    public bool TryGet(string id, [MaybeNullWhen(false)] out T item) => _items.TryGetValue(id, out item);

    /// <summary>Adds the item unless the id is taken; reads stay lock-free, writes are serialised by a lock
    /// (they are behind the capacity gate, so a few hundred a second).</summary>
    public bool TryAdd(string id, T item)
    {
        lock (_writeLock)
        {
            return AddLocked(id, item);
        }
    }

    public T GetOrAdd(string id, Func<string, T> create)
    {
        if (_items.TryGetValue(id, out var existing))
        {
            return existing;
        }

        lock (_writeLock)
        {
            if (_items.TryGetValue(id, out existing))
            {
                return existing;
            }

            var item = create(id);
            AddLocked(id, item);
            return item;
        }
    }

    /// <summary>Up to <paramref name="count"/> items, newest first.</summary>
    public IReadOnlyList<T> Newest(int count)
    {
        lock (_writeLock)
        {
            var newest = new List<T>(Math.Min(count, _count));
            for (var i = 1; i <= _count && newest.Count < count; i++)
            {
                var slot = (_next - i + _order.Length) % _order.Length;
                if (_items.TryGetValue(_order[slot], out var item))
                {
                    newest.Add(item);
                }
            }

            return newest;
        }
    }

    private bool AddLocked(string id, T item)
    {
        if (!_items.TryAdd(id, item))
        {
            return false;
        }

        if (_count == _order.Length && _order.Length < _capacity)
        {
            // Not wrapped yet (_next == _count), so a plain copy keeps the order.
            Array.Resize(ref _order, Math.Min(_order.Length * 2, _capacity));
        }

        if (_count == _order.Length)
        {
            _items.TryRemove(_order[_next], out _);
        }
        else
        {
            _count++;
        }

        _order[_next] = id;
        // Wraps only at the capacity: below it the next add grows the array instead.
        _next = _next + 1 == _capacity ? 0 : _next + 1;
        return true;
    }
}
