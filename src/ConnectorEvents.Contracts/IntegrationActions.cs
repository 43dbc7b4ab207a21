namespace ConnectorEvents.Contracts;

/// <summary>The <c>Action</c> values of an Integration Webhook, as the contract spells them.</summary>
public static class IntegrationActions
{
    public const string Created = "IntegrationCreated";
    public const string Enabled = "IntegrationEnabled";
    public const string Disabled = "IntegrationDisabled";
    public const string Canceled = "IntegrationCanceled";
    public const string Reinstated = "IntegrationReinstated";
    public const string Deleted = "IntegrationDeleted";
    public const string ApiKeyCreated = "IntegrationApiKeyCreated";

    public static IReadOnlyList<string> All { get; } =
        [Created, Enabled, Disabled, Canceled, Reinstated, Deleted, ApiKeyCreated];
}
