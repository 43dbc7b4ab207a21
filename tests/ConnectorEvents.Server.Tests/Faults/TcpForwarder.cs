using System.Net;
using System.Net.Sockets;
using ConnectorEvents.Testing;
using Microsoft.AspNetCore.Builder;
using Npgsql;

namespace ConnectorEvents.Server.Tests.Faults;

/// <summary>
/// A loopback TCP relay in front of a server (the test PostgreSQL cluster), so a test can make that server unreachable
/// for one client and reachable again, on the same port, without stopping what other tests share.
/// </summary>
internal sealed class TcpForwarder : IDisposable
{
    private readonly IPEndPoint _target;
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _running;

    public TcpForwarder(IPEndPoint target)
    {
        _target = target;
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Start();
    }

    public int Port { get; }

    /// <summary>Listens again on the same port: new connections reach the server.</summary>
    public void Start()
    {
        _running = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _ = AcceptAsync(_listener, _running.Token);
    }

    /// <summary>Refuses new connections and cuts every open one, as a server that went away.</summary>
    public void Stop()
    {
        Refuse();
        lock (_open)
        {
            foreach (var client in _open)
            {
                client.Dispose();
            }
            _open.Clear();
        }
    }

    /// <summary>Refuses new connections; open ones go on (a database at its connection limit, or a network half down).</summary>
    public void Refuse()
    {
        _running?.Cancel();
        _listener?.Stop();
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(ct);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var outbound = new TcpClient();
            try
            {
                await outbound.ConnectAsync(_target, ct);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }
            lock (_open)
            {
                _open.Add(inbound);
                _open.Add(outbound);
            }
            var link = new Link();
            _ = PumpAsync(inbound, outbound, this, link, toServer: true);
            _ = PumpAsync(outbound, inbound, this, link, toServer: false);
        }
    }

    private volatile TaskCompletionSource? _frozen;

    /// <summary>Holds every byte from now on, both ways, connections open: a database that stopped (SIGSTOP) or hangs on its disk.</summary>
    public void Freeze() => _frozen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets the held bytes and the rest through again.</summary>
    public void Thaw() => Interlocked.Exchange(ref _frozen, null)?.TrySetResult();

    private sealed record CommitCut(byte[] Marker, bool ForwardCommit, bool ThenRefuse);

    private CommitCut? _commitCut;
    private int _cuts;

    /// <summary>Connections cut by <see cref="CutAtCommit"/> so far.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    /// <summary>
    /// Cuts the connection on which a client sends <paramref name="marker"/> (a value its transaction writes, in the round
    /// trip that ends with its COMMIT): after passing it on, at the database's answer that the transaction ended (it
    /// committed, the answer is lost), or instead of passing it on (the database gets neither the writes nor the COMMIT).
    /// With <paramref name="thenRefuse"/> the proxy also refuses new connections from that moment until <see cref="Start"/>,
    /// the others going on. Once.
    /// </summary>
    public void CutAtCommit(string marker, bool forwardCommit, bool thenRefuse = false) =>
        Volatile.Write(ref _commitCut, new CommitCut(System.Text.Encoding.UTF8.GetBytes(marker), forwardCommit, thenRefuse));

    // ReadyForQuery saying idle: the transaction ended. (A prepared COMMIT is not sent as text, so the answer is watched.)
    private static readonly byte[] TransactionEnded = [(byte)'Z', 0, 0, 0, 5, (byte)'I'];

    /// <summary>The two directions of one relayed connection.</summary>
    private sealed class Link
    {
        /// <summary>Set before the marker is passed on: the answer that the transaction ended (and anything after) never reaches the client.</summary>
        public volatile bool CutAtEnd;

        public volatile bool RefuseAfterAnswer;
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to, TcpForwarder forwarder, Link link, bool toServer)
    {
        try
        {
            var source = from.GetStream();
            var target = to.GetStream();
            // The answer's end may arrive split over two reads: the last bytes of the one before are searched with the next.
            var offset = TransactionEnded.Length - 1;
            var buffer = new byte[offset + (16 * 1024)];
            var carried = 0;
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(offset))) > 0)
            {
                if (forwarder._frozen is { } frozen)
                {
                    await frozen.Task;
                }
                var chunk = buffer.AsMemory(offset, read);
                if (toServer && Volatile.Read(ref forwarder._commitCut) is { } cut && chunk.Span.IndexOf(cut.Marker) >= 0
                    && Interlocked.CompareExchange(ref forwarder._commitCut, null, cut) == cut)
                {
                    if (cut.ForwardCommit)
                    {
                        // Closed once the database answered (by the other direction): a close now might reset the
                        // connection before the database read the COMMIT.
                        link.RefuseAfterAnswer = cut.ThenRefuse;
                        link.CutAtEnd = true;
                        await target.WriteAsync(chunk);
                        continue;
                    }
                    Interlocked.Increment(ref forwarder._cuts);
                    if (cut.ThenRefuse)
                    {
                        forwarder.Refuse();
                    }
                    break;
                }
                if (!toServer && link.CutAtEnd && buffer.AsSpan(offset - carried, carried + read).IndexOf(TransactionEnded) >= 0)
                {
                    Interlocked.Increment(ref forwarder._cuts); // counted here: the answer was really kept from the client
                    if (link.RefuseAfterAnswer)
                    {
                        forwarder.Refuse();
                    }
                    break;
                }
                await target.WriteAsync(chunk);
                carried = Math.Min(offset, read);
                buffer.AsSpan(offset + read - carried, carried).CopyTo(buffer.AsSpan(offset - carried));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
        }
        from.Dispose();
        to.Dispose();
    }

    public void Dispose()
    {
        Thaw();
        Stop();
    }
}

/// <summary>A test server on a fresh PostgreSQL database reached through a <see cref="TcpForwarder"/> the test can stop and start.</summary>
internal sealed class ProxiedPostgres : IAsyncDisposable
{
    private ProxiedPostgres(TcpForwarder proxy, NpgsqlConnectionStringBuilder connection, RunningServer server)
    {
        Proxy = proxy;
        Connection = connection;
        Server = server;
    }

    public TcpForwarder Proxy { get; }

    /// <summary>The connection string the server was given (through the proxy).</summary>
    public NpgsqlConnectionStringBuilder Connection { get; }

    public RunningServer Server { get; }

    /// <param name="adjust">Changes to the server's connection string (a password, a time-out).</param>
    /// <param name="proxyStopped">The database out of reach when the server starts.</param>
    public static async Task<ProxiedPostgres> StartAsync(
        Action<NpgsqlConnectionStringBuilder>? adjust = null, bool proxyStopped = false, Action<WebApplicationBuilder>? configure = null,
        Dictionary<string, string?>? settings = null)
    {
        var database = new NpgsqlConnectionStringBuilder(PostgresServer.CreateDatabase());
        var proxy = new TcpForwarder(new IPEndPoint(IPAddress.Parse(database.Host!), database.Port));
        if (proxyStopped)
        {
            proxy.Stop();
        }
        var connection = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = proxy.Port };
        adjust?.Invoke(connection);
        settings ??= [];
        settings["Storage:Provider"] = "Postgres";
        settings["ConnectionStrings:Postgres"] = connection.ConnectionString;
        var server = await RunningServer.StartAsync(settings, configure: configure);
        return new ProxiedPostgres(proxy, connection, server);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Proxy.Dispose();
    }
}
