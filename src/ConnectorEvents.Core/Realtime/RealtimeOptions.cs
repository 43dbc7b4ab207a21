using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Realtime;

/// <summary>Configuration section <c>WebSockets</c>.</summary>
public sealed class RealtimeOptions
{
    public const string Section = "WebSockets";

    /// <summary>
    /// Sockets this process holds at once, of all integrations; one more is refused before the upgrade with 503 and
    /// <c>Retry-After</c>. Default 2,000: a socket that reads nothing holds about 100 KiB of the process's memory (measured:
    /// the fragment being written and the transport's 64 KiB output buffer, mostly), so 2,000 such sockets took a server
    /// from 176 to 364 MiB, within 512 MiB.
    /// </summary>
    public int MaxConnections { get; set; } = 2000;

    /// <summary>
    /// Sockets of one integration this process holds at once; one more is refused before the upgrade with 429 and
    /// <c>Retry-After</c>. Default 100: a socket per device or worker of a property, while a leaked token cannot take
    /// the whole server's share.
    /// </summary>
    public int MaxConnectionsPerIntegration { get; set; } = 100;

    /// <summary>
    /// Bytes of frames waiting for the sockets, all together, each frame counted once however many sockets it goes to.
    /// Past it, the sockets furthest behind are closed as too slow until the rest fits. Default 64 MiB.
    /// </summary>
    public long MaxBufferedBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Frames queued for one socket; one more closes it as too slow, so a stalled reader costs bounded memory.</summary>
    public int SendBufferFrames { get; set; } = 256;

    /// <summary>Bytes queued for one socket (a single frame larger than this is still sent when nothing else waits).</summary>
    public long SendBufferBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// The kernel's send buffer of each socket's connection, in bytes (the kernel doubles it for its bookkeeping); zero
    /// leaves it to the kernel. Left alone, Linux grows it to about 1 MiB for a peer that does not read, beyond the
    /// process's own memory: 2,000 such sockets held 1.5 GiB of kernel memory, past the pressure mark of a 24 GiB
    /// machine. Default 64 KiB, which still carries 1.3 MB/s to a peer 100 ms away.
    /// </summary>
    public int SocketSendBufferBytes { get; set; } = 64 * 1024;

    /// <summary>How often the server pings an open socket; zero turns pings off.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping may wait for its pong before the socket is dropped; zero waits forever.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a closing socket may take to finish its current send and the close handshake before it is aborted.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Clients have nothing to say on this channel; their messages are read, bounded by this size, and discarded.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 4096;
}

public sealed class RealtimeOptionsValidator : IValidateOptions<RealtimeOptions>
{
    public ValidateOptionsResult Validate(string? name, RealtimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.MaxConnections is < 1 or > 1_000_000)
        {
            errors.Add("WebSockets:MaxConnections must be between 1 and 1000000.");
        }
        if (options.MaxConnectionsPerIntegration is < 1 or > 1_000_000)
        {
            errors.Add("WebSockets:MaxConnectionsPerIntegration must be between 1 and 1000000.");
        }
        if (options.MaxBufferedBytes is < 1024 * 1024 or > 64L * 1024 * 1024 * 1024)
        {
            errors.Add("WebSockets:MaxBufferedBytes must be between 1048576 and 68719476736.");
        }
        if (options.SendBufferFrames is < 1 or > 1_000_000)
        {
            errors.Add("WebSockets:SendBufferFrames must be between 1 and 1000000.");
        }
        if (options.SendBufferBytes is < 1024 or > 1024L * 1024 * 1024)
        {
            errors.Add("WebSockets:SendBufferBytes must be between 1024 and 1073741824.");
        }
        if (options.SocketSendBufferBytes != 0 && options.SocketSendBufferBytes is < 4096 or > 64 * 1024 * 1024)
        {
            errors.Add("WebSockets:SocketSendBufferBytes must be 0 (the kernel decides) or between 4096 and 67108864.");
        }
        if (options.KeepAliveInterval < TimeSpan.Zero || options.KeepAliveInterval > TimeSpan.FromHours(1))
        {
            errors.Add("WebSockets:KeepAliveInterval must be between 00:00:00 and 01:00:00.");
        }
        if (options.KeepAliveTimeout < TimeSpan.Zero || options.KeepAliveTimeout > TimeSpan.FromHours(1))
        {
            errors.Add("WebSockets:KeepAliveTimeout must be between 00:00:00 and 01:00:00.");
        }
        if (options.CloseTimeout <= TimeSpan.Zero || options.CloseTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add("WebSockets:CloseTimeout must be more than 0 and at most 00:05:00.");
        }
        if (options.MaxReceiveMessageBytes is < 1 or > 1024 * 1024)
        {
            errors.Add("WebSockets:MaxReceiveMessageBytes must be between 1 and 1048576.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
