using Microsoft.Extensions.Options;

namespace Gateway.EtaSimulation.Engine;

/// <summary>An options monitor the simulation changes at will, as a configuration reload would.</summary>
internal sealed class MutableOptionsMonitor<T>(T initial) : IOptionsMonitor<T>
{
    private readonly Lock _lock = new();
    private readonly List<Action<T, string?>> _listeners = [];

    public T CurrentValue { get; private set; } = initial;

    public T Get(string? name) => CurrentValue;

    public IDisposable OnChange(Action<T, string?> listener)
    {
        lock (_lock)
            _listeners.Add(listener);
        return new Subscription(this, listener);
    }

    public void Set(T value)
    {
        CurrentValue = value;
        Action<T, string?>[] listeners;
        lock (_lock)
            listeners = [.. _listeners];
        foreach (var listener in listeners)
            listener(value, Options.DefaultName);
    }

    private sealed class Subscription(MutableOptionsMonitor<T> owner, Action<T, string?> listener) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._lock)
                owner._listeners.Remove(listener);
        }
    }
}
