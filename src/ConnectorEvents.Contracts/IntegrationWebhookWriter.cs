using System.Text.Json;

namespace ConnectorEvents.Contracts;

/// <summary>Builds the exact bytes of an Integration Webhook body.</summary>
public static class IntegrationWebhookWriter
{
    public static byte[] Created(IntegrationCreatedData data) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new IntegrationWebhook<IntegrationCreatedData>(IntegrationActions.Created, data),
            ContractsJsonContext.Default.IntegrationWebhookIntegrationCreatedData);

    /// <summary>Enabled, Disabled, Canceled or Reinstated: the data is the integration alone.</summary>
    public static byte[] StateChanged(string action, IntegrationRef integration)
    {
        if (action is not (IntegrationActions.Enabled or IntegrationActions.Disabled
            or IntegrationActions.Canceled or IntegrationActions.Reinstated))
        {
            throw new ArgumentException($"'{action}' does not carry integration-only data.", nameof(action));
        }
        return JsonSerializer.SerializeToUtf8Bytes(
            new IntegrationWebhook<IntegrationStateData>(action, new IntegrationStateData(integration)),
            ContractsJsonContext.Default.IntegrationWebhookIntegrationStateData);
    }

    public static byte[] Deleted(IntegrationDeletedData data) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new IntegrationWebhook<IntegrationDeletedData>(IntegrationActions.Deleted, data),
            ContractsJsonContext.Default.IntegrationWebhookIntegrationDeletedData);

    public static byte[] ApiKeyCreated(IntegrationApiKeyCreatedData data) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new IntegrationWebhook<IntegrationApiKeyCreatedData>(IntegrationActions.ApiKeyCreated, data),
            ContractsJsonContext.Default.IntegrationWebhookIntegrationApiKeyCreatedData);
}
