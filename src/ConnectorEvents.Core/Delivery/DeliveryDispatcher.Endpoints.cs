using System.Globalization;
using ConnectorEvents.Core.Operations;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Delivery;

/// <summary>Endpoints: disabled by a 410, or by <see cref="DeliveryOptions.DisableEndpointAfter"/> of nothing but failures.</summary>
public sealed partial class DeliveryDispatcher
{
    /// <summary>An endpoint that failed every attempt for <see cref="DeliveryOptions.DisableEndpointAfter"/> is disabled.</summary>
    private void NoteEndpointOutcome(Guid clientId, WebhookChannel channel, ClientTarget target, bool succeeded, DateTimeOffset now)
    {
        if (succeeded)
        {
            if (_failingSince.Count > 0) // nearly always empty: no hashing per delivery
            {
                _failingSince.Remove((clientId, channel));
            }
            return;
        }
        if (!_failingSince.TryGetValue((clientId, channel), out var since))
        {
            _failingSince[(clientId, channel)] = now;
            return;
        }
        var limit = _options.DisableEndpointAfter;
        if (limit > TimeSpan.Zero && now - since >= limit)
        {
            DisableEndpoint(clientId, channel, target, now, string.Create(CultureInfo.InvariantCulture,
                $"Every attempt failed for {Instants.Describe(now - since)} (since {since:yyyy-MM-ddTHH:mm:ssZ}; Delivery:DisableEndpointAfter is {Instants.Describe(limit)})."));
        }
    }

    private static string ChannelUrl(WebhookChannel channel) =>
        channel == WebhookChannel.General ? "General-Webhook URL" : "Integration-Webhook URL";

    private void DisableEndpoint(Guid clientId, WebhookChannel channel, ClientTarget target, DateTimeOffset now, string reason)
    {
        _failingSince.Remove((clientId, channel));
        // Only while the cache still holds the URL that answered 410: a URL set meanwhile is not disabled by the old one.
        if (_clients.TryGetValue((clientId, channel), out var cached) && cached.Url == target.Url)
        {
            _clients[(clientId, channel)] = cached with { Disabled = true };
        }
        var url = target.Url!;
        PendingMessage? operational = null;
        _writer.Post(tx =>
        {
            operational = null;
            if (tx.FindClient(clientId, forUpdate: true) is not { } client)
            {
                return;
            }
            if (channel == WebhookChannel.Integration && client.IntegrationWebhookUrl == url)
            {
                tx.UpdateClient(client with { IntegrationWebhookDisabledUtc = now, IntegrationWebhookDisabledReason = reason });
            }
            else if (channel == WebhookChannel.General && client.GeneralWebhookUrl == url)
            {
                tx.UpdateClient(client with { GeneralWebhookDisabledUtc = now, GeneralWebhookDisabledReason = reason });
            }
            else
            {
                return;
            }
            operational = _operations?.Emit(tx, OperationalEvents.EndpointDisabled, clientId, channel, url, reason);
        }, () =>
        {
            if (operational is { } message)
            {
                _inbox.Writer.TryWrite(new Committed([message]));
            }
        });
        DeliveryLog.EndpointDisabled(_logger, channel.ToString(), clientId, reason, DeliveryLog.Shown(url));
    }
}
