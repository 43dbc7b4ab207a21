using System.Text.Json;

namespace ConnectorEvents.Contracts;

// Shapes of contract version 2025-08 (reference/connector-api/events-wh-integration.md), which are also the
// version-independent typed data: writers for older versions move or drop fields, readers of older versions fill them.
// Property order follows the documented example, because receivers diff bodies against it.

public sealed record EnterpriseRef(Guid Id, string Name);

public sealed record ServiceRef(Guid Id, string Name);

public sealed record Requestor(string Name, string Email);

public sealed record IntegrationRef(Guid Id, string Name);

/// <summary>The <c>Data</c> of one Integration Webhook action; readers return the subtype that matches the action.</summary>
public abstract record IntegrationWebhookData;

/// <summary>
/// <c>Service</c> exists from 2021-01 on (null when absent or when read from an older version);
/// in 2019-05 <c>CreatedUtc</c> and <c>IsEnabled</c> travel beside <c>Action</c> but are the same facts.
/// </summary>
public sealed record IntegrationCreatedData(
    EnterpriseRef Enterprise,
    ServiceRef? Service,
    Requestor? Requestor,
    string AccessToken,
    DateTimeOffset CreatedUtc,
    bool IsEnabled,
    IntegrationRef Integration) : IntegrationWebhookData;

/// <summary>Data of Enabled, Disabled, Canceled and Reinstated.</summary>
public sealed record IntegrationStateData(IntegrationRef Integration) : IntegrationWebhookData;

public sealed record IntegrationDeletedData(DateTimeOffset DeletedUtc, IntegrationRef Integration) : IntegrationWebhookData;

public sealed record IntegrationApiKeyCreatedData(IntegrationRef Integration, string ApiKey) : IntegrationWebhookData;

/// <summary>
/// The <c>Data</c> of an action no version documents, kept as received (<see cref="JsonValueKind.Undefined"/>
/// when the body had no <c>Data</c>), so a newer sender never breaks an older reader.
/// </summary>
public sealed record UnknownIntegrationData(JsonElement Raw) : IntegrationWebhookData;

public sealed record IntegrationWebhook<TData>(string Action, TData Data);
