using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Hosting;

/// <summary>Configuration section <c>Health</c>: a port of its own for the liveness and readiness probes.</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>
    /// When set, <c>/healthz/live</c> and <c>/healthz/ready</c> are answered on this port too, by a thread of their own that
    /// no load on the main port can hold up (default: none; the main port answers them in any case).
    /// </summary>
    public int? Port { get; set; }

    /// <summary>The address the probe port listens on (default <c>0.0.0.0</c>, where an orchestrator's probes come from).</summary>
    public string Address { get; set; } = "0.0.0.0";
}

public sealed class HealthOptionsValidator : IValidateOptions<HealthOptions>
{
    public ValidateOptionsResult Validate(string? name, HealthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Port is < 1 or > 65535)
        {
            errors.Add("Health:Port must be between 1 and 65535.");
        }
        if (!IPAddress.TryParse(options.Address, out _))
        {
            errors.Add("Health:Address must be an IP address, e.g. 0.0.0.0, :: or 127.0.0.1.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>
/// <c>/healthz/live</c> and <c>/healthz/ready</c> on <see cref="HealthOptions.Port"/>, answered by one thread of its own with
/// non-blocking sockets: not Kestrel, not the thread pool, so a flood of large request bodies on the main port (which keeps
/// every pool thread busy for a while) cannot delay a probe. HTTP/1.x, GET or HEAD, one request per connection. A connection
/// that has not sent its request within <see cref="RequestDeadline"/> is closed, and at most <see cref="MaxConnections"/> are
/// held, so a client that connects and says nothing costs the probes nothing. The verdict is the main port's, except that a
/// probe here never waits for storage: it is read every second in the background, and its last answer counts.
/// </summary>
public sealed partial class HealthProbeListener(ReadinessCheck readiness, IOptions<HealthOptions> options, ILogger<HealthProbeListener> logger)
    : IHostedService, IDisposable
{
    private static readonly TimeSpan RequestDeadline = TimeSpan.FromSeconds(2);
    private const int MaxConnections = 64;
    private const int MaxRequestBytes = 8 * 1024;

    private Socket? _listener;
    private Thread? _thread;
    private volatile bool _stopping;

    /// <summary>The port bound (the configured one, or the one the system chose for port 0 in tests); null when off.</summary>
    public int? BoundPort => (_listener?.LocalEndPoint as IPEndPoint)?.Port;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Port is not { } port)
        {
            return;
        }
        // Storage's first answer, so that the first probe finds one; not longer than a second, so that a database out of
        // reach (the start then waits for it) does not hold up the server's start.
        if (readiness.KeepFresh() is { } ping)
        {
            await Task.WhenAny(ping, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken)).ConfigureAwait(false);
        }
        var address = IPAddress.Parse(options.Value.Address);
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true;
            }
            listener.Bind(new IPEndPoint(address, port));
            listener.Listen(128);
            listener.Blocking = false;
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            // The setting is wrong for this machine (port taken, address not its own): say which, without a stack trace.
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Health:Port {port} on {address} cannot be listened on: {ex.SocketErrorCode}."), ex);
        }
        _listener = listener;
        _thread = new Thread(Run) { IsBackground = true, Name = "ConnectorEvents health probes" };
        _thread.Start();
        LogListening(logger, options.Value.Address, BoundPort ?? port);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _thread?.Join(TimeSpan.FromSeconds(2));
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _stopping = true;
        _listener?.Dispose();
    }

    private sealed class Probe(Socket socket, long deadline)
    {
        public Socket Socket { get; } = socket;
        public long Deadline { get; } = deadline;
        public byte[] Request { get; } = new byte[MaxRequestBytes];
        public int Received { get; set; }
    }

    private void Run()
    {
        var listener = _listener!;
        var probes = new List<Probe>();
        var readable = new List<Socket>();
        while (!_stopping)
        {
            try
            {
                readable.Clear();
                readable.Add(listener);
                readable.AddRange(probes.Select(p => p.Socket));
                // A short wait, so that a stop and an expired deadline are seen promptly.
                Socket.Select(readable, null, null, 100_000);
                // Storage is asked every second whether probes come or not: a probe judges by its last answer without waiting.
                readiness.KeepFresh();
                if (readable.Contains(listener))
                {
                    Accept(listener, probes);
                }
                foreach (var probe in probes.Where(p => readable.Contains(p.Socket)).ToList())
                {
                    if (Read(probe))
                    {
                        Close(probes, probe);
                    }
                }
                var now = Environment.TickCount64;
                foreach (var late in probes.Where(p => p.Deadline < now).ToList())
                {
                    Close(probes, late);
                }
            }
#pragma warning disable CA1031 // the probe thread outlives any one connection's fault
            catch (Exception ex) when (!_stopping)
#pragma warning restore CA1031
            {
                LogProbeFailed(logger, ex);
                foreach (var probe in probes.ToList())
                {
                    Close(probes, probe);
                }
            }
            catch (Exception) when (_stopping)
            {
                break;
            }
        }
        foreach (var probe in probes.ToList())
        {
            Close(probes, probe);
        }
        listener.Dispose();
    }

    private static void Accept(Socket listener, List<Probe> probes)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = listener.Accept();
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.WouldBlock)
            {
                return;
            }
            if (probes.Count >= MaxConnections)
            {
                // The oldest is the likeliest to be a client that connected and said nothing.
                Close(probes, probes[0]);
            }
            socket.Blocking = false;
            socket.NoDelay = true;
            probes.Add(new Probe(socket, Environment.TickCount64 + (long)RequestDeadline.TotalMilliseconds));
        }
    }

    /// <summary>Reads what arrived; true when the connection is done with (answered, closed by the client, or refused).</summary>
    private bool Read(Probe probe)
    {
        int read;
        try
        {
            read = probe.Socket.Receive(probe.Request, probe.Received, probe.Request.Length - probe.Received, SocketFlags.None);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.WouldBlock)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
        if (read == 0)
        {
            return true;
        }
        probe.Received += read;
        var request = probe.Request.AsSpan(0, probe.Received);
        if (request.IndexOf("\r\n\r\n"u8) < 0 && request.IndexOf("\n\n"u8) < 0)
        {
            if (probe.Received < probe.Request.Length)
            {
                return false;
            }
            Send(probe.Socket, Problem(431, "Request Header Fields Too Large", "A probe's request is at most 8 KiB."), head: false);
            return true;
        }
        var (answer, head) = Answer(request);
        Send(probe.Socket, answer, head);
        return true;
    }

    private (Response Answer, bool Head) Answer(ReadOnlySpan<byte> request)
    {
        var line = request[..request.IndexOf((byte)'\n')].TrimEnd((byte)'\r');
        var parts = Encoding.ASCII.GetString(line).Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal) || !parts[1].StartsWith('/'))
        {
            return (Problem(400, "Bad Request", "Send a request line such as 'GET /healthz/ready HTTP/1.1'."), false);
        }
        var path = parts[1].Split('?')[0];
        if (path is not ("/healthz/live" or "/healthz/ready"))
        {
            return (Problem(404, "Not Found", "This port answers /healthz/live and /healthz/ready only."), false);
        }
        if (parts[0] is not ("GET" or "HEAD"))
        {
            return (Problem(405, "Method Not Allowed", "Probes use GET or HEAD.") with { Allow = "GET, HEAD" }, false);
        }
        var head = parts[0] == "HEAD";
        if (path == "/healthz/live")
        {
            return (new Response(200, "OK", "text/plain; charset=utf-8", "Healthy"u8.ToArray()), head);
        }
        var (status, body) = readiness.Now();
        return (new Response(status, status == 200 ? "OK" : "Service Unavailable", ReadinessCheck.ContentType, body), head);
    }

    private sealed record Response(int Status, string Reason, string ContentType, byte[] Body)
    {
        public string? Allow { get; init; }
    }

    private static Response Problem(int status, string title, string detail)
    {
        using var body = new MemoryStream();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            if (Api.ProblemJsonWriter.TypeOf(status) is { } type)
            {
                json.WriteString("type", type);
            }
            json.WriteString("title", title);
            json.WriteNumber("status", status);
            json.WriteString("detail", detail);
            json.WriteEndObject();
        }
        return new Response(status, title, "application/problem+json", body.ToArray());
    }

    /// <summary>The whole answer in one send: it is small enough for the socket's buffer, so a non-blocking send takes it all.</summary>
    private static void Send(Socket socket, Response response, bool head)
    {
        var headers = string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {response.Status} {response.Reason}\r\nContent-Type: {response.ContentType}\r\nContent-Length: {response.Body.Length}\r\n"
            + $"Cache-Control: no-store\r\n{(response.Allow is null ? "" : $"Allow: {response.Allow}\r\n")}Connection: close\r\n\r\n");
        var bytes = Encoding.ASCII.GetBytes(headers);
        var message = head ? bytes : [.. bytes, .. response.Body];
        try
        {
            socket.Send(message);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The prober went away; nothing to tell it.
        }
    }

    private static void Close(List<Probe> probes, Probe probe)
    {
        probes.Remove(probe);
        probe.Socket.Dispose();
    }

    [LoggerMessage(EventId = LogEventIds.HealthProbeListening, Level = LogLevel.Information,
        Message = "Health probes are answered on {Address} port {Port} too")]
    private static partial void LogListening(ILogger logger, string address, int port);

    [LoggerMessage(EventId = LogEventIds.HealthProbeFailed, Level = LogLevel.Warning,
        Message = "The health probe port met an error; its open connections were closed")]
    private static partial void LogProbeFailed(ILogger logger, Exception exception);
}
