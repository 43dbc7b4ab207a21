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
        _running?.Cancel();
        _listener?.Stop();
        lock (_open)
        {
            foreach (var client in _open)
            {
                client.Dispose();
            }
            _open.Clear();
        }
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
            _ = PumpAsync(inbound, outbound, this);
            _ = PumpAsync(outbound, inbound, this);
        }
    }

    private volatile TaskCompletionSource? _frozen;

    /// <summary>Holds every byte from now on, both ways, connections open: a database that stopped (SIGSTOP) or hangs on its disk.</summary>
    public void Freeze() => _frozen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets the held bytes and the rest through again.</summary>
    public void Thaw() => Interlocked.Exchange(ref _frozen, null)?.TrySetResult();

    private static async Task PumpAsync(TcpClient from, TcpClient to, TcpForwarder forwarder)
    {
        try
        {
            var source = from.GetStream();
            var target = to.GetStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await source.ReadAsync(buffer)) > 0)
            {
                if (forwarder._frozen is { } frozen)
                {
                    await frozen.Task;
                }
                await target.WriteAsync(buffer.AsMemory(0, read));
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
