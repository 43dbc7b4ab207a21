using Microsoft.Extensions.Logging;

namespace ConnectorEvents.Receiver;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Webhook refused ({Status}): {Reason}")]
    public static partial void Refused(ILogger logger, int status, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Webhook {WebhookId} was already processed; acknowledged without running handlers")]
    public static partial void Duplicate(ILogger logger, string webhookId);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "A handler of webhook {WebhookId} ({Names}) failed; answered 500 so the sender retries")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string webhookId, string names);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Webhook {WebhookId}: no handler for {Name}; acknowledged")]
    public static partial void NoHandler(ILogger logger, string webhookId, string name);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "The webhook queue is full ({Capacity}); answered 503 with Retry-After")]
    public static partial void QueueFull(ILogger logger, int capacity);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "Queued webhook {WebhookId} failed (attempt {Attempt} of {Attempts})")]
    public static partial void QueuedHandlerFailed(ILogger logger, Exception exception, string webhookId, int attempt, int attempts);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "The contract reader failed unexpectedly on a body; answered 400")]
    public static partial void ReaderFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Webhook {WebhookId} is already being processed; answered 409 so the sender retries")]
    public static partial void InFlight(ILogger logger, string webhookId);
}
