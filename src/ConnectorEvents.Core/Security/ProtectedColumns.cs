namespace ConnectorEvents.Core.Security;

/// <summary>
/// The stored values that are encrypted, and the associated data each is encrypted with: the column and its row, so a
/// value moved to another row or column does not decrypt. Both storage providers use these names.
/// </summary>
public static class ProtectedColumns
{
    public static string IntegrationWebhookUrl(Guid clientId) => SecretProtector.Purpose("clients.integration_webhook_url", clientId);

    public static string GeneralWebhookUrl(Guid clientId) => SecretProtector.Purpose("clients.general_webhook_url", clientId);

    /// <summary>A client's signing secrets (bound to the client: which of its secrets is which is not secret).</summary>
    public static string SigningSecret(Guid clientId) => SecretProtector.Purpose("client_secrets.secret", clientId);

    /// <summary>A message body that carries a token (<see cref="TokenBearingMessages"/>).</summary>
    public static string MessageBody(string messageId) => SecretProtector.Purpose("messages.body", messageId);

    /// <summary>The recorded answer to a management command sent with an idempotency key (it may carry a token shown once).</summary>
    public static string IdempotentResponse(string caller, string key) => SecretProtector.Purpose("idempotent_requests.response", $"{caller}/{key}");
}
