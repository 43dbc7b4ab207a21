using System.Text.Json;

namespace ConnectorEvents.Contracts;

/// <summary>The kinds of body the contract defines.</summary>
public enum PayloadKind
{
    IntegrationWebhook,
    GeneralMessage,
    WebSocketFrame,
}

/// <summary>What <see cref="WebhookReader"/> made of a body; switch on the subtype.</summary>
public abstract record WebhookReading(ContractVersionRange Versions)
{
    public abstract PayloadKind Kind { get; }
}

/// <summary>
/// An Integration Webhook. <see cref="Data"/> is the typed data of the action, the same record whichever version sent
/// it, or <see cref="UnknownIntegrationData"/> for an action no version documents.
/// </summary>
public sealed record IntegrationWebhookReading(string Action, IntegrationWebhookData Data, ContractVersionRange Versions)
    : WebhookReading(Versions)
{
    public override PayloadKind Kind => PayloadKind.IntegrationWebhook;

    public bool IsKnownAction => Data is not UnknownIntegrationData;
}

/// <summary>
/// A General message. <see cref="Entities"/> is present only in 2021-01 bodies. Events keep the received order,
/// unknown discriminators included.
/// </summary>
public sealed record GeneralMessageReading(
    Guid EnterpriseId,
    Guid IntegrationId,
    IReadOnlyList<GeneralEventReading> Events,
    GeneralEntities? Entities,
    ContractVersionRange Versions) : WebhookReading(Versions)
{
    public override PayloadKind Kind => PayloadKind.GeneralMessage;

    /// <summary>Each discriminator once, in the order first seen.</summary>
    public IReadOnlyList<string> Discriminators => Events.Select(e => e.Discriminator).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The message with its documented events only, ready for <see cref="GeneralWebhookWriter"/>.</summary>
    public GeneralWebhookMessage ToMessage() => new(EnterpriseId, IntegrationId,
        [.. Events.Where(e => e.IsKnown).Select(e => GeneralEvent.For(e.Discriminator, e.EntityId!.Value))]);
}

/// <summary>
/// One General event. For a documented discriminator <see cref="EntityId"/> is its <c>Value.Id</c>; for any other
/// it is null and <see cref="Raw"/> (the whole event as received) is all there is.
/// </summary>
public sealed record GeneralEventReading(string Discriminator, Guid? EntityId, JsonElement Raw)
{
    public bool IsKnown => EntityId is not null && GeneralDiscriminators.IsKnown(Discriminator);
}
