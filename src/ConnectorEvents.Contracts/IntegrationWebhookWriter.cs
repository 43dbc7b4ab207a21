using System.Text.Json;

namespace ConnectorEvents.Contracts;

/// <summary>
/// Builds the exact bytes of an Integration Webhook body. The overloads without a version write 2025-08 (the
/// default); the ones taking a <see cref="ContractVersion"/> write that version's shape and return <c>null</c> when
/// the version does not know the action, so the caller can withhold the event and say so.
/// </summary>
public static class IntegrationWebhookWriter
{
    private static ContractsJsonContext Json => ContractJson.Public;

    public static byte[] Created(IntegrationCreatedData data) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new IntegrationWebhook<IntegrationCreatedData>(IntegrationActions.Created, data),
            Json.IntegrationWebhookIntegrationCreatedData);

    /// <summary>Enabled, Disabled, Canceled or Reinstated: the data is the integration alone.</summary>
    public static byte[] StateChanged(string action, IntegrationRef integration)
    {
        EnsureStateChange(action);
        return JsonSerializer.SerializeToUtf8Bytes(
            new IntegrationWebhook<IntegrationStateData>(action, new IntegrationStateData(integration)),
            Json.IntegrationWebhookIntegrationStateData);
    }

    public static byte[] Deleted(IntegrationDeletedData data) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new IntegrationWebhook<IntegrationDeletedData>(IntegrationActions.Deleted, data),
            Json.IntegrationWebhookIntegrationDeletedData);

    public static byte[] ApiKeyCreated(IntegrationApiKeyCreatedData data) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new IntegrationWebhook<IntegrationApiKeyCreatedData>(IntegrationActions.ApiKeyCreated, data),
            Json.IntegrationWebhookIntegrationApiKeyCreatedData);

    /// <summary>
    /// The creation body in the shape of <paramref name="version"/>: 2019-05 puts <c>CreatedUtc</c> and
    /// <c>IsEnabled</c> beside <c>Action</c>; 2019-05 and 2019-12 have no <c>Service</c>, so it is left out.
    /// </summary>
    public static byte[] Created(ContractVersion version, IntegrationCreatedData data)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(data);
        if (version == ContractVersion.May2019)
        {
            return JsonSerializer.SerializeToUtf8Bytes(
                new May2019CreatedWebhook(IntegrationActions.Created, data.CreatedUtc, data.IsEnabled,
                    new May2019CreatedData(data.AccessToken, data.Enterprise, data.Requestor, data.Integration)),
                ContractJson.Wire.May2019CreatedWebhook);
        }
        if (version == ContractVersion.December2019)
        {
            return JsonSerializer.SerializeToUtf8Bytes(
                new IntegrationWebhook<December2019CreatedData>(IntegrationActions.Created,
                    new December2019CreatedData(data.Enterprise, data.Requestor, data.AccessToken, data.CreatedUtc,
                        data.IsEnabled, data.Integration)),
                ContractJson.Wire.IntegrationWebhookDecember2019CreatedData);
        }
        return Created(data);
    }

    /// <summary>
    /// Enabled, Disabled, Canceled or Reinstated in <paramref name="version"/>; <c>null</c> when the version does not
    /// know the action (2019-05 documents only Enabled and Disabled). The body is the same in every version.
    /// </summary>
    public static byte[]? StateChanged(ContractVersion version, string action, IntegrationRef integration)
    {
        ArgumentNullException.ThrowIfNull(version);
        EnsureStateChange(action);
        return version.KnowsIntegrationAction(action) ? StateChanged(action, integration) : null;
    }

    /// <summary>The deletion body, the same from 2019-12 on; <c>null</c> for 2019-05, which does not document it.</summary>
    public static byte[]? Deleted(ContractVersion version, IntegrationDeletedData data)
    {
        ArgumentNullException.ThrowIfNull(version);
        return version.KnowsIntegrationAction(IntegrationActions.Deleted) ? Deleted(data) : null;
    }

    /// <summary>The API-key body; <c>null</c> before 2025-08, which introduced the action.</summary>
    public static byte[]? ApiKeyCreated(ContractVersion version, IntegrationApiKeyCreatedData data)
    {
        ArgumentNullException.ThrowIfNull(version);
        return version.KnowsIntegrationAction(IntegrationActions.ApiKeyCreated) ? ApiKeyCreated(data) : null;
    }

    /// <summary>
    /// Any action with its data, e.g. to relay what <see cref="WebhookReader"/> read. <c>null</c> when the version
    /// does not know the action, including actions no version documents (their data cannot be shaped).
    /// </summary>
    /// <exception cref="ArgumentException">The data is not the kind the documented action carries.</exception>
    public static byte[]? Write(ContractVersion version, string action, IntegrationWebhookData data)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(data);
        if (!IntegrationActions.All.Contains(action, StringComparer.Ordinal))
        {
            return null;
        }
        return (action, data) switch
        {
            (IntegrationActions.Created, IntegrationCreatedData created) =>
                version.KnowsIntegrationAction(action) ? Created(version, created) : null,
            (IntegrationActions.Deleted, IntegrationDeletedData deleted) => Deleted(version, deleted),
            (IntegrationActions.ApiKeyCreated, IntegrationApiKeyCreatedData apiKey) => ApiKeyCreated(version, apiKey),
            (_, IntegrationStateData state) when IsStateChange(action) => StateChanged(version, action, state.Integration),
            _ => throw new ArgumentException(
                $"'{action}' does not carry {data.GetType().Name}; see the Webhook action list of the contract.", nameof(data)),
        };
    }

    private static bool IsStateChange(string action) =>
        action is IntegrationActions.Enabled or IntegrationActions.Disabled
            or IntegrationActions.Canceled or IntegrationActions.Reinstated;

    private static void EnsureStateChange(string action)
    {
        if (!IsStateChange(action))
        {
            throw new ArgumentException($"'{action}' does not carry integration-only data.", nameof(action));
        }
    }
}
