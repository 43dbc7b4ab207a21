using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Realtime;

/// <summary>Configuration section <c>WebSockets</c>.</summary>
public sealed class RealtimeOptions
{
    public const string Section = "WebSockets";

    /// <summary>Frames queued for one socket; one more closes it as too slow, so a stalled reader costs bounded memory.</summary>
    public int SendBufferFrames { get; set; } = 256;

    /// <summary>Bytes queued for one socket (a single frame larger than this is still sent when nothing else waits).</summary>
    public long SendBufferBytes { get; set; } = 4 * 1024 * 1024;

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
        if (options.SendBufferFrames is < 1 or > 1_000_000)
        {
            errors.Add("WebSockets:SendBufferFrames must be between 1 and 1000000.");
        }
        if (options.SendBufferBytes is < 1024 or > 1024L * 1024 * 1024)
        {
            errors.Add("WebSockets:SendBufferBytes must be between 1024 and 1073741824.");
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
