using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>One redis-server of a <see cref="RedisCluster"/>.</summary>
public sealed class RedisClusterNode
{
    private readonly ConcurrentQueue<string> _output = new();

    internal RedisClusterNode(int port, int busPort)
    {
        Port = port;
        BusPort = busPort;
    }

    public int Port { get; }

    /// <summary>The cluster bus port (<c>--cluster-port</c>), chosen free like <see cref="Port"/>.</summary>
    public int BusPort { get; }

    public string EndPoint => $"127.0.0.1:{Port}";

    /// <summary>The node id (stable across a restart: it lives in the node's cluster config file).</summary>
    public string Id { get; internal set; } = "";

    public bool IsRunning => Process is { HasExited: false };

    internal Process? Process { get; set; }

    /// <summary>The redis-server pid while the node is frozen by <see cref="RedisCluster.PauseAsync"/>.</summary>
    internal int? PausedPid { get; set; }

    /// <summary>The last lines the server wrote (its log goes to stdout), for failure messages.</summary>
    internal string OutputTail => string.Join('\n', _output);

    internal void Record(string? line)
    {
        if (line is null)
            return;
        _output.Enqueue(line);
        while (_output.Count > 40)
            _output.TryDequeue(out _);
    }

    public override string ToString() => Id.Length >= 8 ? $"{EndPoint} ({Id[..8]})" : EndPoint;
}

/// <summary>
/// A real Redis Cluster on loopback, started by the tests: three masters and three replicas
/// (six redis-server processes on free ports, joined by <c>redis-cli --cluster create</c>). Nodes can be
/// killed like a crash (SIGKILL) and restarted; a restarted master rejoins as a replica of whoever took over.
/// Missing redis-server or redis-cli is a test failure, never a skip.
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    public const int SlotCount = 16384;

    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(90);

    /// <summary>The longest any node may live, whatever happens to the test host.</summary>
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(30);
    private readonly string _server;
    private readonly string _cli;
    private readonly List<RedisClusterNode> _nodes;
    private int _disposed;

    private RedisCluster(string server, string cli, int nodeTimeoutMs)
    {
        _server = server;
        _cli = cli;
        NodeTimeoutMs = nodeTimeoutMs;
        Directory = System.IO.Directory.CreateTempSubdirectory("wr-cluster-").FullName;
        var ports = FreePorts(12);
        _nodes = [.. Enumerable.Range(0, 6).Select(i => new RedisClusterNode(ports[i], ports[i + 6]))];
        AppDomain.CurrentDomain.ProcessExit += KillOnExit;
    }

    public IReadOnlyList<RedisClusterNode> Nodes => _nodes;

    /// <summary>All six endpoints, as a StackExchange.Redis configuration string.</summary>
    public string ConnectionString => string.Join(',', _nodes.Select(n => n.EndPoint));

    /// <summary>The <c>cluster-node-timeout</c> (ms): how long a silent master takes to be declared failed.</summary>
    public int NodeTimeoutMs { get; }

    /// <summary>The temp directory holding every node's cluster config file; deleted on dispose.</summary>
    public string Directory { get; }

    /// <summary>Starts six nodes, creates the cluster and waits until every node reports it healthy.</summary>
    public static async Task<RedisCluster> StartNewAsync(int nodeTimeoutMs = 5000)
    {
        const string hint = "Run the tests through README's test command (bash build/test.sh), which installs it (Debian: apt-get install redis-server redis-tools).";
        var server = RedisServer.Which("redis-server") ?? throw new InvalidOperationException("redis-server is not installed. " + hint);
        var cli = RedisServer.Which("redis-cli") ?? throw new InvalidOperationException("redis-cli is not installed. " + hint);
        var cluster = new RedisCluster(server, cli, nodeTimeoutMs);
        try
        {
            await Task.WhenAll(cluster._nodes.Select(cluster.StartProcessAsync));
            await cluster.CreateAsync();
            foreach (var node in cluster._nodes)
                node.Id = await RespConnection.TextAsync(node.Port, "CLUSTER", "MYID");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The hash slot of a key, as Redis computes it: CRC16 (XMODEM) of the hash tag if there is one.</summary>
    public static int SlotOf(string key)
    {
        var bytes = Encoding.UTF8.GetBytes(key);
        var open = Array.IndexOf(bytes, (byte)'{');
        if (open >= 0)
        {
            var close = Array.IndexOf(bytes, (byte)'}', open + 1);
            if (close > open + 1)
                bytes = bytes[(open + 1)..close];
        }
        ushort crc = 0;
        foreach (var b in bytes)
        {
            crc ^= (ushort)(b << 8);
            for (var i = 0; i < 8; i++)
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
        }
        return crc % SlotCount;
    }

    /// <summary>The master serving the slot of <paramref name="key"/> right now (asked from a running node).</summary>
    public Task<RedisClusterNode> MasterForAsync(string key) => MasterForSlotAsync(SlotOf(key));

    public async Task<RedisClusterNode> MasterForSlotAsync(int slot)
    {
        foreach (var node in _nodes.Where(n => n.IsRunning))
        {
            try
            {
                var view = await ViewAsync(node);
                var owner = view.OwnerOf(slot);
                if (owner is not null)
                    return NodeOnPort(owner.Port);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
            }
        }
        throw new InvalidOperationException($"no running node names a healthy master for slot {slot}");
    }

    /// <summary>The nodes replicating <paramref name="master"/>, per CLUSTER NODES of a running node.</summary>
    public async Task<IReadOnlyList<RedisClusterNode>> ReplicasOfAsync(RedisClusterNode master)
    {
        var view = await ViewAsync(_nodes.First(n => n.IsRunning));
        return [.. view.Entries.Where(e => e.MasterId == master.Id).Select(e => NodeOnPort(e.Port))];
    }

    /// <summary>Kills the node with SIGKILL, like a crash: no goodbye to the cluster, no flush.</summary>
    public async Task KillAsync(RedisClusterNode node)
    {
        if (!_nodes.Contains(node))
            throw new ArgumentException($"{node} is not a node of this cluster", nameof(node));
        if (node.Process is null)
            return;
        try
        {
            node.Process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await node.Process.WaitForExitAsync(cts.Token);
        node.Process.Dispose();
        node.Process = null;
        node.PausedPid = null;
    }

    /// <summary>
    /// Freezes the node with SIGSTOP: its sockets stay open but it answers nothing, like a hung or
    /// partitioned server (clients see no disconnect, only silence). <see cref="ResumeAsync"/> undoes it.
    /// </summary>
    public async Task PauseAsync(RedisClusterNode node)
    {
        if (!_nodes.Contains(node) || !node.IsRunning)
            throw new ArgumentException($"{node} is not a running node of this cluster", nameof(node));
        // The process we started may be timeout(1); the server reports its own pid.
        node.PausedPid = int.Parse(Field(await RespConnection.TextAsync(node.Port, "INFO", "server"), "process_id"), CultureInfo.InvariantCulture);
        await SignalAsync(node.PausedPid.Value, "STOP");
    }

    /// <summary>Lets a node frozen by <see cref="PauseAsync"/> run again.</summary>
    public async Task ResumeAsync(RedisClusterNode node)
    {
        if (!_nodes.Contains(node) || node.PausedPid is not { } pid)
            throw new InvalidOperationException($"{node} is not paused");
        await SignalAsync(pid, "CONT");
        node.PausedPid = null;
    }

    /// <summary>The masters and the slot ranges they serve, per CLUSTER NODES of a running node.</summary>
    public async Task<IReadOnlyList<(int From, int To, RedisClusterNode Master)>> SlotRangesAsync()
    {
        var view = await ViewAsync(_nodes.First(n => n.IsRunning));
        return [.. view.Entries.Where(e => e.Flags.Contains("master") && !e.Failing).SelectMany(e => e.Slots.Select(r => (r.From, r.To, NodeOnPort(e.Port))))];
    }

    /// <summary>
    /// Waits until a master other than a dead node serves <paramref name="slot"/>, every running node agrees
    /// on it and reports <c>cluster_state:ok</c>; returns the new master.
    /// </summary>
    public async Task<RedisClusterNode> WaitForFailoverAsync(int slot, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var owners = new HashSet<int>();
                var healthy = true;
                foreach (var node in _nodes.Where(n => n.IsRunning))
                {
                    var info = await RespConnection.TextAsync(node.Port, "CLUSTER", "INFO");
                    var view = await ViewAsync(node);
                    healthy &= Field(info, "cluster_state") == "ok";
                    owners.Add(view.OwnerOf(slot)?.Port ?? 0);
                    last = $"{node.EndPoint}: state {Field(info, "cluster_state")}, slot {slot} on {view.OwnerOf(slot)?.Port.ToString(CultureInfo.InvariantCulture) ?? "nobody"}";
                }
                if (healthy && owners.Count == 1 && owners.Single() is var port and not 0 && NodeOnPort(port) is { IsRunning: true } owner
                    && Field(await RespConnection.TextAsync(port, "INFO", "replication"), "role") == "master")
                    return owner;
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or InvalidOperationException)
            {
                last = ex.Message;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"slot {slot} was not taken over in time; last seen: {last}");
    }

    /// <summary>
    /// Starts a killed node again on its port with its cluster config file: it rejoins the cluster, as a
    /// replica of the master that took over its slots, and resyncs (it had no persistence).
    /// </summary>
    public async Task RestartAsync(RedisClusterNode node, TimeSpan? timeout = null)
    {
        if (node.IsRunning)
            throw new InvalidOperationException($"{node} is running");
        await StartProcessAsync(node);
        await WaitUntilHealthyAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Waits until <paramref name="replica"/> replicates <paramref name="master"/> with its link up and every
    /// running node's view says so. A restarted master passes through an empty-master state first, and the
    /// other nodes learn its new role by gossip, so this can lag <see cref="RestartAsync"/>'s health check.
    /// </summary>
    public async Task WaitForReplicaAsync(RedisClusterNode replica, RedisClusterNode master, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var replication = await RespConnection.TextAsync(replica.Port, "INFO", "replication");
                last = $"{replica.EndPoint}: role {Field(replication, "role")}, master port {Field(replication, "master_port")}, link {Field(replication, "master_link_status")}";
                if (Field(replication, "role") == "slave" && Field(replication, "master_port") == master.Port.ToString(CultureInfo.InvariantCulture)
                    && Field(replication, "master_link_status") == "up")
                {
                    var disagreeing = new List<string>();
                    foreach (var node in _nodes.Where(n => n.IsRunning))
                    {
                        if ((await ViewAsync(node)).Entries.FirstOrDefault(e => e.Port == replica.Port)?.MasterId != master.Id)
                            disagreeing.Add(node.EndPoint);
                    }
                    if (disagreeing.Count == 0)
                        return;
                    last = $"{string.Join(", ", disagreeing)} do not yet see {replica.EndPoint} as a replica of {master.EndPoint}";
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or InvalidOperationException)
            {
                last = ex.Message;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{replica} did not become a replica of {master} in {timeout.TotalSeconds:F0} s; last seen: {last}\n{Diagnostics()}");
    }

    /// <summary>Waits until every running node says <c>cluster_state:ok</c> with all slots served and every replica is in sync.</summary>
    public async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var problem = "";
        while (DateTime.UtcNow < deadline)
        {
            problem = await HealthProblemAsync();
            if (problem.Length == 0)
                return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"the cluster did not become healthy in {timeout.TotalSeconds:F0} s: {problem}\n{Diagnostics()}");
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        AppDomain.CurrentDomain.ProcessExit -= KillOnExit;
        foreach (var node in _nodes)
        {
            try
            {
                await KillAsync(node);
            }
            catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
            {
            }
        }
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (IOException)
            {
                await Task.Delay(200);
            }
        }
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString(CultureInfo.InvariantCulture) } })
            ?? throw new InvalidOperationException("could not run kill");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await kill.WaitForExitAsync(cts.Token);
        if (kill.ExitCode != 0)
            throw new InvalidOperationException($"kill -{signal} {pid} exited with {kill.ExitCode}");
    }

    private async Task StartProcessAsync(RedisClusterNode node)
    {
        var port = node.Port.ToString(CultureInfo.InvariantCulture);
        // Under coreutils' timeout, so a server outlives a test host that dies without disposing it by
        // MaxLifetime at most (dispose and process exit kill it long before).
        var bounded = RedisServer.Which("timeout");
        var info = new ProcessStartInfo(bounded ?? _server)
        {
            ArgumentList =
            {
                "--cluster-enabled", "yes",
                "--cluster-config-file", Path.Combine(Directory, $"nodes-{port}.conf"),
                "--cluster-node-timeout", NodeTimeoutMs.ToString(CultureInfo.InvariantCulture),
                "--cluster-port", node.BusPort.ToString(CultureInfo.InvariantCulture),
                "--port", port,
                "--bind", "127.0.0.1",
                "--protected-mode", "yes",
                "--save", "",
                "--appendonly", "no",
                "--dir", Directory,
                // Replicas sync at once instead of after the default 5 s wait for more replicas.
                "--repl-diskless-sync-delay", "0",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (bounded is not null)
        {
            foreach (var arg in new[] { _server, ((int)MaxLifetime.TotalSeconds).ToString(CultureInfo.InvariantCulture), "--signal=KILL" })
                info.ArgumentList.Insert(0, arg);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + _server);
        process.OutputDataReceived += (_, e) => node.Record(e.Data);
        process.ErrorDataReceived += (_, e) => node.Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        node.Process = process;

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"redis-server on {node.EndPoint} exited with {process.ExitCode}:\n{node.OutputTail}");
            try
            {
                if (await RespConnection.CommandAsync(node.Port, "PING") is "PONG")
                    return;
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
            }
            await Task.Delay(50);
        }
        throw new InvalidOperationException($"redis-server on {node.EndPoint} did not answer PING in time:\n{node.OutputTail}");
    }

    private async Task CreateAsync()
    {
        var info = new ProcessStartInfo(_cli)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("--cluster");
        info.ArgumentList.Add("create");
        foreach (var node in _nodes)
            info.ArgumentList.Add(node.EndPoint);
        foreach (var arg in new[] { "--cluster-replicas", "1", "--cluster-yes" })
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + _cli);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using (var cts = new CancellationTokenSource(StartBound))
        {
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                throw new TimeoutException("redis-cli --cluster create did not finish in time");
            }
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"redis-cli --cluster create failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        await WaitUntilHealthyAsync(StartBound);
    }

    /// <summary>Empty when healthy, else what is wrong.</summary>
    private async Task<string> HealthProblemAsync()
    {
        try
        {
            var running = _nodes.Where(n => n.IsRunning).ToList();
            foreach (var node in running)
            {
                var info = await RespConnection.TextAsync(node.Port, "CLUSTER", "INFO");
                if (Field(info, "cluster_state") != "ok" || Field(info, "cluster_slots_ok") != "16384")
                    return $"{node.EndPoint}: {Field(info, "cluster_state")}, {Field(info, "cluster_slots_ok")} slots ok";
                if (Field(info, "cluster_known_nodes") != _nodes.Count.ToString(CultureInfo.InvariantCulture))
                    return $"{node.EndPoint} knows {Field(info, "cluster_known_nodes")} nodes";
                var replication = await RespConnection.TextAsync(node.Port, "INFO", "replication");
                if (Field(replication, "role") == "slave" && Field(replication, "master_link_status") != "up")
                    return $"{node.EndPoint}: replica link {Field(replication, "master_link_status")}";
            }
            // Every running node must see every other running node as connected and not failing.
            foreach (var node in running)
            {
                var view = await ViewAsync(node);
                foreach (var other in running)
                {
                    var entry = view.Entries.FirstOrDefault(e => e.Port == other.Port);
                    if (entry is null || entry.Failing || !entry.Connected)
                        return $"{node.EndPoint} sees {other.EndPoint} as {(entry is null ? "unknown" : string.Join(',', entry.Flags) + " " + entry.Link)}";
                }
            }
            return "";
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or InvalidOperationException)
        {
            return ex.Message;
        }
    }

    private string Diagnostics() =>
        string.Join('\n', _nodes.Select(n => $"--- {n.EndPoint} running={n.IsRunning}\n{n.OutputTail}"));

    private RedisClusterNode NodeOnPort(int port) => _nodes.Single(n => n.Port == port);

    private static async Task<ClusterView> ViewAsync(RedisClusterNode node) =>
        ClusterView.Parse(await RespConnection.TextAsync(node.Port, "CLUSTER", "NODES"));

    /// <summary>A field of an INFO-style reply (<c>name:value</c> lines), or "" when absent.</summary>
    internal static string Field(string info, string name) =>
        info.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal))?[(name.Length + 1)..] ?? "";

    private void KillOnExit(object? sender, EventArgs e)
    {
        foreach (var node in _nodes)
        {
            try
            {
                node.Process?.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    private static int[] FreePorts(int count)
    {
        // Held open together so the ports are distinct; released just before the servers bind them.
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    /// <summary>One node's view of the cluster, from CLUSTER NODES.</summary>
    private sealed record ClusterView(IReadOnlyList<ClusterEntry> Entries)
    {
        /// <summary>The master, not flagged failing, that this view says serves the slot.</summary>
        public ClusterEntry? OwnerOf(int slot) =>
            Entries.FirstOrDefault(e => e.Flags.Contains("master") && !e.Failing && e.Slots.Any(r => r.From <= slot && slot <= r.To));

        public static ClusterView Parse(string text) =>
            new([.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ClusterEntry.Parse)]);
    }

    // <id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot> ...
    private sealed record ClusterEntry(string Id, int Port, IReadOnlySet<string> Flags, string MasterId, string Link, IReadOnlyList<(int From, int To)> Slots)
    {
        public bool Failing => Flags.Contains("fail") || Flags.Contains("fail?") || Flags.Contains("noaddr");

        public bool Connected => Flags.Contains("myself") || Link == "connected";

        public static ClusterEntry Parse(string line)
        {
            var f = line.Split(' ');
            var address = f[1].Split('@')[0];
            var port = int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
            var slots = f.Skip(8).Where(s => !s.StartsWith('[')).Select(s =>
            {
                var dash = s.IndexOf('-', StringComparison.Ordinal);
                return dash < 0
                    ? (int.Parse(s, CultureInfo.InvariantCulture), int.Parse(s, CultureInfo.InvariantCulture))
                    : (int.Parse(s[..dash], CultureInfo.InvariantCulture), int.Parse(s[(dash + 1)..], CultureInfo.InvariantCulture));
            }).ToList();
            return new ClusterEntry(f[0], port, f[2].Split(',').ToHashSet(), f[3], f[7], slots);
        }
    }
}

/// <summary>One Redis Cluster shared by a test class; tests keep apart by using their own rooms.</summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    public RedisCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await RedisCluster.StartNewAsync();

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
            await Cluster.DisposeAsync();
    }
}
