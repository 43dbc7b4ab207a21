using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Security;

namespace ConnectorEvents.Core.Storage;

/// <summary>
/// One storage provider (SQLite or PostgreSQL). All writes go through <see cref="BeginWrite"/>, which
/// the <see cref="GroupCommitWriter"/> calls from one thread, so many commands share one transaction and one fsync.
/// Secrets never reach the database in the clear: a provider encrypts signing secrets, webhook URLs and message bodies
/// that carry a token with the <see cref="Security.SecretProtector"/> it was given, and gives them back decrypted;
/// tokens and API keys are kept only as <see cref="Security.TokenDigest"/>s, so they are looked up by hash.
/// </summary>
public interface IConnectorStore : IDisposable
{
    /// <summary>Creates or upgrades the schema; safe to run on every start, also by several processes at once.</summary>
    void Migrate();

    /// <summary>
    /// True when several server processes may share this database (PostgreSQL). False for a file that one process
    /// owns (SQLite): that process then takes every delivery partition at start, whoever held it before.
    /// </summary>
    bool IsShared { get; }

    /// <param name="sendEachUnit">
    /// Send each unit's writes before the next unit begins. Otherwise a provider with round trips to save may hold them back
    /// and send them with the next unit's statements or the commit; a failure among them then surfaces as
    /// <see cref="HeldBackWriteFailedException"/>, and the writer runs the batch again with this set, so that the failure
    /// falls on its own unit.
    /// </param>
    IWriteTransaction BeginWrite(bool sendEachUnit = false);

    /// <summary>
    /// True for a failure that running the same work again may not meet: a deadlock or serialization failure between
    /// processes sharing the database. The writer then runs the work again.
    /// </summary>
    bool IsTransient(Exception exception);

    /// <summary>
    /// True for a failure of the connection itself (cut, reset, timed out), which undoes a transaction that had not yet sent
    /// its COMMIT: the writer runs such a batch again, once, on a fresh connection.
    /// </summary>
    bool IsLostConnection(Exception exception);

    /// <summary>True when the database answers a trivial query.</summary>
    bool Ping();

    /// <summary>
    /// Why a write failed, in a few words that name no file, host or credential: "disk full", "read-only", "database
    /// unreachable"; for readiness. Null when the failure lies in the data, not in the storage (a broken constraint).
    /// </summary>
    string? DescribeWriteFailure(Exception exception);

    /// <summary>
    /// Like <see cref="DescribeWriteFailure"/>, but only when the storage itself is unavailable (unreachable, shut down, out
    /// of connections, a full or failing disk, locked); null for any other failure, which may be a defect to look into.
    /// </summary>
    string? DescribeUnavailable(Exception exception);

    EnterpriseRecord? FindEnterprise(Guid id);
    IReadOnlyList<EnterpriseRecord> ListEnterprises(int limit, Guid? after);
    IReadOnlyList<ServiceRecord> ListServices(Guid enterpriseId);
    ClientRecord? FindClient(Guid id);
    IReadOnlyList<ClientRecord> ListClients(int limit, Guid? after);
    IReadOnlyList<SigningSecretRecord> ListSecrets(Guid clientId);

    /// <summary>
    /// The public keys of the clients' Ed25519 secrets that still sign at <paramref name="now"/>, by client, newest first:
    /// read without decrypting anything.
    /// </summary>
    IReadOnlyList<PublicSigningKey> ListPublicSigningKeys(IReadOnlyCollection<Guid> clientIds, DateTimeOffset now);
    IntegrationRecord? FindIntegration(Guid id);
    IReadOnlyList<IntegrationRecord> ListIntegrations(IntegrationQuery query);
    IReadOnlyList<MessageRecord> ListMessages(MessageQuery query);
    MessageRecord? FindMessage(string id);
    IReadOnlyList<AttemptRecord> ListAttempts(long messageSeq);

    /// <summary>
    /// The newest <paramref name="limit"/> attempts to one of the client's endpoints, newest first. The read looks back a
    /// bounded way, so it stays small however much is stored: SQLite among the newest 100,000 attempts of all clients,
    /// PostgreSQL among the client's newest 2,000 messages of the channel.
    /// </summary>
    IReadOnlyList<RecentAttempt> ListRecentAttempts(Guid clientId, WebhookChannel channel, int limit);

    /// <summary>
    /// Over the newest <paramref name="lookBack"/> attempts of every client, per endpoint (client and channel): how many, how
    /// many failed, and when the last failure and the last success were; for the console's worst endpoints. One read, bounded
    /// however much is stored.
    /// </summary>
    IReadOnlyList<EndpointTally> TallyRecentAttempts(int lookBack);

    /// <summary>Failed messages of a client or an integration created in a window, oldest first (the order they were queued in).</summary>
    IReadOnlyList<MessageRecord> ListFailedMessages(FailedMessageQuery query);

    /// <param name="tokenHash">The <see cref="Security.TokenDigest.Hash"/> of the token presented.</param>
    ClientRecord? FindClientByTokenHash(string tokenHash);

    /// <param name="tokenHash">The <see cref="Security.TokenDigest.Hash"/> of the token presented.</param>
    IntegrationRecord? FindIntegrationByAccessTokenHash(string tokenHash);

    /// <param name="keyHash">The <see cref="Security.TokenDigest.Hash"/> of the key presented.</param>
    ApiKeyRecord? FindApiKeyByHash(string keyHash);

    /// <summary>Every API key made through the API, oldest first.</summary>
    IReadOnlyList<ApiKeyRecord> ListApiKeys();

    /// <summary>Pending messages of one lane in delivery order, after a queue position.</summary>
    IReadOnlyList<PendingMessage> LoadPending(DeliveryLane lane, long afterQueueSeq, int limit);

    /// <summary>
    /// Up to <paramref name="limitPerLane"/> pending messages of each lane after its position, in one read: each lane's in
    /// delivery order (lanes interleaved).
    /// </summary>
    IReadOnlyList<PendingMessage> LoadPending(IReadOnlyList<LanePosition> lanes, int limitPerLane);

    IReadOnlyList<DeliveryLane> ListLanesWithPending();

    /// <summary>Pending messages per channel and the creation time of the oldest, for the backlog gauges.</summary>
    IReadOnlyList<(WebhookChannel Channel, long Pending, DateTimeOffset OldestCreatedUtc)> MeasureBacklog();

    /// <summary>Enabled integrations whose enterprise's General event log holds events they have not yet taken into a message.</summary>
    IReadOnlyList<Guid> ListIntegrationsWithUnformedEvents();

    long MaxQueueSeq();

    /// <summary>Every delivery partition with its holder, lowest first.</summary>
    IReadOnlyList<PartitionLeaseRecord> ListPartitionLeases();

    /// <summary>Every server process that ever recorded a heartbeat here.</summary>
    IReadOnlyList<NodeRecord> ListNodes();
}

/// <summary>One open write transaction. Reads inside it see its own writes.</summary>
public interface IWriteTransaction : IDisposable
{
    EnterpriseRecord? FindEnterprise(Guid id);
    ServiceRecord? FindService(Guid id);
    /// <param name="forUpdate">
    /// Set by a read-modify-write of the client: where processes share the database, the row is then locked until the
    /// commit. Plain reads (an integration command reading the client's URL and version) leave it unlocked, so commands
    /// for one client's integrations in several processes never wait for each other.
    /// </param>
    ClientRecord? FindClient(Guid id, bool forUpdate = false);
    IntegrationRecord? FindIntegration(Guid id);
    MessageRecord? FindMessage(string id);

    /// <summary>
    /// Looks at up to <paramref name="examine"/> messages after <paramref name="afterSeq"/>, oldest first, and deletes those
    /// past retention, with their attempts and outcomes: Delivered and Skipped ones completed before
    /// <see cref="RetentionCutoffs.Delivered"/>, Failed ones before <see cref="RetentionCutoffs.Failed"/>. Never a Pending one,
    /// and never the newest message (positions are numbered on from it). Stops early at the first message created at or after
    /// <see cref="RetentionCutoffs.Frontier"/>, where none can be past retention yet.
    /// </summary>
    RetentionPass DeleteExpiredMessages(long afterSeq, RetentionCutoffs cutoffs, int examine);

    void InsertEnterprise(EnterpriseRecord enterprise);
    void InsertService(ServiceRecord service);
    void InsertClient(ClientRecord client);
    void UpdateClient(ClientRecord client);
    void InsertSecret(SigningSecretRecord secret);

    /// <summary>Gives every secret of the client that has no expiry this one.</summary>
    void ExpireSecrets(Guid clientId, DateTimeOffset expiresUtc);

    void InsertIntegration(IntegrationRecord integration);
    void UpdateIntegration(IntegrationRecord integration);

    /// <summary>Inserts a message at the end of the queue; its <c>Seq</c> and <c>QueueSeq</c> are assigned here.</summary>
    InsertedMessage InsertMessage(MessageRecord message);

    /// <summary>Records an attempt; its number is assigned here, counting every attempt the message ever had.</summary>
    void RecordAttempt(AttemptRecord attempt);
    void UpdateProgress(MessageProgress progress);

    /// <summary>
    /// Tells the store that every message of <paramref name="lane"/> at or below <paramref name="settledThroughQueueSeq"/>
    /// is Delivered or Failed, so its search for pending messages may start above. Only the dispatcher knows this (it
    /// settles a lane in queue order); a store that indexes pending messages by state may ignore it.
    /// </summary>
    void SettleLane(DeliveryLane lane, long settledThroughQueueSeq);

    /// <summary>Appends to the General event log; each event's <c>Seq</c> is assigned here, ascending in list order.</summary>
    void AppendGeneralEvents(IReadOnlyList<GeneralEventRecord> events);

    /// <summary>Events of one enterprise after a log position, oldest first.</summary>
    IReadOnlyList<GeneralEventRecord> LoadGeneralEvents(Guid enterpriseId, long afterSeq, int limit);

    /// <summary>
    /// The highest log position ever assigned (0 before the first event), trimmed or not, once every append to the
    /// enterprise's log still under way (in another process) has committed: a cursor set to it misses nothing.
    /// </summary>
    long LastGeneralEventSeq(Guid enterpriseId);

    /// <summary>The log position up to which the integration has taken events into messages.</summary>
    long GeneralCursor(Guid integrationId);
    void SetGeneralCursor(Guid integrationId, long seq);

    /// <summary>Deletes the enterprise's events that every Enabled integration of it has taken.</summary>
    void TrimGeneralEvents(Guid enterpriseId);

    /// <summary>
    /// The enterprise's integrations in state Enabled, the ones General events are routed to, with their subscriptions and
    /// what their clients can receive.
    /// </summary>
    IReadOnlyList<GeneralRoute> ListGeneralRoutes(Guid enterpriseId);

    IngestRecord? FindIngest(Guid enterpriseId, string idempotencyKey);
    void InsertIngest(IngestRecord ingest);
    void DeleteIngest(Guid enterpriseId, string idempotencyKey);

    /// <summary>
    /// Forgets idempotency keys older than <paramref name="cutoff"/>, oldest first, at most <paramref name="limit"/> of
    /// ingest's and as many of management commands'; returns how many. Zero once none is left.
    /// </summary>
    int DeleteIngestsBefore(DateTimeOffset cutoff, int limit);

    /// <summary>
    /// Records a management command's idempotency key, unless one of the caller's with that key exists that was created at or
    /// after <paramref name="expiredBefore"/> (an older one is replaced); false then. Where processes share the database, a
    /// key being recorded by another transaction right now counts as existing.
    /// </summary>
    bool TryInsertIdempotentRequest(IdempotentRequestRecord request, DateTimeOffset expiredBefore);

    IdempotentRequestRecord? FindIdempotentRequest(string caller, string key);

    /// <summary>Adds the answer to a recorded key (encrypted).</summary>
    void SetIdempotentResponse(string caller, string key, byte[] response);

    /// <summary>
    /// Hands committed WebSocket events to the other server processes on the same database, after the commit. A no-op
    /// where one process owns the database: that process publishes them itself.
    /// </summary>
    void PublishWebSocketEvents(Guid enterpriseId, IReadOnlyList<WebSocketEvent> events);

    /// <summary>
    /// Tells the other processes on the database, with this commit, that the client's lanes waiting for a retry should try
    /// now (nothing to do where one process owns the database).
    /// </summary>
    void AnnounceRetryNow(Guid clientId);

    /// <summary>Records that <paramref name="nodeId"/> is alive; returns how many nodes were seen since <paramref name="liveSince"/>, this one included.</summary>
    int Heartbeat(string nodeId, DateTimeOffset now, DateTimeOffset liveSince);

    /// <summary>Forgets the processes last seen before <paramref name="seenBefore"/> (gone for good); returns how many.</summary>
    int ForgetNodes(DateTimeOffset seenBefore);

    /// <summary>Extends to <paramref name="until"/> the partition leases the node still holds; returns those partitions.</summary>
    IReadOnlyList<int> RenewPartitions(string nodeId, DateTimeOffset until);

    /// <summary>
    /// Takes up to <paramref name="max"/> partitions that nobody holds or whose lease ended before <paramref name="now"/>,
    /// lowest first, skipping any another transaction is taking right now; returns them.
    /// </summary>
    IReadOnlyList<int> ClaimPartitions(string nodeId, int max, DateTimeOffset now, DateTimeOffset until);

    /// <summary>Gives up the node's leases on <paramref name="partitions"/>, so another node may claim them at once.</summary>
    void ReleasePartitions(string nodeId, IReadOnlyList<int> partitions);

    /// <summary>Clears every partition lease (a store that one process owns, on its start).</summary>
    void ResetPartitions();

    /// <summary>
    /// Locks the integrations of the client or enterprise (where processes share the database) and counts those not Deleted
    /// and their messages still pending: what <see cref="DeleteClient"/> and <see cref="DeleteEnterprise"/> must wait for.
    /// </summary>
    RemovalHold FindRemovalHold(IntegrationOwner owner, Guid ownerId);

    /// <summary>
    /// Deletes the client, its signing secrets and its integrations, all Deleted with nothing pending (the caller checked,
    /// with <see cref="FindRemovalHold"/>), and their lanes. Their messages stay, as history, until retention takes them.
    /// </summary>
    void DeleteClient(Guid clientId);

    /// <summary>
    /// Deletes the enterprise, its services, its General event log, its ingest idempotency keys and its integrations, all
    /// Deleted with nothing pending (the caller checked), and their lanes. Their messages stay until retention takes them.
    /// </summary>
    void DeleteEnterprise(Guid enterpriseId);

    void InsertApiKey(ApiKeyRecord apiKey);

    /// <summary>Deletes the key; false when there was none with that id.</summary>
    bool DeleteApiKey(Guid id);

    void RecordApiKeyUse(Guid id, DateTimeOffset usedUtc);

    /// <summary>
    /// Reads up to <paramref name="limit"/> rows of the sweep's table from <paramref name="from"/> on, and encrypts again,
    /// under the current key, each value among them that is in the clear (written before encryption existed) or under an
    /// older key. A value that cannot be read is named and left; the batch says where the next one starts.
    /// </summary>
    SecretSweepBatch ReprotectSecrets(SecretSweepPosition from, int limit);

    /// <summary>Puts a finished message back at the end of the queue: Pending, no attempts counted; returns its new position.</summary>
    long Requeue(long seq);

    /// <summary>
    /// Sends statements the provider held back to send together; a failure among them surfaces here. Reads, savepoint
    /// releases and the commit send them too.
    /// </summary>
    void Flush();

    /// <summary>
    /// A write that leaves every row as it was but still puts a change on disk at the commit, so its commit tells
    /// whether writes succeed (the writer's probe while writes fail and nothing else is written).
    /// </summary>
    void Probe();

    /// <summary>
    /// Called once at the start of a group, before its units run, with the integrations the units said they change and the
    /// enterprises whose General logs they said they append to: a provider whose reads are round trips may read (and lock)
    /// them all in one, with what their messages and appends will need, so that the units find them at hand. A provider may
    /// ignore it; the units read what was not read ahead as usual.
    /// </summary>
    void ReadAhead(IReadOnlyList<Guid> integrationIds, IReadOnlyList<Guid> enterpriseIds);

    void Savepoint();
    void RollbackToSavepoint();
    void ReleaseSavepoint();
    void Commit();
}
