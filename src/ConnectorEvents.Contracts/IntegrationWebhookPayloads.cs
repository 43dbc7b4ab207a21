namespace ConnectorEvents.Contracts;

// Shapes of contract version 2025-08 (reference/connector-api/events-wh-integration.md).
// Property order follows the documented example, because receivers diff bodies against it.

public sealed record EnterpriseRef(Guid Id, string Name);

public sealed record ServiceRef(Guid Id, string Name);

public sealed record Requestor(string Name, string Email);

public sealed record IntegrationRef(Guid Id, string Name);

public sealed record IntegrationCreatedData(
    EnterpriseRef Enterprise,
    ServiceRef? Service,
    Requestor? Requestor,
    string AccessToken,
    DateTimeOffset CreatedUtc,
    bool IsEnabled,
    IntegrationRef Integration);

/// <summary>Data of Enabled, Disabled, Canceled and Reinstated.</summary>
public sealed record IntegrationStateData(IntegrationRef Integration);

public sealed record IntegrationDeletedData(DateTimeOffset DeletedUtc, IntegrationRef Integration);

public sealed record IntegrationApiKeyCreatedData(IntegrationRef Integration, string ApiKey);

public sealed record IntegrationWebhook<TData>(string Action, TData Data);
