using System.Text.Json;
using ConnectorEvents.Contracts;

namespace ConnectorEvents.Receiver;

/// <summary>What a handler gets: the typed data and the facts of the delivery that carried it.</summary>
public sealed class ConnectorWebhook<TData>
{
    internal ConnectorWebhook(WebhookDelivery delivery, string name, TData data)
    {
        WebhookId = delivery.WebhookId;
        Timestamp = delivery.Timestamp;
        Versions = delivery.Reading.Versions;
        Services = delivery.Services;
        Name = name;
        Data = data;
    }

    /// <summary>The <c>webhook-id</c> header: the same for every retry of one message; empty when the request had none.</summary>
    public string WebhookId { get; }

    /// <summary>The <c>webhook-timestamp</c> header, when the request had one.</summary>
    public DateTimeOffset? Timestamp { get; }

    /// <summary>The contract versions the body can have come from (many bodies look alike in several versions).</summary>
    public ContractVersionRange Versions { get; }

    /// <summary>The Integration action or General discriminator, as sent.</summary>
    public string Name { get; }

    /// <summary>The typed data, the same whichever contract version sent it.</summary>
    public TData Data { get; }

    /// <summary>Services scoped to this delivery.</summary>
    public IServiceProvider Services { get; }
}

/// <summary>One General event: the entity it names and the message it came in.</summary>
public sealed class GeneralEventData
{
    internal GeneralEventData(GeneralMessageReading message, string discriminator, Guid entityId)
    {
        Message = message;
        Discriminator = discriminator;
        EntityId = entityId;
    }

    public Guid EnterpriseId => Message.EnterpriseId;

    public Guid IntegrationId => Message.IntegrationId;

    public string Discriminator { get; }

    /// <summary>The <c>Value.Id</c> of the event: fetch the entity through the API.</summary>
    public Guid EntityId { get; }

    /// <summary>The whole message (with <c>Entities</c> when a 2021-01 sender included them).</summary>
    public GeneralMessageReading Message { get; }
}

/// <summary>An Integration action or General event no contract version documents, kept as received.</summary>
public sealed class UnknownWebhookData
{
    internal UnknownWebhookData(PayloadKind kind, string name, JsonElement raw)
    {
        Kind = kind;
        Name = name;
        Raw = raw;
    }

    public PayloadKind Kind { get; }

    /// <summary>The unknown action or discriminator.</summary>
    public string Name { get; }

    /// <summary>The Integration Webhook's <c>Data</c>, or the whole General event.</summary>
    public JsonElement Raw { get; }
}

/// <summary>A verified, read webhook on its way to the handlers.</summary>
internal sealed record WebhookDelivery(string WebhookId, DateTimeOffset? Timestamp, WebhookReading Reading, IServiceProvider Services);
