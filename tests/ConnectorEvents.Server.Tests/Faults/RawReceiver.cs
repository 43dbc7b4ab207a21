using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ConnectorEvents.Testing;

namespace ConnectorEvents.Server.Tests.Faults;

/// <summary>One request as a <see cref="RawReceiver"/> read it: its place on its connection, and how long that connection had been idle.</summary>
internal sealed record RawRequest(int IndexOnConnection, TimeSpan IdleBefore, ReceivedWebhook Webhook);

/// <summary>What a <see cref="RawReceiver"/> does with a request: answer with <see cref="Head"/>, or close without answering.</summary>
internal sealed record RawAnswer(string? Head, bool Close, TimeSpan Linger = default, bool Reset = false)
{
    /// <summary>Answers (no body) and keeps the connection for the next request.</summary>
    public static RawAnswer KeepAlive(string statusLine = "HTTP/1.1 200 OK") =>
        new($"{statusLine}\r\nContent-Length: 0\r\n\r\n", Close: false);

    /// <summary>Answers (no body), then closes the connection once <paramref name="linger"/> has passed.</summary>
    public static RawAnswer ThenClose(string statusLine, string fields, TimeSpan linger) =>
        new($"{statusLine}\r\nContent-Length: 0\r\n{fields}\r\n", Close: true, linger);

    /// <summary>Closes the connection without an answer: with a FIN, or with a reset.</summary>
    public static RawAnswer Drop(bool reset = false) => new(null, Close: true, Reset: reset);
}

/// <summary>
/// A receiver on a bare socket on 127.0.0.1, for what Kestrel will not do: answer HTTP/1.0, close a moment after each
/// answer, close a connection that went idle as the next request arrives. <see cref="Decide"/> chooses per request.
/// Records what it answered, what it dropped, and every request that came on a connection after its answer said it would
/// close. Connections are served until the receiver is disposed.
/// </summary>
internal sealed class RawReceiver : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<RawRequest> _answered = new();
    private readonly ConcurrentQueue<RawRequest> _dropped = new();
    private readonly Task _accepting;
    private int _connections;
    private int _requestsAfterClose;

    public RawReceiver(Func<RawRequest, RawAnswer> decide)
    {
        Decide = decide;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public Func<RawRequest, RawAnswer> Decide { get; }

    public string Url(string path = "/hook") => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}{path}";

    public IReadOnlyList<RawRequest> Answered => _answered.ToArray();

    /// <summary>The webhooks answered: the receipts for <see cref="DeliveryAccounting"/>.</summary>
    public IReadOnlyList<ReceivedWebhook> Receipts => _answered.Select(r => r.Webhook).ToArray();

    public IReadOnlyList<RawRequest> Dropped => _dropped.ToArray();

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Requests sent on a connection after its answer had said it would close (HTTP/1.0, <c>Connection: close</c>).</summary>
    public int RequestsAfterClose => Volatile.Read(ref _requestsAfterClose);

    private async Task AcceptAsync()
    {
        var serving = new List<Task>();
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stopping.Token);
                Interlocked.Increment(ref _connections);
                serving.Add(Task.Run(() => ServeAsync(socket)));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopped
        }
        await Task.WhenAll(serving);
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            var reader = new RequestReader(socket);
            var idleSince = Stopwatch.GetTimestamp();
            for (var index = 0; ; index++)
            {
                try
                {
                    if (await reader.ReadAsync(_stopping.Token) is not { } webhook)
                    {
                        return; // the sender closed the connection
                    }
                    var request = new RawRequest(index, Stopwatch.GetElapsedTime(idleSince), webhook);
                    var answer = Decide(request);
                    if (answer.Head is null)
                    {
                        _dropped.Enqueue(request);
                        if (answer.Reset)
                        {
                            socket.LingerState = new LingerOption(true, 0);
                        }
                        return;
                    }
                    _answered.Enqueue(request);
                    await socket.SendAsync(Encoding.ASCII.GetBytes(answer.Head), _stopping.Token);
                    idleSince = Stopwatch.GetTimestamp();
                    if (answer.Close)
                    {
                        // Whatever arrives before the close is a request sent on a connection said to be closing.
                        await Task.Delay(answer.Linger, _stopping.Token);
                        if (reader.Buffered > 0 || socket.Available > 0)
                        {
                            Interlocked.Increment(ref _requestsAfterClose);
                        }
                        return;
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException)
                {
                    return;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stopping.Dispose();
    }

    /// <summary>HTTP/1.1 requests off one connection, one at a time: headers, then a Content-Length body.</summary>
    private sealed class RequestReader(Socket socket)
    {
        private readonly byte[] _chunk = new byte[8192];
        private readonly List<byte> _buffer = [];

        public int Buffered => _buffer.Count;

        /// <summary>The next request, or null when the sender closed the connection between requests.</summary>
        public async Task<ReceivedWebhook?> ReadAsync(CancellationToken cancellationToken)
        {
            int headerEnd;
            while ((headerEnd = IndexOfHeaderEnd()) < 0)
            {
                if (!await FillAsync(cancellationToken))
                {
                    return _buffer.Count == 0 ? null : throw new IOException("The sender closed in the middle of a request.");
                }
            }
            var lines = Encoding.ASCII.GetString(_buffer.GetRange(0, headerEnd).ToArray()).Split("\r\n");
            var headers = lines.Skip(1).Select(l => l.Split(':', 2))
                .ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
            var length = headers.TryGetValue("content-length", out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : 0;
            while (_buffer.Count < headerEnd + 4 + length)
            {
                if (!await FillAsync(cancellationToken))
                {
                    throw new IOException("The sender closed in the middle of a request.");
                }
            }
            var body = _buffer.GetRange(headerEnd + 4, length).ToArray();
            _buffer.RemoveRange(0, headerEnd + 4 + length);
            var target = lines[0].Split(' ')[1];
            var query = target.IndexOf('?', StringComparison.Ordinal);
            return new ReceivedWebhook(query < 0 ? target : target[..query], query < 0 ? "" : target[query..], headers, body,
                Stopwatch.GetTimestamp());
        }

        private async Task<bool> FillAsync(CancellationToken cancellationToken)
        {
            var read = await socket.ReceiveAsync(_chunk, cancellationToken);
            _buffer.AddRange(_chunk.AsSpan(0, read));
            return read > 0;
        }

        private int IndexOfHeaderEnd()
        {
            for (var i = 0; i + 3 < _buffer.Count; i++)
            {
                if (_buffer[i] == '\r' && _buffer[i + 1] == '\n' && _buffer[i + 2] == '\r' && _buffer[i + 3] == '\n')
                {
                    return i;
                }
            }
            return -1;
        }
    }
}
