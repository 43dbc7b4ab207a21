using System.Text.Json;

namespace ConnectorEvents.Contracts;

// Shapes that exist only on the wire. The public records are version-independent; these fix the property
// order and placement of one version (writing) or accept every version leniently before validation (reading).

/// <summary>2019-12 (seed 004): the 2025-08 created data without <c>Service</c>.</summary>
internal sealed record December2019CreatedData(
    EnterpriseRef Enterprise,
    Requestor? Requestor,
    string AccessToken,
    DateTimeOffset CreatedUtc,
    bool IsEnabled,
    IntegrationRef Integration);

/// <summary>2019-05 (seed 001): <c>CreatedUtc</c> and <c>IsEnabled</c> beside <c>Action</c>.</summary>
internal sealed record May2019CreatedWebhook(string Action, DateTimeOffset CreatedUtc, bool IsEnabled, May2019CreatedData Data);

/// <summary>2019-05 (seed 001): the access token first, then enterprise, requestor, integration.</summary>
internal sealed record May2019CreatedData(
    string AccessToken,
    EnterpriseRef Enterprise,
    Requestor? Requestor,
    IntegrationRef Integration);

/// <summary>2021-01 (seed 003): the General message followed by the <c>Entities</c> block.</summary>
internal sealed record January2021GeneralMessage(
    Guid EnterpriseId,
    Guid IntegrationId,
    IReadOnlyList<GeneralEvent> Events,
    GeneralEntities Entities);

/// <summary>The top level of either webhook kind, every part optional so the reader can say what is missing.</summary>
internal sealed class WebhookBodyWire
{
    public string? Action { get; set; }
    public JsonElement? Data { get; set; }

    // 2019-05 only.
    public DateTimeOffset? CreatedUtc { get; set; }

    // 2019-05 only; seed 001's table types it as string while its example sends a boolean, so both are read.
    public JsonElement? IsEnabled { get; set; }

    public Guid? EnterpriseId { get; set; }
    public Guid? IntegrationId { get; set; }
    public List<JsonElement>? Events { get; set; }
    public GeneralEntities? Entities { get; set; }
}

/// <summary>The union of every Integration Webhook <c>Data</c> field in every version.</summary>
internal sealed class IntegrationDataWire
{
    public EnterpriseRef? Enterprise { get; set; }
    public ServiceRef? Service { get; set; }
    public Requestor? Requestor { get; set; }
    public string? AccessToken { get; set; }
    public DateTimeOffset? CreatedUtc { get; set; }
    public bool? IsEnabled { get; set; }
    public IntegrationRef? Integration { get; set; }
    public DateTimeOffset? DeletedUtc { get; set; }
    public string? ApiKey { get; set; }
}

internal sealed class GeneralEventWire
{
    public string? Discriminator { get; set; }
    public JsonElement? Value { get; set; }
}

internal sealed class EntityIdWire
{
    public Guid? Id { get; set; }
}

internal sealed class WebSocketFrameWire
{
    public List<JsonElement>? Events { get; set; }
}

internal sealed class WebSocketEventTypeWire
{
    public string? Type { get; set; }
}
