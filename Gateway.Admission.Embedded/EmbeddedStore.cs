using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Garnet;
using Gateway.Admission.Storage;

namespace Gateway.Admission.Embedded;

/// <summary>
/// An in-process Redis-compatible server (Microsoft Garnet) on a free loopback port with a random password,
/// so the gateway runs without Redis through exactly the same client code and no other local process can
/// read or change the queue. Lua is on, in transaction mode, so scripts are atomic.
/// </summary>
internal sealed class EmbeddedStore : IEmbeddedStore
{
    private readonly GarnetServer _server;

    private EmbeddedStore(GarnetServer server, int port, string password)
    {
        _server = server;
        Port = port;
        ConnectionString = $"127.0.0.1:{port},password={password}";
    }

    public int Port { get; }

    public string ConnectionString { get; }

    public static EmbeddedStore Start(string memory)
    {
        var port = FreeLoopbackPort();
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var server = new GarnetServer(
        [
            "--bind", "127.0.0.1",
            "--port", port.ToString(CultureInfo.InvariantCulture),
            "--auth", "Password",
            "--password", password,
            "--lua", "true",
            "--lua-transaction-mode", "true",
            "--memory", memory,
            "--index", "64m",
            // No ASCII banner on stdout: the console carries JSON log lines only.
            "-q",
        ]);
        server.Start();
        return new EmbeddedStore(server, port, password);
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

/// <summary>Starts <see cref="EmbeddedStore"/> for the store connection.</summary>
internal sealed class EmbeddedStoreFactory : IEmbeddedStoreFactory
{
    public IEmbeddedStore Start(string memory) => EmbeddedStore.Start(memory);
}
