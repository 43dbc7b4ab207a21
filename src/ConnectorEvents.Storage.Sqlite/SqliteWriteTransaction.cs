using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Microsoft.Data.Sqlite;
using static ConnectorEvents.Storage.Sqlite.SqliteRows;

namespace ConnectorEvents.Storage.Sqlite;

internal sealed partial class SqliteWriteTransaction : IWriteTransaction
{
    private readonly SqliteConnection _connection;
    private readonly SqliteTransaction _tx;
    private readonly Statements _statements;
    private readonly SecretProtector _secrets;

    public SqliteWriteTransaction(SqliteConnection connection, Statements statements, SecretProtector secrets)
    {
        _connection = connection;
        _statements = statements;
        _secrets = secrets;
        // IMMEDIATE: take the write lock now rather than fail to upgrade a read lock later.
        _tx = connection.BeginTransaction(deferred: false);
        statements.Enlist(_tx);
    }

    public EnterpriseRecord? FindEnterprise(Guid id) => SqliteRows.FindEnterprise(_connection, _tx, id);

    public ServiceRecord? FindService(Guid id) => SqliteRows.FindService(_connection, _tx, id);

    // One writer: nothing to lock against.
    public ClientRecord? FindClient(Guid id, bool forUpdate = false) => FindOne(_statements.FindClient, r => Client(r, _secrets), id);

    public IntegrationRecord? FindIntegration(Guid id) => FindOne(_statements.FindIntegration, Integration, id);

    private static T? FindOne<T>(SqliteCommand command, Func<SqliteDataReader, T> map, Guid id) where T : class
    {
        command.Parameters["$id"].Value = Db(id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? map(reader) : null;
    }

    public MessageRecord? FindMessage(string id) => SqliteRows.FindMessage(_connection, _tx, id, _secrets);

    public void InsertEnterprise(EnterpriseRecord enterprise)
    {
        ArgumentNullException.ThrowIfNull(enterprise);
        Execute(_connection, _tx, "INSERT INTO enterprises (id, name, created_utc) VALUES ($id, $name, $created)",
            ("$id", Db(enterprise.Id)), ("$name", enterprise.Name), ("$created", Db(enterprise.CreatedUtc)));
    }

    public void InsertService(ServiceRecord service)
    {
        ArgumentNullException.ThrowIfNull(service);
        Execute(_connection, _tx, "INSERT INTO services (id, enterprise_id, name, created_utc) VALUES ($id, $e, $name, $created)",
            ("$id", Db(service.Id)), ("$e", Db(service.EnterpriseId)), ("$name", service.Name), ("$created", Db(service.CreatedUtc)));
    }

    public void InsertClient(ClientRecord client) => WriteClient(client, $"INSERT INTO clients ({ClientColumns}) VALUES ($id, $name, $token, $iurl, $gurl, $disabled, $reason, $created, $version, $gdisabled, $greason, $prefix, $scheme)");

    public void UpdateClient(ClientRecord client) => WriteClient(client, """
        UPDATE clients SET name = $name, client_token_hash = $token, integration_webhook_url = $iurl, general_webhook_url = $gurl,
            integration_webhook_disabled_utc = $disabled, integration_webhook_disabled_reason = $reason, created_utc = $created,
            contract_version = $version, general_webhook_disabled_utc = $gdisabled, general_webhook_disabled_reason = $greason,
            client_token_prefix = $prefix, signing_scheme = $scheme
        WHERE id = $id
        """);

    private void WriteClient(ClientRecord client, string sql)
    {
        ArgumentNullException.ThrowIfNull(client);
        Execute(_connection, _tx, sql,
            ("$id", Db(client.Id)), ("$name", client.Name), ("$token", client.ClientToken.Hash),
            ("$iurl", Db(_secrets.Protect(client.IntegrationWebhookUrl, ProtectedColumns.IntegrationWebhookUrl(client.Id)))),
            ("$gurl", Db(_secrets.Protect(client.GeneralWebhookUrl, ProtectedColumns.GeneralWebhookUrl(client.Id)))),
            ("$disabled", Db(client.IntegrationWebhookDisabledUtc)),
            ("$reason", Db(client.IntegrationWebhookDisabledReason)), ("$created", Db(client.CreatedUtc)),
            ("$version", client.ContractVersion.Text), ("$gdisabled", Db(client.GeneralWebhookDisabledUtc)),
            ("$greason", Db(client.GeneralWebhookDisabledReason)), ("$prefix", client.ClientToken.Prefix),
            ("$scheme", client.SigningScheme.ToString()));
    }

    public void InsertSecret(SigningSecretRecord secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        Execute(_connection, _tx, $"INSERT INTO client_secrets ({SecretColumns}) VALUES ($c, $s, $created, $expires, $public)",
            ("$c", Db(secret.ClientId)), ("$s", _secrets.Protect(secret.Secret, ProtectedColumns.SigningSecret(secret.ClientId))),
            ("$created", Db(secret.CreatedUtc)), ("$expires", Db(secret.ExpiresUtc)), ("$public", Db(secret.PublicKey)));
    }

    public void ExpireSecrets(Guid clientId, DateTimeOffset expiresUtc) =>
        Execute(_connection, _tx, "UPDATE client_secrets SET expires_utc = $expires WHERE client_id = $c AND expires_utc IS NULL",
            ("$c", Db(clientId)), ("$expires", Db(expiresUtc)));

    public void InsertIntegration(IntegrationRecord integration) => WriteIntegration(integration,
        $"INSERT INTO integrations ({IntegrationColumns}) VALUES ($id, $name, $e, $s, $c, $token, $state, $ebc, $rn, $re, $created, $updated, $deleted, $ge, $we, $prefix)");

    public void UpdateIntegration(IntegrationRecord integration)
    {
        ArgumentNullException.ThrowIfNull(integration);
        var values = IntegrationValues(integration);
        foreach (var command in (ReadOnlySpan<SqliteCommand>)[_statements.UpdateIntegrationState, _statements.UpdateIntegrationKeys])
        {
            foreach (var (name, value) in values)
            {
                command.Parameters[name].Value = value;
            }
            command.ExecuteNonQuery();
        }
    }

    private void WriteIntegration(IntegrationRecord i, string sql)
    {
        ArgumentNullException.ThrowIfNull(i);
        Execute(_connection, _tx, sql, IntegrationValues(i));
    }

    private static (string Name, object Value)[] IntegrationValues(IntegrationRecord i) =>
    [
        ("$id", Db(i.Id)), ("$name", i.Name), ("$e", Db(i.EnterpriseId)), ("$s", Db(i.ServiceId)), ("$c", Db(i.ClientId)),
        ("$token", i.AccessToken.Hash), ("$prefix", i.AccessToken.Prefix), ("$state", i.State.ToString()), ("$ebc", i.EnabledBeforeCancel ? 1 : 0),
        ("$rn", Db(i.Requestor?.Name)), ("$re", Db(i.Requestor?.Email)), ("$created", Db(i.CreatedUtc)),
        ("$updated", Db(i.UpdatedUtc)), ("$deleted", Db(i.DeletedUtc)), ("$ge", Db(i.GeneralEvents.ToStorage())),
        ("$we", Db(i.WebSocketEvents.ToStorage())),
    ];

    public InsertedMessage InsertMessage(MessageRecord message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var p = _statements.InsertMessage.Parameters;
        p["$id"].Value = message.Id;
        p["$channel"].Value = message.Channel.ToString();
        p["$client"].Value = Db(message.ClientId);
        p["$integration"].Value = Db(message.IntegrationId);
        p["$type"].Value = message.EventType;
        p["$body"].Value = TokenBearingMessages.Includes(message.EventType)
            ? _secrets.Protect(message.Body, ProtectedColumns.MessageBody(message.Id))
            : message.Body;
        p["$status"].Value = message.Status.ToString();
        p["$reason"].Value = Db(message.StatusReason);
        p["$created"].Value = Db(message.CreatedUtc);
        p["$completed"].Value = Db(message.CompletedUtc);
        InsertedMessage position;
        using (var reader = _statements.InsertMessage.ExecuteReader())
        {
            reader.Read();
            position = new InsertedMessage(reader.GetInt64(0), reader.GetInt64(1));
        }
        // The lane's row, with its first message. A statement of its own: as a trigger it doubled the cost of an insert,
        // since SQLite then keeps a statement journal of every page the insert touches.
        var lane = _statements.InsertLane.Parameters;
        lane["$i"].Value = p["$integration"].Value;
        lane["$ch"].Value = p["$channel"].Value;
        _statements.InsertLane.ExecuteNonQuery();
        return position;
    }

    public void RecordAttempt(AttemptRecord attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var p = _statements.InsertAttempt.Parameters;
        p["$m"].Value = attempt.MessageSeq;
        p["$started"].Value = Db(attempt.StartedUtc);
        p["$duration"].Value = attempt.DurationMs;
        p["$url"].Value = attempt.Url;
        p["$code"].Value = Db(attempt.StatusCode);
        p["$kind"].Value = Db(attempt.ErrorKind);
        p["$error"].Value = Db(attempt.Error);
        p["$body"].Value = Db(attempt.ResponseBody);
        _statements.InsertAttempt.ExecuteNonQuery();
    }

    /// <summary>Appended, not written over the message: its latest outcome is its state (migration 5).</summary>
    public void UpdateProgress(MessageProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var p = _statements.AppendOutcome.Parameters;
        p["$seq"].Value = progress.Seq;
        p["$status"].Value = progress.Status.ToString();
        p["$reason"].Value = Db(progress.StatusReason);
        p["$attempts"].Value = progress.AttemptCount;
        p["$next"].Value = Db(progress.NextAttemptUtc);
        p["$completed"].Value = Db(progress.CompletedUtc);
        _statements.AppendOutcome.ExecuteNonQuery();
    }

    public void SettleLane(DeliveryLane lane, long settledThroughQueueSeq)
    {
        var p = _statements.SettleLane.Parameters;
        p["$i"].Value = Db(lane.IntegrationId);
        p["$ch"].Value = lane.Channel.ToString();
        p["$through"].Value = settledThroughQueueSeq;
        _statements.SettleLane.ExecuteNonQuery();
    }

    public long Requeue(long seq)
    {
        Execute(_connection, _tx, "DELETE FROM outcomes WHERE message_seq = $seq", ("$seq", seq)); // its state is the row's again
        using var command = Command(_connection, _tx, """
            UPDATE messages SET status = 'Pending', status_reason = NULL, attempt_count = 0, next_attempt_utc = NULL,
                completed_utc = NULL, queue_seq = (SELECT COALESCE(MAX(queue_seq), 0) + 1 FROM messages)
            WHERE seq = $seq RETURNING queue_seq
            """, ("$seq", seq));
        return (long)command.ExecuteScalar()!;
    }

    public void AppendGeneralEvents(IReadOnlyList<GeneralEventRecord> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        // Whole chunks through the multi-row statement (one statement step per chunk, rowids ascend in VALUES order),
        // the rest row by row.
        var at = 0;
        for (; at + Statements.AppendChunk <= events.Count; at += Statements.AppendChunk)
        {
            Bind(_statements.AppendGeneralEvents, events, at, Statements.AppendChunk);
            _statements.AppendGeneralEvents.ExecuteNonQuery();
        }
        for (; at < events.Count; at++)
        {
            Bind(_statements.AppendGeneralEvent, events, at, 1);
            _statements.AppendGeneralEvent.ExecuteNonQuery();
        }
    }

    private static void Bind(SqliteCommand command, IReadOnlyList<GeneralEventRecord> events, int from, int count)
    {
        var p = command.Parameters;
        for (var i = 0; i < count; i++)
        {
            var e = events[from + i];
            p[(i * 5) + 0].Value = Db(e.EnterpriseId);
            p[(i * 5) + 1].Value = e.Discriminator;
            p[(i * 5) + 2].Value = Db(e.EntityId);
            p[(i * 5) + 3].Value = e.Entity is null ? DBNull.Value : e.Entity;
            p[(i * 5) + 4].Value = Db(e.CreatedUtc);
        }
    }

    public IReadOnlyList<GeneralEventRecord> LoadGeneralEvents(Guid enterpriseId, long afterSeq, int limit)
    {
        var command = _statements.LoadGeneralEvents;
        command.Parameters["$e"].Value = Db(enterpriseId);
        command.Parameters["$after"].Value = afterSeq;
        command.Parameters["$limit"].Value = limit;
        using var reader = command.ExecuteReader();
        var events = new List<GeneralEventRecord>();
        while (reader.Read())
        {
            events.Add(GeneralEvent(reader));
        }
        return events;
    }

    // One process, one writer: no append can be under way beside this transaction.
    public long LastGeneralEventSeq(Guid enterpriseId) => (long)_statements.LastGeneralEventSeq.ExecuteScalar()!;

    public long GeneralCursor(Guid integrationId)
    {
        _statements.GeneralCursor.Parameters["$id"].Value = Db(integrationId);
        return _statements.GeneralCursor.ExecuteScalar() is long cursor ? cursor : 0;
    }

    public void SetGeneralCursor(Guid integrationId, long seq)
    {
        _statements.SetGeneralCursor.Parameters["$id"].Value = Db(integrationId);
        _statements.SetGeneralCursor.Parameters["$seq"].Value = seq;
        _statements.SetGeneralCursor.ExecuteNonQuery();
    }

    public void TrimGeneralEvents(Guid enterpriseId)
    {
        _statements.TrimGeneralEvents.Parameters["$e"].Value = Db(enterpriseId);
        _statements.TrimGeneralEvents.ExecuteNonQuery();
    }

    public IReadOnlyList<GeneralRoute> ListGeneralRoutes(Guid enterpriseId)
    {
        _statements.ListGeneralRoutes.Parameters["$e"].Value = Db(enterpriseId);
        using var reader = _statements.ListGeneralRoutes.ExecuteReader();
        var routes = new List<GeneralRoute>();
        while (reader.Read())
        {
            routes.Add(new GeneralRoute(Id(reader, 0), EventSubscription.FromStorage(Text(reader, 1)), reader.GetBoolean(2),
                ContractVersion.Parse(reader.GetString(3))));
        }
        return routes;
    }

    public void DeleteIngest(Guid enterpriseId, string idempotencyKey) =>
        Execute(_connection, _tx, "DELETE FROM ingest_requests WHERE enterprise_id = $e AND idempotency_key = $k",
            ("$e", Db(enterpriseId)), ("$k", idempotencyKey));

    public IngestRecord? FindIngest(Guid enterpriseId, string idempotencyKey)
    {
        var p = _statements.FindIngest.Parameters;
        p["$e"].Value = Db(enterpriseId);
        p["$k"].Value = idempotencyKey;
        using var reader = _statements.FindIngest.ExecuteReader();
        return reader.Read()
            ? new IngestRecord(Id(reader, 0), reader.GetString(1), (byte[])reader.GetValue(2), (byte[])reader.GetValue(3), Time(reader, 4))
            : null;
    }

    public void InsertIngest(IngestRecord ingest)
    {
        ArgumentNullException.ThrowIfNull(ingest);
        var p = _statements.InsertIngest.Parameters;
        p["$e"].Value = Db(ingest.EnterpriseId);
        p["$k"].Value = ingest.IdempotencyKey;
        p["$h"].Value = ingest.RequestHash;
        p["$r"].Value = ingest.Response;
        p["$created"].Value = Db(ingest.CreatedUtc);
        _statements.InsertIngest.ExecuteNonQuery();
    }

    public RetentionPass DeleteExpiredMessages(long afterSeq, RetentionCutoffs cutoffs, int examine)
    {
        ArgumentNullException.ThrowIfNull(cutoffs);
        // The newest message stays: the next message's seq and queue position are numbered on from the highest ones kept.
        // Two statements: SQLite answers a lone MAX from the index's end, but two in one statement by reading the whole table.
        var maxSeq = (long)_statements.MaxSeq.ExecuteScalar()!;
        var maxQueueSeq = (long)_statements.MaxQueueSeq.ExecuteScalar()!;
        var select = _statements.ExamineForRetention;
        select.Parameters["$after"].Value = afterSeq;
        select.Parameters["$n"].Value = examine;
        var rows = new List<(long Seq, long QueueSeq, DateTimeOffset Created, string Status, DateTimeOffset? Completed)>(examine);
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                rows.Add((reader.GetInt64(0), reader.GetInt64(1), Time(reader, 2), reader.GetString(3), TimeOrNull(reader, 4)));
            }
        }
        var frontier = rows.FindIndex(r => r.Created >= cutoffs.Frontier);
        var examined = frontier < 0 ? rows : rows.Take(frontier).ToList();
        var expired = examined.Where(r => r.Seq != maxSeq && r.QueueSeq != maxQueueSeq && cutoffs.Expired(r.Status, r.Completed)).Select(r => r.Seq).ToList();
        if (expired.Count > 0)
        {
            var list = "[" + string.Join(",", expired) + "]";
            foreach (var delete in (SqliteCommand[])[_statements.DeleteExpiredAttempts, _statements.DeleteExpiredOutcomes, _statements.DeleteExpiredMessages])
            {
                delete.Parameters["$l"].Value = list;
                delete.ExecuteNonQuery();
            }
        }
        return new RetentionPass(examined.Count, expired.Count, examined.Count > 0 ? examined[^1].Seq : afterSeq,
            Done: frontier >= 0 || rows.Count < examine);
    }

    public int DeleteIngestsBefore(DateTimeOffset cutoff, int limit) =>
        Execute(_connection, _tx, """
            DELETE FROM ingest_requests WHERE (enterprise_id, idempotency_key) IN
                (SELECT enterprise_id, idempotency_key FROM ingest_requests WHERE created_utc < $cutoff ORDER BY created_utc LIMIT $n)
            """, ("$cutoff", Db(cutoff)), ("$n", limit))
        + Execute(_connection, _tx, """
            DELETE FROM idempotent_requests WHERE rowid IN
                (SELECT rowid FROM idempotent_requests WHERE created_utc < $cutoff ORDER BY created_utc LIMIT $n)
            """, ("$cutoff", Db(cutoff)), ("$n", limit));

    public void PublishWebSocketEvents(Guid enterpriseId, IReadOnlyList<WebSocketEvent> events)
    {
        // One process owns the file and publishes its own events.
    }

    public void AnnounceRetryNow(Guid clientId)
    {
        // One process owns the file and wakes its own lanes.
    }

    public int Heartbeat(string nodeId, DateTimeOffset now, DateTimeOffset liveSince)
    {
        Execute(_connection, _tx, "INSERT INTO nodes (node_id, seen_utc) VALUES ($n, $now) ON CONFLICT (node_id) DO UPDATE SET seen_utc = $now",
            ("$n", nodeId), ("$now", Db(now)));
        using var count = Command(_connection, _tx, "SELECT COUNT(*) FROM nodes WHERE seen_utc >= $since", ("$since", Db(liveSince)));
        return (int)(long)count.ExecuteScalar()!;
    }

    public int ForgetNodes(DateTimeOffset seenBefore) =>
        Execute(_connection, _tx, "DELETE FROM nodes WHERE seen_utc < $before", ("$before", Db(seenBefore)));

    public IReadOnlyList<int> RenewPartitions(string nodeId, DateTimeOffset until) =>
        Partitions("UPDATE partition_leases SET lease_until = $until WHERE node_id = $n RETURNING partition",
            ("$n", nodeId), ("$until", Db(until)));

    public IReadOnlyList<int> ClaimPartitions(string nodeId, int max, DateTimeOffset now, DateTimeOffset until) =>
        Partitions("""
            UPDATE partition_leases SET node_id = $n, lease_until = $until
            WHERE partition IN (SELECT partition FROM partition_leases WHERE node_id IS NULL OR lease_until < $now ORDER BY partition LIMIT $max)
            RETURNING partition
            """, ("$n", nodeId), ("$until", Db(until)), ("$now", Db(now)), ("$max", max));

    public void ReleasePartitions(string nodeId, IReadOnlyList<int> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        foreach (var partition in partitions)
        {
            Execute(_connection, _tx, "UPDATE partition_leases SET node_id = NULL, lease_until = NULL WHERE partition = $p AND node_id = $n",
                ("$p", partition), ("$n", nodeId));
        }
    }

    public void ResetPartitions() => Execute(_connection, _tx, "UPDATE partition_leases SET node_id = NULL, lease_until = NULL");

    private List<int> Partitions(string sql, params (string, object)[] parameters)
    {
        using var command = Command(_connection, _tx, sql, parameters);
        using var reader = command.ExecuteReader();
        var partitions = new List<int>();
        while (reader.Read())
        {
            partitions.Add(reader.GetInt32(0));
        }
        partitions.Sort();
        return partitions;
    }

    public void Flush()
    {
        // Every statement runs when called: an in-process library has no round trips to save.
    }

    // SQLite writes no page for an update that leaves it as it was; one that changes a row and changes it back does.
    public void Probe() => Execute(_connection, _tx, """
        UPDATE schema_migrations SET applied_utc = applied_utc + 1 WHERE version = (SELECT MAX(version) FROM schema_migrations);
        UPDATE schema_migrations SET applied_utc = applied_utc - 1 WHERE version = (SELECT MAX(version) FROM schema_migrations);
        """);

    // Reads are local calls here: nothing to save by reading ahead.
    public void ReadAhead(IReadOnlyList<Guid> integrationIds, IReadOnlyList<Guid> enterpriseIds)
    {
    }

    public void Savepoint() => _statements.Savepoint.ExecuteNonQuery();

    public void RollbackToSavepoint() => _statements.Rollback.ExecuteNonQuery();

    public void ReleaseSavepoint() => _statements.Release.ExecuteNonQuery();

    public void Commit() => _tx.Commit();

    public void Dispose() => _tx.Dispose();
}
