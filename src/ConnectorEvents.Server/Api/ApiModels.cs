using System.Text.Json;
using System.Text.Json.Serialization;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Clients;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Ingest;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Messages;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Server.Api;

// Request bodies: every property nullable, so that a missing one is reported by name rather than as a type error.

public sealed record CreateEnterpriseRequest(string? Name, Guid? Id);

public sealed record CreateServiceRequest(string? Name, Guid? Id);

public sealed record CreateClientRequest(
    string? Name, string? IntegrationWebhookUrl, string? GeneralWebhookUrl, string? ContractVersion, string? SigningScheme = null);

/// <summary><c>PATCH /api/v1/clients/{id}</c>, for OpenAPI (the handler reads the body field by field): only the fields present change.</summary>
public sealed record UpdateClientRequest(
    string? Name, string? IntegrationWebhookUrl, string? GeneralWebhookUrl, string? ContractVersion, string? SigningScheme);

public sealed record RequestorInput(string? Name, string? Email);

public sealed record CreateIntegrationRequest(
    Guid? EnterpriseId, Guid? ClientId, Guid? ServiceId, string? Name, bool? IsEnabled, RequestorInput? Requestor);

// Responses.

public sealed record EnterpriseResponse(Guid Id, string Name)
{
    public static EnterpriseResponse From(EnterpriseRecord e) => new(e.Id, e.Name);
}

public sealed record EnterpriseList(IReadOnlyList<EnterpriseResponse> Enterprises, string? Cursor);

public sealed record ServiceResponse(Guid Id, string Name, Guid EnterpriseId)
{
    public static ServiceResponse From(ServiceRecord s) => new(s.Id, s.Name, s.EnterpriseId);
}

public sealed record ServiceList(IReadOnlyList<ServiceResponse> Services);

/// <summary>
/// A client. <c>ClientToken</c> and an HMAC <c>SigningSecret</c> are present only in the answer that issued them; the public
/// keys of its Ed25519 secrets that still sign (<c>SigningPublicKeys</c>, newest first) are always shown.
/// </summary>
public sealed record ClientResponse(
    Guid Id,
    string Name,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClientToken,
    string ClientTokenPrefix,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SigningSecret,
    string? IntegrationWebhookUrl,
    string? GeneralWebhookUrl,
    bool IntegrationWebhookEnabled,
    DateTimeOffset? IntegrationWebhookDisabledUtc,
    string? IntegrationWebhookDisabledReason,
    bool GeneralWebhookEnabled,
    DateTimeOffset? GeneralWebhookDisabledUtc,
    string? GeneralWebhookDisabledReason,
    string ContractVersion,
    DateTimeOffset CreatedUtc,
    SigningScheme SigningScheme,
    IReadOnlyList<string> SigningPublicKeys)
{
    public static ClientResponse From(
        ClientRecord c, IReadOnlyList<PublicSigningKey> publicKeys, string? clientToken = null, string? signingSecret = null) => new(
        c.Id, c.Name, clientToken, c.ClientToken.Prefix, signingSecret, c.IntegrationWebhookUrl, c.GeneralWebhookUrl,
        c.IntegrationWebhookDisabledUtc is null, c.IntegrationWebhookDisabledUtc, c.IntegrationWebhookDisabledReason,
        c.GeneralWebhookDisabledUtc is null, c.GeneralWebhookDisabledUtc, c.GeneralWebhookDisabledReason,
        c.ContractVersion.Text, c.CreatedUtc, c.SigningScheme, publicKeys.Select(k => k.PublicKey).ToList());
}

public sealed record ClientList(IReadOnlyList<ClientResponse> Clients, string? Cursor);

/// <summary>An integration. <c>AccessToken</c> is present only in the answer that issued it (create, regenerate).</summary>
public sealed record IntegrationResponse(
    Guid Id,
    string Name,
    IntegrationState State,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AccessToken,
    string AccessTokenPrefix,
    Guid EnterpriseId,
    Guid ClientId,
    Guid? ServiceId,
    Requestor? Requestor,
    DateTimeOffset CreatedUtc,
    DateTimeOffset UpdatedUtc,
    DateTimeOffset? DeletedUtc,
    IReadOnlyList<string> GeneralEvents,
    IReadOnlyList<string> WebSocketEvents)
{
    public static IntegrationResponse From(IntegrationRecord i) => From(i, null);

    public static IntegrationResponse From(IntegrationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return From(result.Integration, result.IssuedAccessToken);
    }

    private static IntegrationResponse From(IntegrationRecord i, string? accessToken) => new(
        i.Id, i.Name, i.State, accessToken, i.AccessToken.Prefix, i.EnterpriseId, i.ClientId, i.ServiceId, i.Requestor, i.CreatedUtc, i.UpdatedUtc,
        i.DeletedUtc, i.GeneralEvents.Names ?? GeneralDiscriminators.All, i.WebSocketEvents.Names ?? WebSocketEventTypes.All);
}

/// <summary>
/// <c>PATCH /api/v1/integrations/{id}</c>: a list sets exactly those (an empty one: none), null restores all,
/// an absent field is left as it is.
/// </summary>
public sealed record SubscriptionRequest(IReadOnlyList<string>? GeneralEvents, IReadOnlyList<string>? WebSocketEvents);

public sealed record IntegrationList(IReadOnlyList<IntegrationResponse> Integrations, string? Cursor);

public sealed record MessageSummary(
    string Id,
    WebhookChannel Channel,
    string EventType,
    Guid ClientId,
    Guid IntegrationId,
    MessageStatus Status,
    string? StatusReason,
    int AttemptCount,
    DateTimeOffset? NextAttemptUtc,
    DateTimeOffset CreatedUtc,
    DateTimeOffset? CompletedUtc)
{
    public static MessageSummary From(MessageRecord m) => new(
        m.Id, m.Channel, m.EventType, m.ClientId, m.IntegrationId, m.Status, m.StatusReason, m.AttemptCount, m.NextAttemptUtc,
        m.CreatedUtc, m.CompletedUtc);
}

public sealed record MessageList(IReadOnlyList<MessageSummary> Messages, string? Cursor);

/// <summary>A message with its body as sent (an access token in it masked to its prefix) and every attempt.</summary>
public sealed record MessageDetail(MessageSummary Message, JsonElement Body, IReadOnlyList<AttemptRecord> Attempts);

public sealed record HealthResponse(string Status);

/// <summary>Which Failed messages to send again: created from <c>Since</c> to before <c>Until</c> (default now), of one channel or both.</summary>
public sealed record RecoverRequest(DateTimeOffset? Since, DateTimeOffset? Until, string? Channel);

/// <summary>A client's endpoints and how their deliveries fare.</summary>
public sealed record ClientHealthResponse(Guid ClientId, IReadOnlyList<ChannelHealth> Channels);

public sealed record CreateApiKeyRequest(string? Name, string? Role, IReadOnlyList<Guid>? EnterpriseIds);

/// <summary>An API key. <c>Key</c> is present only in the answer to its creation.</summary>
public sealed record ApiKeyResponse(
    Guid Id,
    string Name,
    ApiKeyRole Role,
    IReadOnlyList<Guid>? EnterpriseIds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Key,
    string KeyPrefix,
    DateTimeOffset CreatedUtc,
    DateTimeOffset? LastUsedUtc)
{
    public static ApiKeyResponse From(ApiKeyRecord k, string? key = null) =>
        new(k.Id, k.Name, k.Role, k.EnterpriseIds, key, k.Key.Prefix, k.CreatedUtc, k.LastUsedUtc);
}

public sealed record ApiKeyList(IReadOnlyList<ApiKeyResponse> ApiKeys);

public sealed record SigningPublicKeyList(Guid ClientId, IReadOnlyList<PublicSigningKey> Keys);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.Unspecified,
    PropertyNameCaseInsensitive = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    // Bodies are checked for repeated fields when read (RequestReading.FindRepeatedField); this holds for any other reader.
    AllowDuplicateProperties = false,
    UseStringEnumConverter = true,
    Converters = [typeof(UtcSecondsConverter)])]
[JsonSerializable(typeof(ClusterStatus))]
[JsonSerializable(typeof(CreateEnterpriseRequest))]
[JsonSerializable(typeof(CreateServiceRequest))]
[JsonSerializable(typeof(CreateClientRequest))]
[JsonSerializable(typeof(CreateIntegrationRequest))]
[JsonSerializable(typeof(EnterpriseResponse))]
[JsonSerializable(typeof(EnterpriseList))]
[JsonSerializable(typeof(ServiceResponse))]
[JsonSerializable(typeof(ServiceList))]
[JsonSerializable(typeof(ClientResponse))]
[JsonSerializable(typeof(ClientList))]
[JsonSerializable(typeof(RotatedSecret))]
[JsonSerializable(typeof(IntegrationResponse))]
[JsonSerializable(typeof(IntegrationList))]
[JsonSerializable(typeof(MessageList))]
[JsonSerializable(typeof(MessageDetail))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ClientHealthResponse))]
[JsonSerializable(typeof(RecoverRequest))]
[JsonSerializable(typeof(RecoveryReceipt))]
[JsonSerializable(typeof(IngestRequest))]
[JsonSerializable(typeof(IngestReceipt))]
[JsonSerializable(typeof(SubscriptionRequest))]
[JsonSerializable(typeof(CreateApiKeyRequest))]
[JsonSerializable(typeof(ApiKeyResponse))]
[JsonSerializable(typeof(ApiKeyList))]
[JsonSerializable(typeof(SigningPublicKeyList))]
[JsonSerializable(typeof(Hosting.StorageDetail))]
[JsonSerializable(typeof(Hosting.WriterDetail))]
[JsonSerializable(typeof(Hosting.DispatcherDetail))]
[JsonSerializable(typeof(Hosting.LeaseDetail))]
[JsonSerializable(typeof(Hosting.DiskDetail))]
[JsonSerializable(typeof(RecordedAnswer))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
