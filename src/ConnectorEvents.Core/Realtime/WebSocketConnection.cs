using System.Net.WebSockets;
using System.Threading.Channels;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Realtime;

/// <summary>
/// One accepted socket of an integration: a bounded queue of ready frames drained by a single send loop (a WebSocket
/// allows one send at a time, the close frame included), and a receive loop that discards what the client sends.
/// Frames are shared with the other sockets they go to; what the socket holds of its own is the fragment being written
/// (at most <see cref="FragmentBytes"/>) and what the transport buffers under it.
/// </summary>
public sealed class WebSocketConnection : IDisposable
{
    /// <summary>
    /// A frame goes out as fragments of at most this size (one WebSocket message, reassembled by the client): the socket
    /// copies each fragment it writes, with its header of up to 14 bytes, into a pooled buffer it keeps until the write
    /// completes, so a socket that stops reading holds one fragment, not a copy of the whole frame. 16 KiB less the
    /// header, so that buffer is a 16 KiB one (the pool rounds up to a power of two).
    /// </summary>
    public const int FragmentBytes = (16 * 1024) - 14;

    private readonly WebSocket _socket;
    private readonly RealtimeOptions _options;
    private readonly SemaphoreSlim _writeTurns;

    // Several readers: a close drops the queued frames at once (so their bytes leave the hub's total), while the send loop reads.
    private readonly Channel<SharedFrame> _queue = Channel.CreateUnbounded<SharedFrame>(new UnboundedChannelOptions { SingleReader = false });

    // Armed when a close is requested: when it passes, the connection underneath is aborted, which ends a send stuck
    // on a peer that does not read (cancelling the send itself does not reliably reach a pending flush) and the wait
    // for the peer's close answer, so closing never takes longer than CloseTimeout.
    private readonly CancellationTokenSource _closeDeadline;
    private readonly Action _abortTransport;
    private readonly TaskCompletionSource _receiveEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Aborting the socket does not end a read pending in the server's stream; cancelling the read does.
    private readonly CancellationTokenSource _receiveCancel = new();
    private volatile EventSubscription _filter;
    private CloseRequest? _close;

    // The frame being sent, held until it is sent or the socket closes, whichever comes first.
    private SharedFrame? _inFlight;
    private int _frames;
    private long _bytes;

    internal WebSocketConnection(
        WebSocket socket, ClientRecord client, IntegrationRecord integration, RealtimeOptions options, TimeProvider time, Action? abortTransport,
        SemaphoreSlim writeTurns)
    {
        _writeTurns = writeTurns;
        _socket = socket;
        _abortTransport = abortTransport ?? socket.Abort;
        _options = options;
        _filter = integration.WebSocketEvents;
        _closeDeadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _closeDeadline.Token.UnsafeRegister(static state => ((WebSocketConnection)state!).AbortTransport(), this);
        IntegrationId = integration.Id;
        EnterpriseId = integration.EnterpriseId;
        AccessToken = integration.AccessToken;
        ClientId = client.Id;
        ClientToken = client.ClientToken;
    }

    /// <summary>The access token the socket connected with; a regenerated token closes it.</summary>
    internal TokenDigest AccessToken { get; }

    /// <summary>The client token the socket connected with; a regenerated token closes it.</summary>
    internal TokenDigest ClientToken { get; }

    public Guid ClientId { get; }

    public Guid IntegrationId { get; }

    public Guid EnterpriseId { get; }

    /// <summary>Frames queued or being sent: how far behind the socket is; none once it is closing.</summary>
    public int QueuedFrames => Volatile.Read(ref _frames);

    /// <summary>Bytes of the frames queued or being sent (frames it shares with other sockets included); none once it is closing.</summary>
    public long QueuedBytes => Interlocked.Read(ref _bytes);

    public bool IsClosing => Volatile.Read(ref _close) is not null;

    /// <summary>The status the server closes (or closed) with, once a close was requested.</summary>
    public WebSocketCloseStatus? CloseStatus => Volatile.Read(ref _close)?.Status;

    public string? CloseReason => Volatile.Read(ref _close)?.Reason;

    internal EventSubscription Filter
    {
        get => _filter;
        set => _filter = value;
    }

    /// <summary>Sends until the socket closes; returns once both directions are done (bounded by CloseTimeout after a close).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var receiveCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _receiveCancel.Token);
        var receiving = ReceiveLoopAsync(receiveCancel.Token);
        // The send loop ends only after a close was requested (the receive loop requests one when it ends), and then
        // within CloseTimeout; by then the receive loop has ended too, except for a read the server does not give
        // back after an abort, which is left behind rather than holding the connection forever.
        await SendLoopAsync().ConfigureAwait(false);
        try
        {
            await receiving.WaitAsync(_options.CloseTimeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>
    /// Closes with this status and reason once the frame being sent (if any) has gone; queued frames are dropped at
    /// once, and the frame in flight no longer counts as held (it is sent, or dropped with the connection after
    /// CloseTimeout). The first request wins; returns whether this was it.
    /// </summary>
    public bool Close(WebSocketCloseStatus status, string reason)
    {
        if (Interlocked.CompareExchange(ref _close, new CloseRequest(status, reason), null) is not null)
        {
            return false;
        }
        _queue.Writer.TryComplete();
        DropQueued();
        ReleaseInFlight();
        try
        {
            _closeDeadline.CancelAfter(_options.CloseTimeout);
        }
        catch (ObjectDisposedException)
        {
            // Already finished and unregistered.
        }
        return true;
    }

    /// <summary>
    /// Queues a frame without waiting, holding it until sent or dropped; false when it does not fit the bounds (the
    /// caller closes the socket). Call while holding the frame.
    /// </summary>
    internal bool TryEnqueue(SharedFrame frame)
    {
        if (IsClosing)
        {
            return true;
        }
        var frames = Interlocked.Increment(ref _frames);
        var bytes = Interlocked.Add(ref _bytes, frame.Length);
        // A single frame larger than the byte bound still goes when nothing else waits, or it could never be sent.
        if (frames > 1 && (frames > _options.SendBufferFrames || bytes > _options.SendBufferBytes))
        {
            Interlocked.Decrement(ref _frames);
            Interlocked.Add(ref _bytes, -frame.Length);
            return false;
        }
        frame.Hold();
        if (!_queue.Writer.TryWrite(frame))
        {
            // Closed meanwhile.
            Release(frame);
        }
        return true;
    }

    private void Release(SharedFrame frame)
    {
        Interlocked.Decrement(ref _frames);
        Interlocked.Add(ref _bytes, -frame.Length);
        frame.Release();
    }

    private void DropQueued()
    {
        while (_queue.Reader.TryRead(out var dropped))
        {
            Release(dropped);
        }
    }

    /// <summary>Lets go of the frame in flight, once: the send loop when it was sent, or a close, whichever comes first.</summary>
    private void ReleaseInFlight()
    {
        if (Interlocked.Exchange(ref _inFlight, null) is { } frame)
        {
            Release(frame);
        }
    }

    private async Task SendLoopAsync()
    {
        var reader = _queue.Reader;
        try
        {
            // A close completes the queue but leaves its frames in it, so the loop stops on IsClosing, not on an empty queue
            // (WaitToReadAsync stays true while frames remain).
            while (!IsClosing && await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (!IsClosing && reader.TryRead(out var frame))
                {
                    Volatile.Write(ref _inFlight, frame);
                    // A close that came between the read and the line above found no frame in flight to let go of.
                    if (!IsClosing)
                    {
                        await SendFragmentsAsync(frame.Bytes).ConfigureAwait(false);
                    }
                    ReleaseInFlight();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException or IOException)
        {
            // The peer went away, or the close deadline ended a stuck send (which aborts the socket).
            Close(WebSocketCloseStatus.EndpointUnavailable, "The connection was lost.");
        }
        ReleaseInFlight();
        DropQueued();
        await CloseSocketAsync().ConfigureAwait(false);
    }

    /// <summary>One text message, written a fragment at a time; a close requested meanwhile waits for its end.</summary>
    private async Task SendFragmentsAsync(byte[] frame)
    {
        for (var offset = 0; offset < frame.Length; offset += FragmentBytes)
        {
            var length = Math.Min(FragmentBytes, frame.Length - offset);
            // A turn covers the copying part of a write, not the wait for a slow peer: a fan-out to thousands of sockets
            // then queues here, a few writes at a time, instead of in the thread pool ahead of every other request.
            await _writeTurns.WaitAsync().ConfigureAwait(false);
            Task send;
            try
            {
                send = _socket.SendAsync(frame.AsMemory(offset, length), WebSocketMessageType.Text,
                    endOfMessage: offset + length == frame.Length, CancellationToken.None).AsTask();
            }
            finally
            {
                _writeTurns.Release();
            }
            await Bounded(send).ConfigureAwait(false);
        }
    }

    private async Task CloseSocketAsync()
    {
        var request = Volatile.Read(ref _close)!;
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await Bounded(_socket.CloseOutputAsync(request.Status, request.Reason, CancellationToken.None)).ConfigureAwait(false);
            }
            // The peer answers our close; the receive loop sees the answer and ends.
            await _receiveEnded.Task.WaitAsync(_closeDeadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException or IOException)
        {
        }
        finally
        {
            if (_socket.State != WebSocketState.Closed)
            {
                AbortTransport();
                _socket.Abort();
                await _receiveCancel.CancelAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[1024];
        long messageBytes = 0;
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // Answers the peer's close; a no-op when the server started the close.
                    Close(WebSocketCloseStatus.NormalClosure, "");
                    return;
                }
                messageBytes += result.Count;
                if (messageBytes > _options.MaxReceiveMessageBytes)
                {
                    // Keeps reading (and discarding) so the peer's close answer is still seen.
                    Close(WebSocketCloseStatus.MessageTooBig, $"Messages to the server are limited to {_options.MaxReceiveMessageBytes} bytes.");
                }
                if (result.EndOfMessage)
                {
                    messageBytes = 0;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException or IOException)
        {
            Close(WebSocketCloseStatus.EndpointUnavailable, "The connection was lost.");
        }
        finally
        {
            _receiveEnded.TrySetResult();
        }
    }

    /// <summary>
    /// Waits for a send until the close deadline. A send blocked on a peer that does not read may not end even when
    /// the connection is aborted, so past the deadline it is left behind (its outcome observed) instead of awaited.
    /// </summary>
    private Task Bounded(Task send)
    {
        if (send.IsCompleted)
        {
            return send;
        }
        _ = send.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return send.WaitAsync(_closeDeadline.Token);
    }

    private void AbortTransport()
    {
        try
        {
            _abortTransport();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _closeDeadline.Dispose();
        _receiveCancel.Dispose();
    }

    private sealed record CloseRequest(WebSocketCloseStatus Status, string Reason);
}
