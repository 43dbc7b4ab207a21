using System.Diagnostics;
using System.Text.Json.Serialization;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Security;

namespace ConnectorEvents.Core.Storage;

public sealed record EnterpriseRecord(Guid Id, string Name, DateTimeOffset CreatedUtc);

public sealed record ServiceRecord(Guid Id, Guid EnterpriseId, string Name, DateTimeOffset CreatedUtc);

/// <summary>An integration client. Its token is kept only as a digest; its URLs and secrets are encrypted at rest by the store.</summary>
public sealed record ClientRecord(
    Guid Id,
    string Name,
    TokenDigest ClientToken,
    string? IntegrationWebhookUrl,
    string? GeneralWebhookUrl,
    DateTimeOffset? IntegrationWebhookDisabledUtc,
    string? IntegrationWebhookDisabledReason,
    DateTimeOffset CreatedUtc,
    ContractVersion ContractVersion,
    DateTimeOffset? GeneralWebhookDisabledUtc = null,
    string? GeneralWebhookDisabledReason = null,
    SigningScheme SigningScheme = SigningScheme.Hmac);

/// <summary>
/// A signing secret; an expiry is set when a newer secret replaces it. An Ed25519 secret has its <see cref="PublicKey"/>
/// (<c>whpk_</c>) beside it, kept in the clear so that showing it needs no decryption.
/// </summary>
public sealed record SigningSecretRecord(
    Guid ClientId, string Secret, DateTimeOffset CreatedUtc, DateTimeOffset? ExpiresUtc, string? PublicKey = null);

/// <summary>A public key (<c>whpk_</c>) that verifies a client's <c>v1a</c> signatures, and until when it signs (null: until rotated).</summary>
public sealed record PublicSigningKey(Guid ClientId, string PublicKey, DateTimeOffset CreatedUtc, DateTimeOffset? ExpiresUtc);

public sealed record IntegrationRecord(
    Guid Id,
    string Name,
    Guid EnterpriseId,
    Guid? ServiceId,
    Guid ClientId,
    TokenDigest AccessToken,
    IntegrationState State,
    bool EnabledBeforeCancel,
    Requestor? Requestor,
    DateTimeOffset CreatedUtc,
    DateTimeOffset UpdatedUtc,
    DateTimeOffset? DeletedUtc,
    EventSubscription GeneralEvents,
    EventSubscription WebSocketEvents);

public enum WebhookChannel
{
    Integration,
    General,
}

public enum MessageStatus
{
    Pending,
    Delivered,
    Failed,
    Skipped,
}

/// <summary>An outbox message. <see cref="QueueSeq"/> orders delivery (FIFO per integration); a retry gives it a new one.</summary>
public sealed record MessageRecord(
    long Seq,
    string Id,
    WebhookChannel Channel,
    Guid ClientId,
    Guid IntegrationId,
    string EventType,
    byte[] Body,
    MessageStatus Status,
    string? StatusReason,
    long QueueSeq,
    int AttemptCount,
    DateTimeOffset? NextAttemptUtc,
    DateTimeOffset CreatedUtc,
    DateTimeOffset? CompletedUtc);

public sealed record AttemptRecord(
    [property: JsonIgnore] long MessageSeq,
    int AttemptNumber,
    DateTimeOffset StartedUtc,
    double DurationMs,
    string Url,
    int? StatusCode,
    string? ErrorKind,
    string? Error,
    string? ResponseBody);

/// <summary>What the dispatcher needs to send a message.</summary>
public sealed record PendingMessage(
    long Seq,
    string Id,
    WebhookChannel Channel,
    Guid IntegrationId,
    Guid ClientId,
    long QueueSeq,
    int AttemptCount,
    DateTimeOffset? NextAttemptUtc,
    byte[] Body,
    DateTimeOffset CreatedUtc)
{
    /// <summary>The span that created the message, in this process: its delivery attempts join that trace.</summary>
    public ActivityContext Trace { get; init; }

    /// <summary>See <see cref="InsertedMessage.PendingBefore"/>; null for a message read from storage.</summary>
    public long? PendingBefore { get; init; }
}

/// <summary>Where an inserted message stands in the queue.</summary>
/// <param name="PendingBefore">
/// Where the database shares processes: the queue position of the lane's last Pending message before this one, committed
/// by any process (0: none), read in the same round trip as the insert. With it the dispatcher of the process that wrote the
/// message can take it from the commit instead of reading the lane back, when it already holds that one. Null otherwise.
/// </param>
public readonly record struct InsertedMessage(long Seq, long QueueSeq, long? PendingBefore = null)
{
    public void Deconstruct(out long seq, out long queueSeq)
    {
        seq = Seq;
        queueSeq = QueueSeq;
    }
}

/// <summary>One delivery queue: FIFO holds within it, and lanes never wait for each other.</summary>
public readonly record struct DeliveryLane(Guid IntegrationId, WebhookChannel Channel);

/// <summary>A lane and the queue position it has read up to.</summary>
public readonly record struct LanePosition(DeliveryLane Lane, long AfterQueueSeq);

/// <summary>
/// A General event as a producer reported it, kept in its enterprise's log until every Enabled integration of the
/// enterprise has taken it into a message. <see cref="Entity"/> is the optional snapshot for the 2021-01 <c>Entities</c> block.
/// </summary>
public sealed record GeneralEventRecord(long Seq, Guid EnterpriseId, string Discriminator, Guid EntityId, byte[]? Entity, DateTimeOffset CreatedUtc);

/// <summary>
/// A management command sent with an <c>Idempotency-Key</c>, recorded in the command's own transaction, so that a retry
/// finds it whatever happened to the first answer; the answer is added once it is known (<see cref="Response"/> null before).
/// </summary>
/// <param name="Caller">Whose key it is: the API key's id, or the bootstrap admin's name; keys of different callers never meet.</param>
/// <param name="RequestHash">SHA-256 of the method, path and body, to tell a retry from a reuse of the key.</param>
/// <param name="Response">The answer as sent (opaque to storage, stored encrypted: it may carry a token shown once).</param>
public sealed record IdempotentRequestRecord(string Caller, string Key, byte[] RequestHash, DateTimeOffset CreatedUtc, byte[]? Response);

/// <summary>An accepted ingest request, kept so a retry with the same <c>Idempotency-Key</c> gets the same answer.</summary>
public sealed record IngestRecord(Guid EnterpriseId, string IdempotencyKey, byte[] RequestHash, byte[] Response, DateTimeOffset CreatedUtc);

/// <summary>The state a delivery outcome leaves a message in.</summary>
public sealed record MessageProgress(
    long Seq,
    MessageStatus Status,
    string? StatusReason,
    int AttemptCount,
    DateTimeOffset? NextAttemptUtc,
    DateTimeOffset? CompletedUtc);

/// <summary>What an API key may do. Stored by name; the least privileged role is the zero value.</summary>
public enum ApiKeyRole
{
    /// <summary>Reads everything, changes nothing.</summary>
    Reader = 0,

    /// <summary>Posts events, for its enterprises only when it names them.</summary>
    Producer = 1,

    /// <summary>Everything.</summary>
    Admin = 2,
}

/// <summary>
/// An API key made through the API. The key is kept only as a digest; <see cref="EnterpriseIds"/> limits a Producer
/// (null: every enterprise). <see cref="LastUsedUtc"/> is recorded at most once a minute per process.
/// </summary>
public sealed record ApiKeyRecord(
    Guid Id,
    string Name,
    ApiKeyRole Role,
    IReadOnlyList<Guid>? EnterpriseIds,
    TokenDigest Key,
    DateTimeOffset CreatedUtc,
    DateTimeOffset? LastUsedUtc);

public sealed record IntegrationQuery(Guid? EnterpriseId, Guid? ClientId, IntegrationState? State, int Limit, Guid? After);

/// <summary>
/// Newest first; <see cref="BeforeSeq"/> is the cursor. <see cref="CreatedFromUtc"/> and <see cref="CreatedBeforeUtc"/> bound
/// the creation time; a provider turns them into positions first (a search by position), so a window far back reads no
/// more rows than one at the front.
/// </summary>
public sealed record MessageQuery(
    Guid? ClientId, Guid? IntegrationId, MessageStatus? Status, long? BeforeSeq, int Limit,
    WebhookChannel? Channel = null, DateTimeOffset? CreatedFromUtc = null, DateTimeOffset? CreatedBeforeUtc = null)
{
    /// <summary>
    /// The positions the cursor and the creation times leave: from (inclusive) and before (exclusive), each time turned into
    /// a position by <paramref name="firstSeqCreatedAtOrAfter"/> (the provider's search).
    /// </summary>
    public (long From, long Before) Positions(Func<DateTimeOffset, long> firstSeqCreatedAtOrAfter)
    {
        ArgumentNullException.ThrowIfNull(firstSeqCreatedAtOrAfter);
        var before = BeforeSeq ?? long.MaxValue;
        if (CreatedBeforeUtc is { } until)
        {
            before = Math.Min(before, firstSeqCreatedAtOrAfter(until));
        }
        return (CreatedFromUtc is { } since ? firstSeqCreatedAtOrAfter(since) : 0, before);
    }
}

/// <summary>Failed messages of one client or one integration, created from <see cref="SinceUtc"/> to before <see cref="UntilUtc"/>.</summary>
public sealed record FailedMessageQuery(
    Guid? ClientId, Guid? IntegrationId, WebhookChannel? Channel, DateTimeOffset SinceUtc, DateTimeOffset UntilUtc, int Limit);

/// <summary>Which server process delivers for a partition, and until when its lease runs without renewal.</summary>
public sealed record PartitionLeaseRecord(int Partition, string? NodeId, DateTimeOffset? LeaseUntilUtc);

/// <summary>A server process as its last heartbeat recorded it.</summary>
public sealed record NodeRecord(string NodeId, DateTimeOffset SeenUtc);

/// <summary>One endpoint's share of the newest attempts (<see cref="IConnectorStore.TallyRecentAttempts"/>).</summary>
public sealed record EndpointTally(
    Guid ClientId, WebhookChannel Channel, int Attempts, int Failures, DateTimeOffset? LastFailureUtc, DateTimeOffset? LastSuccessUtc);

/// <summary>One delivery attempt as endpoint health reads it.</summary>
public sealed record RecentAttempt(DateTimeOffset StartedUtc, double DurationMs, int? StatusCode, string? ErrorKind)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;
}

/// <summary>
/// What retention deletes: messages completed before these instants (<see cref="DateTimeOffset.MinValue"/>: none of that kind);
/// nothing created at or after <see cref="Frontier"/>, the latest of the two that deletes anything.
/// </summary>
public sealed record RetentionCutoffs(DateTimeOffset Delivered, DateTimeOffset Failed)
{
    public DateTimeOffset Frontier => Delivered > Failed ? Delivered : Failed;

    /// <summary>Whether a message in this state (as stored: "Delivered", "Failed", …) is past its retention.</summary>
    public bool Expired(string status, DateTimeOffset? completedUtc) => completedUtc is { } completed && status switch
    {
        nameof(MessageStatus.Delivered) or nameof(MessageStatus.Skipped) => completed < Delivered,
        nameof(MessageStatus.Failed) => completed < Failed,
        _ => false,
    };
}

/// <param name="LastSeq">The last message looked at; the next batch starts after it.</param>
/// <param name="Done">The frontier or the end of the outbox was reached.</param>
public sealed record RetentionPass(int Examined, int Deleted, long LastSeq, bool Done);

/// <summary>Whose integrations a removal looks at: a client's or an enterprise's.</summary>
public enum IntegrationOwner
{
    Client,
    Enterprise,
}

/// <summary>
/// What keeps a client or an enterprise from being deleted: integrations of it that are not Deleted, and messages of its
/// integrations still pending delivery (a Deleted integration's last webhook among them).
/// </summary>
public sealed record RemovalHold(int IntegrationsNotDeleted, int PendingMessages)
{
    /// <summary>The 409 that refuses the removal, or null when nothing holds it.</summary>
    public DomainException? Refusal(string what) =>
        IntegrationsNotDeleted > 0
            ? new DomainException(DomainErrorKind.Conflict,
                $"The {what} has {Count(IntegrationsNotDeleted, "integration")} not Deleted; delete them first.")
            : PendingMessages > 0
                ? new DomainException(DomainErrorKind.Conflict,
                    $"The {what}'s integrations have {Count(PendingMessages, "message")} still pending delivery; try again once they are delivered or failed.")
                : null;

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n:N0} {noun}s";
}

/// <summary>An Enabled integration with what decides which General events reach it.</summary>
/// <param name="HasGeneralWebhookUrl">Its client has a General-Webhook URL (one disabled by a 410 still counts: events wait for it).</param>
public sealed record GeneralRoute(Guid IntegrationId, EventSubscription GeneralEvents, bool HasGeneralWebhookUrl, ContractVersion ContractVersion);
