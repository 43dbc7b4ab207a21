using System.Text.Json.Serialization;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Operations;
using ConnectorEvents.Core.Realtime;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Clients;

/// <summary>A partial update: a null property is left as it is.</summary>
public sealed record ClientPatch(
    string? Name, UrlChange? IntegrationWebhookUrl, UrlChange? GeneralWebhookUrl, ContractVersion? ContractVersion = null,
    SigningScheme? SigningScheme = null);

/// <summary>A new URL, or null to remove it.</summary>
public sealed record UrlChange(string? Url);

/// <summary>
/// A new client with its token and signing secret: the only time either is shown. An Ed25519 secret (<c>whsk_</c>) stays
/// with the server; its public key is what the integrator gets.
/// </summary>
public sealed record ClientWithSecret(ClientRecord Client, string ClientToken, string SigningSecret);

/// <summary>A client after a patch, and the secret it rotated to when the patch changed the signing scheme.</summary>
public sealed record ClientUpdate(ClientRecord Client, RotatedSecret? Rotated);

/// <summary>A client with the new token a regeneration issued.</summary>
public sealed record ClientWithToken(ClientRecord Client, string ClientToken);

/// <summary>
/// A new signing secret, and until when the ones before it keep signing. An HMAC secret is shown (the receiver needs it);
/// an Ed25519 secret is not, only its public key.
/// </summary>
public sealed record RotatedSecret(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SigningSecret,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SigningPublicKey,
    DateTimeOffset PreviousSecretsExpireUtc);

public sealed class ClientService(
    GroupCommitWriter writer, DeliveryDispatcher dispatcher, WebSocketHub webSockets, IOptions<SecretRotationOptions> rotation,
    TimeProvider time, ILogger<ClientService> logger, OperationalEvents? operations = null)
{
    public Task<ClientWithSecret> CreateAsync(
        string name, string? integrationWebhookUrl, string? generalWebhookUrl, ContractVersion? contractVersion = null,
        SigningScheme signingScheme = SigningScheme.Hmac) =>
        writer.ExecuteAsync(tx =>
        {
            var now = time.GetUtcNow();
            var id = Guid.NewGuid();
            var token = Tokens.For(id);
            var client = new ClientRecord(id, name, TokenDigest.Of(token), integrationWebhookUrl, generalWebhookUrl, null, null, now,
                contractVersion ?? ContractVersion.Default, SigningScheme: signingScheme);
            var secret = NewSecret(signingScheme);
            tx.InsertClient(client);
            tx.InsertSecret(SecretRecord(id, secret, now));
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

    /// <summary>Applies the patch; a new signing scheme rotates to a secret of that scheme, which the result carries.</summary>
    public Task<ClientUpdate> UpdateAsync(Guid id, ClientPatch patch) =>
        writer.ExecuteAsync(tx =>
        {
            var client = tx.FindClient(id, forUpdate: true) ?? throw DomainException.NotFound("client", id);
            var updated = client with
            {
                Name = patch.Name ?? client.Name,
                ContractVersion = patch.ContractVersion ?? client.ContractVersion,
                SigningScheme = patch.SigningScheme ?? client.SigningScheme,
            };
            // A new secret of the new kind; the ones before keep signing through the overlap, so the receiver can move.
            var rotated = updated.SigningScheme != client.SigningScheme ? Rotate(tx, id, updated.SigningScheme) : null;
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
            var integrationReenabled = client.IntegrationWebhookDisabledUtc is not null && updated.IntegrationWebhookDisabledUtc is null;
            var generalReenabled = client.GeneralWebhookDisabledUtc is not null && updated.GeneralWebhookDisabledUtc is null;
            List<PendingMessage> operational = [];
            foreach (var (reenabled, channel, url) in new[]
                     {
                         (integrationReenabled, WebhookChannel.Integration, updated.IntegrationWebhookUrl),
                         (generalReenabled, WebhookChannel.General, updated.GeneralWebhookUrl),
                     })
            {
                if (reenabled && url is not null
                    && operations?.Emit(tx, OperationalEvents.EndpointRecovered, id, channel, url, "The URL was set again.") is { } message)
                {
                    operational.Add(message);
                }
            }
            return (Update: new ClientUpdate(updated, rotated), IntegrationReenabled: integrationReenabled, GeneralReenabled: generalReenabled,
                Operational: operational);
        }, changed =>
        {
            dispatcher.Enqueue(changed.Operational);
            var client = changed.Update.Client;
            if (changed.IntegrationReenabled && client.IntegrationWebhookUrl is { } integrationUrl)
            {
                DeliveryLog.EndpointReenabled(logger, nameof(WebhookChannel.Integration), client.Id, DeliveryLog.Shown(integrationUrl));
            }
            if (changed.GeneralReenabled && client.GeneralWebhookUrl is { } generalUrl)
            {
                DeliveryLog.EndpointReenabled(logger, nameof(WebhookChannel.General), client.Id, DeliveryLog.Shown(generalUrl));
            }
            dispatcher.ClientChanged(client.Id);
        }).ContinueWith(t => t.GetAwaiter().GetResult().Update, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>
    /// The client's lanes that wait for their next retry send now, in every process (a receiver that failed is healed: no
    /// reason to wait minutes). The attempt counts and the retry schedule after this attempt are unchanged.
    /// </summary>
    public Task RetryNowAsync(Guid id) =>
        writer.ExecuteAsync(tx =>
        {
            _ = tx.FindClient(id) ?? throw DomainException.NotFound("client", id);
            tx.AnnounceRetryNow(id);
            return true;
        }, _ => dispatcher.RetryNow(id));

    /// <summary>
    /// Deletes a client whose integrations are all Deleted and whose messages are all delivered or given up, with its
    /// secrets and those integrations; emits nothing. Its messages stay listed until retention takes them.
    /// </summary>
    public Task DeleteAsync(Guid id) =>
        writer.ExecuteAsync(tx =>
        {
            if (id == OperationalEvents.ClientId)
            {
                throw new DomainException(DomainErrorKind.Conflict, "The server keeps this client for its operational webhooks.");
            }
            _ = tx.FindClient(id, forUpdate: true) ?? throw DomainException.NotFound("client", id);
            if (tx.FindRemovalHold(IntegrationOwner.Client, id).Refusal("client") is { } refusal)
            {
                throw refusal;
            }
            tx.DeleteClient(id);
            return true;
        }, _ => dispatcher.ClientChanged(id));

    /// <summary>A new signing secret of the client's scheme; the ones before it keep signing for the rotation overlap.</summary>
    public Task<RotatedSecret> RotateSecretAsync(Guid id) =>
        writer.ExecuteAsync(tx =>
        {
            var client = tx.FindClient(id, forUpdate: true) ?? throw DomainException.NotFound("client", id);
            return Rotate(tx, id, client.SigningScheme);
        }, _ => dispatcher.ClientChanged(id));

    private RotatedSecret Rotate(IWriteTransaction tx, Guid clientId, SigningScheme scheme)
    {
        var now = time.GetUtcNow();
        var expires = now + rotation.Value.SecretRotationOverlap;
        tx.ExpireSecrets(clientId, expires);
        var record = SecretRecord(clientId, NewSecret(scheme), now);
        tx.InsertSecret(record);
        return record.PublicKey is { } publicKey
            ? new RotatedSecret(null, publicKey, expires)
            : new RotatedSecret(record.Secret, null, expires);
    }

    private static SigningSecretRecord SecretRecord(Guid clientId, string secret, DateTimeOffset now) =>
        new(clientId, secret, now, null,
            secret.StartsWith(SigningKey.Ed25519SecretPrefix, StringComparison.Ordinal) ? WebhookSigner.PublicKeyOf(secret) : null);

    private static string NewSecret(SigningScheme scheme) =>
        scheme == SigningScheme.Ed25519 ? WebhookSigner.NewEd25519Secret().SecretKey : WebhookSigner.NewSecret();


}
