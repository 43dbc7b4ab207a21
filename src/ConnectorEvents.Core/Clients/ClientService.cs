using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Realtime;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Clients;

/// <summary>Configuration section <c>Security</c> (the parts Core uses).</summary>
public sealed class SecretRotationOptions
{
    /// <summary>How long a replaced signing secret keeps signing beside the new one.</summary>
    public TimeSpan SecretRotationOverlap { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>A partial update: a null property is left as it is.</summary>
public sealed record ClientPatch(
    string? Name, UrlChange? IntegrationWebhookUrl, UrlChange? GeneralWebhookUrl, ContractVersion? ContractVersion = null);

/// <summary>A new URL, or null to remove it.</summary>
public sealed record UrlChange(string? Url);

/// <summary>A new client with its token and signing secret: the only time either is shown.</summary>
public sealed record ClientWithSecret(ClientRecord Client, string ClientToken, string SigningSecret);

/// <summary>A client with the new token a regeneration issued.</summary>
public sealed record ClientWithToken(ClientRecord Client, string ClientToken);

/// <summary>A new signing secret, and until when the ones before it keep signing.</summary>
public sealed record RotatedSecret(string SigningSecret, DateTimeOffset PreviousSecretsExpireUtc);

public sealed class ClientService(
    GroupCommitWriter writer, DeliveryDispatcher dispatcher, WebSocketHub webSockets, IOptions<SecretRotationOptions> rotation,
    TimeProvider time)
{
    public Task<ClientWithSecret> CreateAsync(
        string name, string? integrationWebhookUrl, string? generalWebhookUrl, ContractVersion? contractVersion = null) =>
        writer.ExecuteAsync(tx =>
        {
            var now = time.GetUtcNow();
            var id = Guid.NewGuid();
            var token = Tokens.For(id);
            var client = new ClientRecord(id, name, TokenDigest.Of(token), integrationWebhookUrl, generalWebhookUrl, null, null, now,
                contractVersion ?? ContractVersion.Default);
            var secret = WebhookSigner.NewSecret();
            tx.InsertClient(client);
            tx.InsertSecret(new SigningSecretRecord(id, secret, now, null));
            return new ClientWithSecret(client, token, secret);
        });

    /// <summary>A new client token; the one before stops opening WebSockets at once.</summary>
    public Task<ClientWithToken> RegenerateTokenAsync(Guid id) =>
        writer.ExecuteAsync(tx =>
        {
            var client = tx.FindClient(id, forUpdate: true) ?? throw DomainException.NotFound("client", id);
            var token = Tokens.For(id);
            var updated = client with { ClientToken = TokenDigest.Of(token) };
            tx.UpdateClient(updated);
            return new ClientWithToken(updated, token);
        }, regenerated => webSockets.ClientChanged(regenerated.Client));

    public Task<ClientRecord> UpdateAsync(Guid id, ClientPatch patch) =>
        writer.ExecuteAsync(tx =>
        {
            var client = tx.FindClient(id, forUpdate: true) ?? throw DomainException.NotFound("client", id);
            var updated = client with
            {
                Name = patch.Name ?? client.Name,
                ContractVersion = patch.ContractVersion ?? client.ContractVersion,
            };
            if (patch.IntegrationWebhookUrl is { } integrationUrl)
            {
                // Setting the URL, even to the same value, re-enables it after a 410.
                updated = updated with
                {
                    IntegrationWebhookUrl = integrationUrl.Url,
                    IntegrationWebhookDisabledUtc = null,
                    IntegrationWebhookDisabledReason = null,
                };
            }
            if (patch.GeneralWebhookUrl is { } generalUrl)
            {
                updated = updated with
                {
                    GeneralWebhookUrl = generalUrl.Url,
                    GeneralWebhookDisabledUtc = null,
                    GeneralWebhookDisabledReason = null,
                };
            }
            tx.UpdateClient(updated);
            return updated;
        }, updated => dispatcher.ClientChanged(updated.Id));

    /// <summary>A new signing secret; the ones before it keep signing for the rotation overlap.</summary>
    public Task<RotatedSecret> RotateSecretAsync(Guid id) =>
        writer.ExecuteAsync(tx =>
        {
            _ = tx.FindClient(id, forUpdate: true) ?? throw DomainException.NotFound("client", id);
            var now = time.GetUtcNow();
            var expires = now + rotation.Value.SecretRotationOverlap;
            tx.ExpireSecrets(id, expires);
            var secret = WebhookSigner.NewSecret();
            tx.InsertSecret(new SigningSecretRecord(id, secret, now, null));
            return new RotatedSecret(secret, expires);
        }, _ => dispatcher.ClientChanged(id));
}
