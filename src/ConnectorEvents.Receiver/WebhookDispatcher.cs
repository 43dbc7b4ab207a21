using ConnectorEvents.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Receiver;

/// <summary>Calls the registered handlers of a read webhook, in body order; the first failure propagates.</summary>
internal sealed class WebhookDispatcher(IOptions<ConnectorWebhookOptions> options, ILogger<WebhookDispatcher> logger)
{
    private readonly Dictionary<string, List<WebhookHandler>> _handlers = options.Value.Handlers;

    public async Task DispatchAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        switch (delivery.Reading)
        {
            case IntegrationWebhookReading integration when integration.Data is UnknownIntegrationData unknown:
                await RunAsync(ConnectorWebhookOptions.UnknownKey, delivery, integration.Action,
                    new UnknownWebhookData(PayloadKind.IntegrationWebhook, integration.Action, unknown.Raw), cancellationToken).ConfigureAwait(false);
                break;
            case IntegrationWebhookReading integration:
                await RunAsync(ConnectorWebhookOptions.IntegrationKeyPrefix + integration.Action, delivery, integration.Action,
                    integration.Data, cancellationToken).ConfigureAwait(false);
                break;
            case GeneralMessageReading message:
                if (_handlers.ContainsKey(ConnectorWebhookOptions.MessageKey))
                {
                    await RunAsync(ConnectorWebhookOptions.MessageKey, delivery, "GeneralMessage", message, cancellationToken).ConfigureAwait(false);
                }
                foreach (var item in message.Events)
                {
                    if (item is { IsKnown: true, EntityId: { } entityId })
                    {
                        await RunAsync(ConnectorWebhookOptions.GeneralKeyPrefix + item.Discriminator, delivery, item.Discriminator,
                            new GeneralEventData(message, item.Discriminator, entityId), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await RunAsync(ConnectorWebhookOptions.UnknownKey, delivery, item.Discriminator,
                            new UnknownWebhookData(PayloadKind.GeneralMessage, item.Discriminator, item.Raw), cancellationToken).ConfigureAwait(false);
                    }
                }
                break;
            default:
                Log.NoHandler(logger, delivery.WebhookId, "a body of another kind");
                break;
        }
    }

    private async Task RunAsync(string key, WebhookDelivery delivery, string name, object data, CancellationToken cancellationToken)
    {
        if (!_handlers.TryGetValue(key, out var handlers))
        {
            Log.NoHandler(logger, delivery.WebhookId, name);
            return;
        }
        foreach (var handler in handlers)
        {
            await handler(delivery, name, data, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>What the body holds, for log lines (never data values).</summary>
    public static string Describe(WebhookReading reading) => reading switch
    {
        IntegrationWebhookReading integration => integration.Action,
        GeneralMessageReading message => string.Join(",", message.Discriminators),
        _ => reading.Kind.ToString(),
    };
}
