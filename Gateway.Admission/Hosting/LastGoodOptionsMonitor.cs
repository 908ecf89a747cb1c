using Gateway.Admission.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Gateway.Admission.Hosting;

/// <summary>
/// An options monitor that keeps the last configuration that validated. At start-up an invalid section
/// fails the start (with the validators' messages); on a reload an invalid edit is rejected with a log line
/// naming the key, the previous values stay in force and the process keeps serving. (The framework's
/// monitor would instead throw from <c>CurrentValue</c> in whatever reads it next, e.g. a background tick,
/// which stops the host.)
/// </summary>
internal sealed class LastGoodOptionsMonitor<T> : IOptionsMonitor<T>, IDisposable where T : class
{
    private readonly IOptionsFactory<T> _factory;
    private readonly ILogger<LastGoodOptionsMonitor<T>> _logger;
    private readonly List<IDisposable> _registrations = [];
    private readonly Lock _gate = new();
    private readonly List<Action<T, string?>> _listeners = [];
    private volatile T _current;

    public LastGoodOptionsMonitor(IOptionsFactory<T> factory, IEnumerable<IOptionsChangeTokenSource<T>> sources, ILogger<LastGoodOptionsMonitor<T>> logger)
    {
        _factory = factory;
        _logger = logger;
        _current = factory.Create(Options.DefaultName);
        foreach (var source in sources)
        {
            if (source.Name == Options.DefaultName)
                _registrations.Add(ChangeToken.OnChange(source.GetChangeToken, Reload));
        }
    }

    public T CurrentValue => _current;

    public T Get(string? name) => name is null || name == Options.DefaultName ? _current : _factory.Create(name);

    public IDisposable? OnChange(Action<T, string?> listener)
    {
        lock (_gate)
            _listeners.Add(listener);
        return new Subscription(this, listener);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
            registration.Dispose();
    }

    private void Reload()
    {
        T next;
        try
        {
            next = _factory.Create(Options.DefaultName);
        }
        catch (OptionsValidationException ex)
        {
            Log.ConfigRejected(_logger, typeof(T).Name, string.Join(" ", ex.Failures));
            return;
        }
        catch (InvalidOperationException ex)
        {
            // The binder's own failures ("Failed to convert configuration value at 'WaitingRoom:...' to type ...").
            Log.ConfigRejected(_logger, typeof(T).Name, ex.Message);
            return;
        }
        _current = next;
        Action<T, string?>[] listeners;
        lock (_gate)
            listeners = [.. _listeners];
        foreach (var listener in listeners)
            listener(next, Options.DefaultName);
    }

    private sealed class Subscription(LastGoodOptionsMonitor<T> monitor, Action<T, string?> listener) : IDisposable
    {
        public void Dispose()
        {
            lock (monitor._gate)
                monitor._listeners.Remove(listener);
        }
    }
}
