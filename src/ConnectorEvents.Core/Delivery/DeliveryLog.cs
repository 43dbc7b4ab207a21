using Microsoft.Extensions.Logging;

namespace ConnectorEvents.Core.Delivery;

/// <summary>
/// The delivery log lines operators alert on, each one structured line (event ids 2200–2299, never renumbered). URLs are
/// written without userinfo or query (the <c>?Token=</c> stays out), and no body, secret or token is ever written.
/// </summary>
public static partial class DeliveryLog
{
    public const int AttemptFailedId = 2201;
    public const int MessageFailedId = 2202;
    public const int EndpointDisabledId = 2203;
    public const int EndpointReenabledId = 2204;

    [LoggerMessage(EventId = AttemptFailedId, Level = LogLevel.Warning,
        Message = "Delivery attempt {Attempt} of message {MessageId} failed ({Outcome}, status {StatusCode}, {Error}); next attempt at {NextAttemptUtc:yyyy-MM-ddTHH:mm:ss.fffZ} (client {ClientId}, channel {Channel}, integration {IntegrationId}, URL {Url})")]
    public static partial void AttemptFailed(ILogger logger, string messageId, int attempt, string outcome, int? statusCode, string? error,
        DateTimeOffset nextAttemptUtc, Guid clientId, string channel, Guid integrationId, string url);

    [LoggerMessage(EventId = MessageFailedId, Level = LogLevel.Error,
        Message = "Message {MessageId} failed for good after attempt {Attempt} ({Outcome}, status {StatusCode}, {Error}): {Reason} (client {ClientId}, channel {Channel}, integration {IntegrationId}, URL {Url})")]
    public static partial void MessageFailed(ILogger logger, string messageId, int attempt, string outcome, int? statusCode, string? error,
        string reason, Guid clientId, string channel, Guid integrationId, string url);

    [LoggerMessage(EventId = EndpointDisabledId, Level = LogLevel.Warning,
        Message = "The {Channel} endpoint of client {ClientId} is disabled: {Reason} Its messages wait until the URL is set again (URL {Url})")]
    public static partial void EndpointDisabled(ILogger logger, string channel, Guid clientId, string reason, string url);

    [LoggerMessage(EventId = EndpointReenabledId, Level = LogLevel.Warning,
        Message = "The {Channel} endpoint of client {ClientId} is enabled again; its waiting messages go out (URL {Url})")]
    public static partial void EndpointReenabled(ILogger logger, string channel, Guid clientId, string url);

    /// <summary>A URL as logs show it: scheme, host, port and path.</summary>
    public static string Shown(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? WebhookSender.Redact(uri) : "(not a URL)";
}
