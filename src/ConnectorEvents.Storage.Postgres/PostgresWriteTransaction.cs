using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Npgsql;
using NpgsqlTypes;
using static ConnectorEvents.Storage.Postgres.PostgresRows;

namespace ConnectorEvents.Storage.Postgres;

internal sealed partial class PostgresWriteTransaction : IWriteTransaction
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _tx;
    private readonly ChangeAnnouncements _announcements;
    private readonly SecretProtector _secrets;

    public PostgresWriteTransaction(NpgsqlConnection connection, string nodeId, SecretProtector secrets, Guid writer,
        Func<Exception, bool> isLostConnection, Func<long, int, bool?> resolveCommit)
    {
        _writer = writer;
        _isLostConnection = isLostConnection;
        _resolveCommit = resolveCommit;
        _connection = connection;
        _secrets = secrets;
        _announcements = new ChangeAnnouncements(nodeId);
        _tx = connection.BeginTransaction(System.Data.IsolationLevel.ReadCommitted);
    }

    public EnterpriseRecord? FindEnterprise(Guid id) =>
        _heldForAppend.TryGetValue(id, out var held) ? held : PostgresRows.FindEnterprise(Sent, _tx, id);

    public ServiceRecord? FindService(Guid id) => PostgresRows.FindService(Sent, _tx, id);


    public MessageRecord? FindMessage(string id) => PostgresRows.FindMessage(Sent, _tx, id, _secrets);

    public void InsertEnterprise(EnterpriseRecord enterprise)
    {
        ArgumentNullException.ThrowIfNull(enterprise);
        Execute(Sent, _tx, "INSERT INTO enterprises (id, name, created_utc) VALUES (@id, @name, @created)",
            ("id", enterprise.Id), ("name", enterprise.Name), ("created", Db(enterprise.CreatedUtc)));
    }

    public void InsertService(ServiceRecord service)
    {
        ArgumentNullException.ThrowIfNull(service);
        Execute(Sent, _tx, "INSERT INTO services (id, enterprise_id, name, created_utc) VALUES (@id, @e, @name, @created)",
            ("id", service.Id), ("e", service.EnterpriseId), ("name", service.Name), ("created", Db(service.CreatedUtc)));
    }

    public void InsertClient(ClientRecord client) => WriteClient(client,
        $"INSERT INTO clients ({ClientColumns}) VALUES (@id, @name, @token, @iurl, @gurl, @disabled, @reason, @created, @version, @gdisabled, @greason, @prefix, @scheme)");

    public void UpdateClient(ClientRecord client)
    {
        Cache(client);
        _enabledIn.Clear(); // the routes read ahead say whether clients have a General URL: read them again
        WriteClient(client, """
            UPDATE clients SET name = @name, client_token_hash = @token, integration_webhook_url = @iurl, general_webhook_url = @gurl,
                integration_webhook_disabled_utc = @disabled, integration_webhook_disabled_reason = @reason, created_utc = @created,
                contract_version = @version, general_webhook_disabled_utc = @gdisabled, general_webhook_disabled_reason = @greason,
                client_token_prefix = @prefix, signing_scheme = @scheme
            WHERE id = @id
            """);
        _announcements.Add($"c {client.Id}");
    }

    private void WriteClient(ClientRecord client, string sql)
    {
        ArgumentNullException.ThrowIfNull(client);
        Execute(Sent, _tx, sql,
            ("id", client.Id), ("name", client.Name), ("token", client.ClientToken.Hash),
            ("iurl", Db(_secrets.Protect(client.IntegrationWebhookUrl, ProtectedColumns.IntegrationWebhookUrl(client.Id)))),
            ("gurl", Db(_secrets.Protect(client.GeneralWebhookUrl, ProtectedColumns.GeneralWebhookUrl(client.Id)))),
            ("disabled", Db(client.IntegrationWebhookDisabledUtc)),
            ("reason", Db(client.IntegrationWebhookDisabledReason)), ("created", Db(client.CreatedUtc)),
            ("version", client.ContractVersion.Text), ("gdisabled", Db(client.GeneralWebhookDisabledUtc)),
            ("greason", Db(client.GeneralWebhookDisabledReason)), ("prefix", client.ClientToken.Prefix),
            ("scheme", client.SigningScheme.ToString()));
    }

    public void InsertSecret(SigningSecretRecord secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        Execute(Sent, _tx, $"INSERT INTO client_secrets ({SecretColumns}) VALUES (@c, @s, @created, @expires, @public)",
            ("c", secret.ClientId), ("s", _secrets.Protect(secret.Secret, ProtectedColumns.SigningSecret(secret.ClientId))),
            ("created", Db(secret.CreatedUtc)), ("expires", Db(secret.ExpiresUtc)), ("public", Db(secret.PublicKey)));
        _announcements.Add($"c {secret.ClientId}");
    }

    public void ExpireSecrets(Guid clientId, DateTimeOffset expiresUtc)
    {
        Execute(Sent, _tx, "UPDATE client_secrets SET expires_utc = @expires WHERE client_id = @c AND expires_utc IS NULL",
            ("c", clientId), ("expires", Db(expiresUtc)));
        _announcements.Add($"c {clientId}");
    }

    public void InsertIntegration(IntegrationRecord integration) => WriteIntegration(Cache(integration),
        $"INSERT INTO integrations ({IntegrationColumns}) VALUES (@id, @name, @e, @s, @c, @token, @state, @ebc, @rn, @re, @created, @updated, @deleted, @ge, @we, @prefix)");

    private const string UpdateIntegrationSql = """
        UPDATE integrations SET name = @name, enterprise_id = @e, service_id = @s, client_id = @c, access_token_hash = @token,
            access_token_prefix = @prefix, state = @state, enabled_before_cancel = @ebc, requestor_name = @rn, requestor_email = @re,
            created_utc = @created, updated_utc = @updated, deleted_utc = @deleted, general_events = @ge, websocket_events = @we
        """;

    public void UpdateIntegration(IntegrationRecord integration)
    {
        Cache(integration);
        WriteIntegration(integration, $"{UpdateIntegrationSql} WHERE id = @id");
        _announcements.Add($"i {integration.Id}");
    }

    private void WriteIntegration(IntegrationRecord i, string sql)
    {
        ArgumentNullException.ThrowIfNull(i);
        _enabledIn.Remove(i.EnterpriseId); // its state may change: the enterprise's Enabled integrations are read again
        Defer(sql,
            ("id", i.Id), ("name", i.Name), ("e", i.EnterpriseId), ("s", Db(i.ServiceId)), ("c", i.ClientId),
            ("token", i.AccessToken.Hash), ("prefix", i.AccessToken.Prefix), ("state", i.State.ToString()), ("ebc", i.EnabledBeforeCancel),
            ("rn", Db(i.Requestor?.Name)), ("re", Db(i.Requestor?.Email)), ("created", Db(i.CreatedUtc)),
            ("updated", Db(i.UpdatedUtc)), ("deleted", Db(i.DeletedUtc)), ("ge", Db(i.GeneralEvents.ToStorage())),
            ("we", Db(i.WebSocketEvents.ToStorage())));
    }

    private const string MessageInsertColumns = """
        id, channel, client_id, integration_id, event_type, body, status, status_reason, queue_seq, attempt_count, next_attempt_utc,
        created_utc, completed_utc
        """;

    // The values before queue_seq; the statement adds it and the rest.
    private const string MessageInsertValues = "@id, @channel, @client, @integration, @type, @body, @status, @reason";

    private (string, object)[] MessageInsertParameters(MessageRecord message) =>
    [
        ("id", message.Id), ("channel", message.Channel.ToString()), ("client", message.ClientId),
        ("integration", message.IntegrationId), ("type", message.EventType),
        ("body", TokenBearingMessages.Includes(message.EventType)
            ? _secrets.Protect(message.Body, ProtectedColumns.MessageBody(message.Id))
            : message.Body),
        ("status", message.Status.ToString()), ("reason", Db(message.StatusReason)), ("created", Db(message.CreatedUtc)),
        ("completed", Db(message.CompletedUtc)),
    ];

    public InsertedMessage InsertMessage(MessageRecord message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Status == MessageStatus.Pending)
        {
            _announcements.Add(LaneItem(message.IntegrationId, message.Channel));
        }
        if (TryInsertReadAhead(message, out var early))
        {
            return early;
        }
        // The integration's row lock first: two processes inserting into one integration then take queue positions in
        // the order they commit, so the dispatcher never sees a lower position appear behind one it already passed.
        // And the lane's last Pending message before this one (the row lock keeps any other from coming between).
        using var read = Query(
            Statement("SELECT 1 FROM integrations WHERE id = @integration FOR UPDATE NOWAIT", ("integration", message.IntegrationId)),
            // Not MAX(): with the anti-join PostgreSQL aggregates every row of the range; this stops at the first from the top.
            Statement($"""
                SELECT COALESCE((SELECT m.queue_seq FROM messages m
                    WHERE m.integration_id = @i AND m.channel = @ch AND m.status = 'Pending' AND m.queue_seq > {SettledThrough}
                      AND NOT {Settled}
                    ORDER BY m.queue_seq DESC LIMIT 1), 0)
                """, ("i", message.IntegrationId), ("ch", message.Channel.ToString())),
            Statement($"""
                INSERT INTO messages ({MessageInsertColumns})
                VALUES ({MessageInsertValues}, nextval('message_queue_seq'), 0, NULL, @created, @completed)
                RETURNING seq, queue_seq
                """, MessageInsertParameters(message)));
        var reader = read.Reader;
        reader.NextResult();
        reader.Read();
        var before = reader.GetInt64(0);
        reader.NextResult();
        reader.Read();
        return new InsertedMessage(reader.GetInt64(0), reader.GetInt64(1), before);
    }

    private static string LaneItem(Guid integrationId, WebhookChannel channel) =>
        $"m {integrationId} {(channel == WebhookChannel.Integration ? 'I' : 'G')}";

    public long Requeue(long seq)
    {
        ForgetPositionsTaken();
        // The integration's row lock first, as in InsertMessage: queue positions of one integration in commit order.
        using var command = Command(Sent, _tx, """
            SELECT 1 FROM integrations WHERE id = (SELECT integration_id FROM messages WHERE seq = @seq) FOR UPDATE NOWAIT;
            WITH forgotten AS (DELETE FROM outcomes WHERE message_seq = @seq) -- its state is the row's again
            UPDATE messages SET status = 'Pending', status_reason = NULL, attempt_count = 0, next_attempt_utc = NULL,
                completed_utc = NULL, queue_seq = nextval('message_queue_seq')
            WHERE seq = @seq RETURNING queue_seq, integration_id, channel
            """, ("seq", seq));
        using var reader = command.ExecuteReader();
        reader.NextResult();
        if (!reader.Read())
        {
            throw new InvalidOperationException($"No message with seq {seq}.");
        }
        var queueSeq = reader.GetInt64(0);
        _announcements.Add(LaneItem(reader.GetGuid(1), Enum.Parse<WebhookChannel>(reader.GetString(2))));
        return queueSeq;
    }

    public void AppendGeneralEvents(IReadOnlyList<GeneralEventRecord> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }
        var enterprises = events.Select(e => e.EnterpriseId).Distinct().Order().ToArray();
        foreach (var enterprise in enterprises)
        {
            _logEnds.Remove(enterprise); // its log grows here: read it again
        }
        if (enterprises.All(_heldForAppend.ContainsKey))
        {
            // Locked since the read ahead: the insert goes out with the next statement that needs an answer.
            Defer(AppendStatement(events));
            foreach (var enterprise in enterprises)
            {
                foreach (var route in ListGeneralRoutes(enterprise))
                {
                    _announcements.Add($"g {route.IntegrationId}");
                }
            }
            return;
        }
        // The enterprises' row locks first (in one order, so two writers cannot deadlock): appends to one enterprise then
        // take log positions in commit order, and a reader that has seen position N never later finds one below N.
        // Then the events, and the Enabled integrations to tell: three statements, one round trip.
        using var read = Query(
            Statement("SELECT 1 FROM enterprises WHERE id = ANY(@ids) ORDER BY id FOR NO KEY UPDATE NOWAIT", ("ids", enterprises)),
            AppendStatement(events),
            Statement("SELECT id FROM integrations WHERE enterprise_id = ANY(@ids) AND state = 'Enabled' ORDER BY id", ("ids", enterprises)));
        var reader = read.Reader;
        while (reader.Read())
        {
            // the locks
        }
        while (reader.NextResult() && reader.FieldCount == 0)
        {
            // the insert, no result
        }
        while (reader.Read())
        {
            _announcements.Add($"g {reader.GetGuid(0)}");
        }
    }

    private static NpgsqlBatchCommand AppendStatement(IReadOnlyList<GeneralEventRecord> events)
    {
        var insert = Statement("""
            INSERT INTO general_events (enterprise_id, discriminator, entity_id, entity, created_utc)
            SELECT e, d, id, entity, created FROM unnest(@e, @d, @id, @entity, @created) WITH ORDINALITY AS t(e, d, id, entity, created, n)
            ORDER BY n
            """);
        insert.Parameters.Add(new NpgsqlParameter<Guid[]>("e", [.. events.Select(e => e.EnterpriseId)]));
        insert.Parameters.Add(new NpgsqlParameter<string[]>("d", [.. events.Select(e => e.Discriminator)]));
        insert.Parameters.Add(new NpgsqlParameter<Guid[]>("id", [.. events.Select(e => e.EntityId)]));
        insert.Parameters.Add(new NpgsqlParameter("entity", NpgsqlDbType.Array | NpgsqlDbType.Bytea)
        {
            Value = events.Select(e => e.Entity).ToArray(),
        });
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("created", [.. events.Select(e => Db(e.CreatedUtc))]));
        return insert;
    }

    public IReadOnlyList<GeneralEventRecord> LoadGeneralEvents(Guid enterpriseId, long afterSeq, int limit)
    {
        if (TryLogEnd(enterpriseId, out var end) && end.Last <= afterSeq)
        {
            return [];
        }
        if (TryEventsReadAhead(enterpriseId, afterSeq, limit, out var readAhead))
        {
            return readAhead;
        }
        using var read = Query(Statement(
            $"SELECT {GeneralEventColumns} FROM general_events WHERE enterprise_id = @e AND seq > @after ORDER BY seq LIMIT @limit",
            ("e", enterpriseId), ("after", afterSeq), ("limit", limit)));
        var events = new List<GeneralEventRecord>();
        while (read.Reader.Read())
        {
            events.Add(GeneralEvent(read.Reader));
        }
        return events;
    }

    // The sequence itself: it remembers the highest position ever handed out, also after the log was trimmed empty.
    // An append holds the enterprise row FOR NO KEY UPDATE until it commits; waiting for a share lock on it first means that
    // no position of this enterprise handed out before this read is still uncommitted.
    public long LastGeneralEventSeq(Guid enterpriseId)
    {
        if (TryLogEnd(enterpriseId, out var end))
        {
            return end.Handed;
        }
        using var read = Query(
            Statement("SELECT 1 FROM enterprises WHERE id = @e FOR SHARE NOWAIT", ("e", enterpriseId)),
            Statement("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM general_event_seq"));
        read.Reader.NextResult();
        read.Reader.Read();
        return read.Reader.GetInt64(0);
    }


    // What no Enabled integration still needs: below the lowest cursor, or everything when none is Enabled
    // (enabling one moves its cursor to the end of the log).
    // A write sent later: a formation trims after each message, and nobody reads how many went.
    public void TrimGeneralEvents(Guid enterpriseId)
    {
        if (TryLogEnd(enterpriseId, out var end) && end.Last == 0)
        {
            return; // an empty log
        }
        Defer("""
            DELETE FROM general_events WHERE enterprise_id = @e AND seq <= COALESCE(
                (SELECT MIN(general_cursor) FROM integrations WHERE enterprise_id = @e AND state = 'Enabled'),
                9223372036854775807)
            """, ("e", enterpriseId));
    }

    public IReadOnlyList<GeneralRoute> ListGeneralRoutes(Guid enterpriseId) =>
        _enabledIn.TryGetValue(enterpriseId, out var enabled) ? [.. enabled] : Many(Sent, _tx, r => GeneralRoute(r, 1),
            $"SELECT i.enterprise_id, {GeneralRouteColumns} WHERE i.enterprise_id = @e AND i.state = 'Enabled'", ("e", enterpriseId));

    /// <summary>An Enabled integration's route from <c>i</c> joined to its client <c>c</c>: the columns from the id on, and the join.</summary>
    private const string GeneralRouteColumns = """
        i.id, i.general_events, c.general_webhook_url IS NOT NULL, c.contract_version
        FROM integrations i JOIN clients c ON c.id = i.client_id
        """;

    private static GeneralRoute GeneralRoute(NpgsqlDataReader r, int at) => new(r.GetGuid(at), EventSubscription.FromStorage(Text(r, at + 1)),
        r.GetBoolean(at + 2), ContractVersion.Parse(r.GetString(at + 3)));

    public IngestRecord? FindIngest(Guid enterpriseId, string idempotencyKey) => One(Sent, _tx,
        r => new IngestRecord(r.GetGuid(0), r.GetString(1), r.GetFieldValue<byte[]>(2), r.GetFieldValue<byte[]>(3), Time(r, 4)),
        """
        SELECT enterprise_id, idempotency_key, request_hash, response, created_utc FROM ingest_requests
        WHERE enterprise_id = @e AND idempotency_key = @k
        """, ("e", enterpriseId), ("k", idempotencyKey));

    public void InsertIngest(IngestRecord ingest)
    {
        ArgumentNullException.ThrowIfNull(ingest);
        Execute(Sent, _tx, """
            INSERT INTO ingest_requests (enterprise_id, idempotency_key, request_hash, response, created_utc)
            VALUES (@e, @k, @h, @r, @created)
            """, ("e", ingest.EnterpriseId), ("k", ingest.IdempotencyKey), ("h", ingest.RequestHash), ("r", ingest.Response),
            ("created", Db(ingest.CreatedUtc)));
    }

    public void DeleteIngest(Guid enterpriseId, string idempotencyKey) =>
        Execute(Sent, _tx, "DELETE FROM ingest_requests WHERE enterprise_id = @e AND idempotency_key = @k",
            ("e", enterpriseId), ("k", idempotencyKey));

    public RetentionPass DeleteExpiredMessages(long afterSeq, RetentionCutoffs cutoffs, int examine)
    {
        ArgumentNullException.ThrowIfNull(cutoffs);
        // Positions and seqs come from sequences: deleting the newest message cannot make one be given again. Read without
        // locks; the DELETE checks again, so a message retried meanwhile (Pending once more) stays.
        var rows = Many(Sent, _tx, r => (Seq: r.GetInt64(0), Created: Time(r, 1), Status: r.GetString(2), Completed: TimeOrNull(r, 3)),
            $"""
            SELECT m.seq, m.created_utc, {EffectiveStatus}, CASE WHEN o.id IS NULL THEN m.completed_utc ELSE o.completed_utc END
            FROM {MessagesWithOutcome} WHERE m.seq > @after ORDER BY m.seq LIMIT @n
            """, ("after", afterSeq), ("n", examine));
        var frontier = rows.FindIndex(r => r.Created >= cutoffs.Frontier);
        var examined = frontier < 0 ? rows : rows.Take(frontier).ToList();
        var expired = examined.Where(r => cutoffs.Expired(r.Status, r.Completed)).Select(r => r.Seq).ToArray();
        var deleted = 0;
        if (expired.Length > 0)
        {
            // A message requeued since (by another process) has a new position, which fails the DELETE's check of its row.
            var gone = Many(Sent, _tx, r => r.GetInt64(0), $"""
                DELETE FROM messages d USING (
                    SELECT m.seq, m.queue_seq, {EffectiveStatus} AS status,
                        CASE WHEN o.id IS NULL THEN m.completed_utc ELSE o.completed_utc END AS completed_utc
                    FROM {MessagesWithOutcome} WHERE m.seq = ANY(@l)) e
                WHERE d.seq = e.seq AND d.queue_seq = e.queue_seq
                  AND ((e.status IN ('Delivered', 'Skipped') AND e.completed_utc < @d) OR (e.status = 'Failed' AND e.completed_utc < @f))
                RETURNING d.seq
                """, ("l", expired), ("d", cutoffs.Delivered), ("f", cutoffs.Failed)).ToArray();
            Execute(Sent, _tx, "DELETE FROM attempts WHERE message_seq = ANY(@l); DELETE FROM outcomes WHERE message_seq = ANY(@l)", ("l", gone));
            deleted = gone.Length;
        }
        return new RetentionPass(examined.Count, deleted, examined.Count > 0 ? examined[^1].Seq : afterSeq,
            Done: frontier >= 0 || rows.Count < examine);
    }

    public int DeleteIngestsBefore(DateTimeOffset cutoff, int limit) =>
        Execute(Sent, _tx, """
            DELETE FROM ingest_requests WHERE (enterprise_id, idempotency_key) IN
                (SELECT enterprise_id, idempotency_key FROM ingest_requests WHERE created_utc < @cutoff ORDER BY created_utc LIMIT @n)
            """, ("cutoff", Db(cutoff)), ("n", limit))
        + Execute(Sent, _tx, """
            DELETE FROM idempotent_requests WHERE (caller, idempotency_key) IN
                (SELECT caller, idempotency_key FROM idempotent_requests WHERE created_utc < @cutoff ORDER BY created_utc LIMIT @n)
            """, ("cutoff", Db(cutoff)), ("n", limit));

    public void PublishWebSocketEvents(Guid enterpriseId, IReadOnlyList<WebSocketEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        _announcements.AddWebSocketEvents(enterpriseId, events);
    }

    public void AnnounceRetryNow(Guid clientId) => _announcements.Add($"r {clientId}");

    public int Heartbeat(string nodeId, DateTimeOffset now, DateTimeOffset liveSince)
    {
        Execute(Sent, _tx, "INSERT INTO nodes (node_id, seen_utc) VALUES (@n, @now) ON CONFLICT (node_id) DO UPDATE SET seen_utc = EXCLUDED.seen_utc",
            ("n", nodeId), ("now", Db(now)));
        return (int)(long)Scalar(Sent, _tx, "SELECT COUNT(*) FROM nodes WHERE seen_utc >= @since", ("since", Db(liveSince)))!;
    }

    public int ForgetNodes(DateTimeOffset seenBefore)
    {
        Defer("DELETE FROM commit_marks WHERE written_utc < @before", ("before", Db(seenBefore)));
        return Execute(Sent, _tx, "DELETE FROM nodes WHERE seen_utc < @before", ("before", Db(seenBefore)));
    }

    public IReadOnlyList<int> RenewPartitions(string nodeId, DateTimeOffset until) =>
        Partitions("UPDATE partition_leases SET lease_until = @until WHERE node_id = @n RETURNING partition",
            ("n", nodeId), ("until", Db(until)));

    // SKIP LOCKED: processes claiming at once each take different free partitions instead of queueing on the same rows.
    public IReadOnlyList<int> ClaimPartitions(string nodeId, int max, DateTimeOffset now, DateTimeOffset until) =>
        Partitions("""
            UPDATE partition_leases SET node_id = @n, lease_until = @until
            WHERE partition IN (
                SELECT partition FROM partition_leases WHERE node_id IS NULL OR lease_until < @now
                ORDER BY partition LIMIT @max FOR UPDATE SKIP LOCKED)
            RETURNING partition
            """, ("n", nodeId), ("until", Db(until)), ("now", Db(now)), ("max", max));

    public void ReleasePartitions(string nodeId, IReadOnlyList<int> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        Execute(Sent, _tx, "UPDATE partition_leases SET node_id = NULL, lease_until = NULL WHERE partition = ANY(@p) AND node_id = @n",
            ("p", partitions.ToArray()), ("n", nodeId));
    }

    public void ResetPartitions() => Execute(Sent, _tx, "UPDATE partition_leases SET node_id = NULL, lease_until = NULL");

    // An update writes a new row version (and its log record) even when every value stays the same.
    public void Probe() => Execute(Sent, _tx,
        "UPDATE schema_migrations SET applied_utc = applied_utc WHERE version = (SELECT MAX(version) FROM schema_migrations)");

    private List<int> Partitions(string sql, params (string, object)[] parameters)
    {
        var partitions = Many(Sent, _tx, r => r.GetInt32(0), sql, parameters);
        partitions.Sort();
        return partitions;
    }

    public void Dispose() => _tx.Dispose();
}
