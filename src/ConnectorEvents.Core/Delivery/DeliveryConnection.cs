using System.Runtime.CompilerServices;
using System.Text;

namespace ConnectorEvents.Core.Delivery;

/// <summary>
/// One delivery connection as the sender's HTTP stack sees it: its plaintext stream (above TLS, if any), plus the two facts
/// about reuse that the connection pool cannot tell the sender.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="SocketsHttpHandler"/> pools a keep-alive connection as soon as an answer has been read. A receiver that closed
/// it meanwhile (an idle time-out, or an HTTP/1.0 server closing after each answer) is noticed only when the pool's
/// read-ahead has already seen the end of the stream; a connection handed straight to a waiting request is not checked at
/// all. The next POST then goes out on a dead connection and fails with <c>ResponseEnded</c>; the handler itself retries only
/// requests without a body. So a request that fails before any byte of its answer, on a connection that had answered an
/// earlier request, throws <see cref="StaleConnectionException"/> here, and the sender sends it again on a new connection.
/// </para>
/// <para>
/// A new request is also refused (the same exception, nothing written) on a connection whose last answer said the receiver
/// would close it: an HTTP/1.0 status line without a keep-alive <c>Connection</c> field. The handler already closes after
/// <c>Connection: close</c>, but it keeps HTTP/1.0 connections for reuse (dotnet/runtime,
/// <c>Http10Response_ConnectionIsReusedFor10And11</c>), and when the answer says so the connection is often back in the
/// pool before the sender sees the answer's version.
/// </para>
/// <para>
/// HTTP/1.1 without pipelining or <c>Expect: 100-continue</c>: an exchange is writes (the request), then reads (its answer);
/// a write after answer bytes starts the next exchange. The state is one int changed atomically, because the pool's
/// read-ahead may complete on another thread while the next request is being written: whichever comes second sees the other.
/// The async paths use pooled builders, so a request allocates next to nothing here (about 12 B per post, measured).
/// </para>
/// </remarks>
internal sealed class DeliveryConnection(Stream inner) : Stream
{
    /// <summary>A byte of the current exchange's answer has been read.</summary>
    private const int AnswerStarted = 1;

    /// <summary>The current exchange is not the connection's first.</summary>
    private const int Reused = 2;

    /// <summary>The receiver ended the connection, or its last answer said it would.</summary>
    private const int Closing = 4;

    private int _state;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return inner.ReadAsync(buffer, cancellationToken); // the pool waiting for data on an idle connection
        }
        var pending = inner.ReadAsync(buffer, cancellationToken);
        if (!pending.IsCompletedSuccessfully)
        {
            return AwaitReadAsync(pending, buffer);
        }
        var read = pending.Result;
        return IsStaleEnd(buffer.Span, read) ? ValueTask.FromException<int>(new StaleConnectionException()) : new(read);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> AwaitReadAsync(ValueTask<int> pending, Memory<byte> buffer)
    {
        int read;
        try
        {
            read = await pending.ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            if (Ended())
            {
                throw new StaleConnectionException(ex);
            }
            throw;
        }
        return IsStaleEnd(buffer.Span, read) ? throw new StaleConnectionException() : read;
    }

    public override int Read(Span<byte> buffer)
    {
        int read;
        try
        {
            read = inner.Read(buffer);
        }
        catch (IOException ex)
        {
            if (!buffer.IsEmpty && Ended())
            {
                throw new StaleConnectionException(ex);
            }
            throw;
        }
        return !buffer.IsEmpty && IsStaleEnd(buffer, read) ? throw new StaleConnectionException() : read;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (StartsRequestOnClosingConnection())
        {
            return ValueTask.FromException(new StaleConnectionException());
        }
        var pending = inner.WriteAsync(buffer, cancellationToken);
        return pending.IsCompletedSuccessfully ? pending : AwaitWriteAsync(pending);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitWriteAsync(ValueTask pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            if (Ended())
            {
                throw new StaleConnectionException(ex);
            }
            throw;
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (StartsRequestOnClosingConnection())
        {
            throw new StaleConnectionException();
        }
        try
        {
            inner.Write(buffer);
        }
        catch (IOException ex)
        {
            if (Ended())
            {
                throw new StaleConnectionException(ex);
            }
            throw;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>
    /// Called on every write: the first write after answer bytes starts a new exchange on a reused connection. True when
    /// that new request must not go out, because the connection is known to be ending.
    /// </summary>
    private bool StartsRequestOnClosingConnection()
    {
        var state = Volatile.Read(ref _state);
        while ((state & AnswerStarted) != 0)
        {
            var seen = Interlocked.CompareExchange(ref _state, (state & ~AnswerStarted) | Reused, state);
            if (seen == state)
            {
                return (state & Closing) != 0;
            }
            state = seen;
        }
        return false;
    }

    /// <summary>
    /// Records what a read brought: the end of the stream (true when that makes the connection stale), or the first bytes
    /// of an answer, which may say the receiver will close.
    /// </summary>
    private bool IsStaleEnd(ReadOnlySpan<byte> buffer, int read)
    {
        if (read == 0)
        {
            return Ended();
        }
        if ((Volatile.Read(ref _state) & AnswerStarted) == 0
            && (Interlocked.Or(ref _state, AnswerStarted) & AnswerStarted) == 0
            && WillClose(buffer[..read]))
        {
            Interlocked.Or(ref _state, Closing);
        }
        return false;
    }

    /// <summary>Marks the connection ended; true when the current request had gone out on a reused connection and no byte of its answer came.</summary>
    private bool Ended() => (Interlocked.Or(ref _state, Closing) & (Reused | AnswerStarted)) == Reused;

    /// <summary>
    /// True when an answer's first bytes say the receiver closes after it: an HTTP/1.0 status line and, in the head as far as
    /// it came in this read, no <c>Connection</c> field naming keep-alive (RFC 9112, section 9.3).
    /// </summary>
    internal static bool WillClose(ReadOnlySpan<byte> answerStart)
    {
        if (!answerStart.StartsWith("HTTP/1.0 "u8))
        {
            return false;
        }
        var end = answerStart.IndexOf("\r\n\r\n"u8);
        var fields = end < 0 ? answerStart : answerStart[..end];
        while (fields.IndexOf("\r\n"u8) is var lineEnd and >= 0)
        {
            fields = fields[(lineEnd + 2)..];
            var line = fields.IndexOf("\r\n"u8) is var next and >= 0 ? fields[..next] : fields;
            if (line.Length > Connection.Length && Ascii.EqualsIgnoreCase(line[..Connection.Length], Connection)
                && ContainsIgnoreCase(line[Connection.Length..], "keep-alive"u8))
            {
                return false;
            }
        }
        return true;
    }

    private static ReadOnlySpan<byte> Connection => "Connection:"u8;

    private static bool ContainsIgnoreCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> value)
    {
        for (var i = 0; i + value.Length <= text.Length; i++)
        {
            if (Ascii.EqualsIgnoreCase(text.Slice(i, value.Length), value))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>
/// A request met a pooled connection the receiver had closed, before any byte of the answer came: sending it again on a new
/// connection is safe (same webhook-id; deliveries are at least once).
/// </summary>
public sealed class StaleConnectionException : IOException
{
    public StaleConnectionException()
        : base("The receiver had closed the pooled connection before this request's answer began.")
    {
    }

    public StaleConnectionException(Exception? inner)
        : base("The receiver had closed the pooled connection before this request's answer began.", inner)
    {
    }
}
