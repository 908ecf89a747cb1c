using System.Net;
using System.Net.Sockets;
using Garnet;

namespace Gateway.Admission.Storage;

/// <summary>
/// An in-process Redis-compatible server (Microsoft Garnet) on a free loopback port, so the gateway runs
/// without Redis through exactly the same client code. Lua is on, in transaction mode, so scripts are atomic.
/// </summary>
internal sealed class EmbeddedStore : IDisposable
{
    private readonly GarnetServer _server;

    private EmbeddedStore(GarnetServer server, int port)
    {
        _server = server;
        Port = port;
    }

    public int Port { get; }

    public static EmbeddedStore Start(string memory)
    {
        var port = FreeLoopbackPort();
        var server = new GarnetServer(
        [
            "--bind", "127.0.0.1",
            "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--lua", "true",
            "--lua-transaction-mode", "true",
            "--memory", memory,
            "--index", "64m",
            // No ASCII banner on stdout: the console carries JSON log lines only.
            "-q",
        ]);
        server.Start();
        return new EmbeddedStore(server, port);
    }

    public void Dispose()
    {
        try
        {
            _server.Dispose();
        }
        catch (ObjectDisposedException)
        {
            // Garnet 2.2.8 can dispose an epoch's CancellationTokenSource twice when several servers
            // lived in one process (the tests do that); the server is stopped either way.
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
