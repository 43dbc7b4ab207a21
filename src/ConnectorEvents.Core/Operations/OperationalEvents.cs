using System.Security.Cryptography;
using System.Text.Json;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Messages;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Operations;

/// <summary>Configuration section <c>Operations</c>: where the operator's own events go.</summary>
public sealed class OperationsOptions
{
    public const string Section = "Operations";

    /// <summary>Receives <c>EndpointDisabled</c>, <c>EndpointRecovered</c> and <c>MessageFailed</c>; unset: none are sent.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>The <c>whsec_…</c> secret those webhooks are signed with (required with the URL).</summary>
    public string? SigningSecret { get; set; }
}

public sealed class OperationsOptionsValidator : IValidateOptions<OperationsOptions>
{
    public ValidateOptionsResult Validate(string? name, OperationsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.WebhookUrl))
        {
            return ValidateOptionsResult.Success;
        }
        var errors = new List<string>();
        if (!Uri.TryCreate(options.WebhookUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            errors.Add("Operations:WebhookUrl must be an absolute http or https URL.");
        }
        if (options.SigningSecret is not { } secret || !secret.StartsWith(SigningKey.HmacPrefix, StringComparison.Ordinal) || !Parses(secret))
        {
            // Never the value: it is a secret.
            errors.Add("Operations:SigningSecret is required with Operations:WebhookUrl: a 'whsec_' secret (e.g. 'whsec_' + `openssl rand -base64 32`).");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool Parses(string secret)
    {
        try
        {
            SigningKey.Parse(secret);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>
/// The operator's events, delivered by the same engine as every webhook: an outbox message on the lane of a client and an
/// integration the server keeps for itself (<see cref="ClientId"/>, <see cref="IntegrationId"/>), written in the same
/// transaction as what it reports, signed with <c>Operations:SigningSecret</c>, retried, kept and listed like any other.
/// Nothing is reported about that client itself.
/// </summary>
public sealed class OperationalEvents(IOptions<OperationsOptions> options, TimeProvider time)
{
    public static readonly Guid EnterpriseId = new("0ce0e000-0000-4000-8000-0000000000e0");
    public static readonly Guid ClientId = new("0ce0e000-0000-4000-8000-0000000000c0");
    public static readonly Guid IntegrationId = new("0ce0e000-0000-4000-8000-0000000000a0");

    public const string EndpointDisabled = "EndpointDisabled";
    public const string EndpointRecovered = "EndpointRecovered";
    public const string MessageFailed = "MessageFailed";

    public bool Enabled => !string.IsNullOrWhiteSpace(options.Value.WebhookUrl);

    /// <summary>Makes the client, its secret, an enterprise and an integration for the events, or brings them up to the configuration.</summary>
    public void Provision(IWriteTransaction tx, IReadOnlyList<SigningSecretRecord> currentSecrets)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(currentSecrets);
        if (!Enabled)
        {
            return;
        }
        var now = time.GetUtcNow();
        var url = options.Value.WebhookUrl!;
        var secret = options.Value.SigningSecret!;
        if (tx.FindEnterprise(EnterpriseId) is null)
        {
            tx.InsertEnterprise(new EnterpriseRecord(EnterpriseId, "ConnectorEvents operations", now));
        }
        if (tx.FindClient(ClientId, forUpdate: true) is not { } client)
        {
            tx.InsertClient(new ClientRecord(ClientId, "ConnectorEvents operations", TokenDigest.Of(Unguessable()), url, null, null, null, now,
                ContractVersion.Default));
        }
        else if (client.IntegrationWebhookUrl != url || client.IntegrationWebhookDisabledUtc is not null)
        {
            tx.UpdateClient(client with { IntegrationWebhookUrl = url, IntegrationWebhookDisabledUtc = null, IntegrationWebhookDisabledReason = null });
        }
        if (!currentSecrets.Any(s => s.ExpiresUtc is null && s.Secret == secret))
        {
            tx.ExpireSecrets(ClientId, now); // a secret changed in the configuration replaces the old one at once
            tx.InsertSecret(new SigningSecretRecord(ClientId, secret, now, null));
        }
        if (tx.FindIntegration(IntegrationId) is null)
        {
            tx.InsertIntegration(new IntegrationRecord(IntegrationId, "Operations", EnterpriseId, null, ClientId, TokenDigest.Of(Unguessable()),
                IntegrationState.Enabled, false, null, now, now, null, EventSubscription.Only([]), EventSubscription.Only([])));
        }
    }

    /// <summary>Writes one event to the outbox, in the caller's transaction; null when off or when it concerns the operations client.</summary>
    public PendingMessage? Emit(IWriteTransaction tx, string type, Guid clientId, WebhookChannel channel, string url, string reason,
        string? messageId = null, Guid? integrationId = null, int? attempts = null)
    {
        ArgumentNullException.ThrowIfNull(tx);
        if (!Enabled || clientId == ClientId)
        {
            return null;
        }
        var now = time.GetUtcNow();
        var body = Body(type, now, clientId, channel, url, reason, messageId, integrationId, attempts);
        var record = new MessageRecord(0, MessageIds.New(), WebhookChannel.Integration, ClientId, IntegrationId, type, body,
            MessageStatus.Pending, null, 0, 0, null, now, null);
        var inserted = tx.InsertMessage(record);
        return new PendingMessage(inserted.Seq, record.Id, WebhookChannel.Integration, IntegrationId, ClientId, inserted.QueueSeq, 0, null, body, now)
        {
            PendingBefore = inserted.PendingBefore,
        };
    }

    /// <summary><c>{"Type":"EndpointDisabled","CreatedUtc":"…","Data":{"ClientId":"…","Channel":"Integration","Url":"https://host/path?…",…}}</c></summary>
    private static byte[] Body(string type, DateTimeOffset now, Guid clientId, WebhookChannel channel, string url, string reason,
        string? messageId, Guid? integrationId, int? attempts)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("Type", type);
            json.WriteString("CreatedUtc", Instants.ToWholeSeconds(now));
            json.WriteStartObject("Data");
            json.WriteString("ClientId", clientId);
            json.WriteString("Channel", channel.ToString());
            json.WriteString("Url", DeliveryLog.Shown(url));
            json.WriteString("Reason", reason);
            if (messageId is not null)
            {
                json.WriteString("MessageId", messageId);
            }
            if (integrationId is { } integration)
            {
                json.WriteString("IntegrationId", integration);
            }
            if (attempts is { } count)
            {
                json.WriteNumber("Attempts", count);
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static string Unguessable() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
