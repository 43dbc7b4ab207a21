using System.Text.Encodings.Web;
using System.Text.Json;

namespace ConnectorEvents.Contracts;

/// <summary>Builds the exact bytes of an Integration Webhook body.</summary>
public static class IntegrationWebhookWriter
{
    // Bodies are JSON for machines, never embedded in HTML: "Hotel & Spa" and "Zürich" stay as written
    // instead of becoming \u0026 and \u00FC. Quotes, backslashes and control characters are still escaped.
    private static readonly ContractsJsonContext Context = new(new JsonSerializerOptions(ContractsJsonContext.Default.Options)
    {
        TypeInfoResolver = null,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static byte[] Created(IntegrationCreatedData data) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new IntegrationWebhook<IntegrationCreatedData>(IntegrationActions.Created, data),
            Context.IntegrationWebhookIntegrationCreatedData);

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
            Context.IntegrationWebhookIntegrationStateData);
    }

    public static byte[] Deleted(IntegrationDeletedData data) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new IntegrationWebhook<IntegrationDeletedData>(IntegrationActions.Deleted, data),
            Context.IntegrationWebhookIntegrationDeletedData);

    public static byte[] ApiKeyCreated(IntegrationApiKeyCreatedData data) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new IntegrationWebhook<IntegrationApiKeyCreatedData>(IntegrationActions.ApiKeyCreated, data),
            Context.IntegrationWebhookIntegrationApiKeyCreatedData);
}
