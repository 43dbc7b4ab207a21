using System.Data;
using System.Diagnostics;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Npgsql;
using static ConnectorEvents.Storage.Postgres.PostgresRows;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>
/// The shared provider: one PostgreSQL database that several server processes use at once. Writes use one dedicated
/// connection that the group-commit writer's thread keeps; reads use pooled ones. Each write transaction announces
/// what it changed to the other processes (<c>NOTIFY</c>, see <see cref="PostgresChangeFeed"/>).
/// </summary>
public sealed class PostgresConnectorStore : IConnectorStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _migrationConnectionString;
    private readonly string _nodeId;
    private readonly SecretProtector _secrets;
    private NpgsqlConnection? _writeConnection;

    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="nodeId">This process's node id: the sender of its change announcements.</param>
    /// <param name="secrets">Encrypts the secrets the database keeps.</param>
    public PostgresConnectorStore(string connectionString, string nodeId, SecretProtector secrets, TimeSpan? commandTimeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        ArgumentNullException.ThrowIfNull(secrets);
        _secrets = secrets;
        if (nodeId.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException("A node id is one line.", nameof(nodeId));
        }
        _nodeId = nodeId;
        // Hot statements get prepared server-side once per connection instead of being planned on every batch.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 64, AutoPrepareMinUsages = 2 };
        // No JIT: a statement here reads a few rows per lane, but the estimate for every lane at once passes jit_above_cost,
        // and compiling took 0.8 s for the backlog's 40 ms count over 1,000,000 messages (PostgreSQL 15).
        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? "-c jit=off" : $"{builder.Options} -c jit=off";
        // Migrations may run long on a large database, and wait for another process's migration: no time-out for them.
        _migrationConnectionString = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { CommandTimeout = 0 }.ConnectionString;
        if (commandTimeout is { } timeout)
        {
            // A frozen database (stopped, its disk hung) fails statements and connection attempts after this, not minutes.
            var seconds = (int)Math.Ceiling(timeout.TotalSeconds);
            builder.CommandTimeout = seconds;
            builder.Timeout = Math.Min(seconds, builder.Timeout);
        }
        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        // Unpooled: after a cut, the pool's idle connections may be cut too.
        _resolveConnectionString = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false }.ConnectionString;
        _resolveWithin = commandTimeout ?? TimeSpan.FromSeconds(30);
    }

    private readonly string _resolveConnectionString;
    private readonly TimeSpan _resolveWithin;

    // This store's writer, in commit_marks; new with each process, so no other writer's commits move its row.
    private readonly Guid _writer = Guid.NewGuid();

    /// <summary>
    /// The fate of a group whose COMMIT was sent but whose answer was lost, asked on a fresh connection: true committed,
    /// false not, null when the database could not be asked within the command time-out. While the old backend lives its
    /// transaction may still commit (the COMMIT under way) or wait (the COMMIT never arrived): it is ended, which aborts
    /// what did not commit, and once it is gone the writer's mark says which it was.
    /// </summary>
    private bool? ResolveCommit(long mark, int backendProcessId)
    {
        var started = Stopwatch.GetTimestamp();
        var pause = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            try
            {
                using var connection = new NpgsqlConnection(_resolveConnectionString);
                connection.Open();
                var alive = Scalar(connection, null, """
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE pid = @p AND datname = current_database() AND usename = current_user
                    """, ("p", backendProcessId)) is not null;
                if (!alive)
                {
                    return Scalar(connection, null, "SELECT mark FROM commit_marks WHERE writer = @w", ("w", _writer)) is long written
                        && written == mark;
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
            }
            if (Stopwatch.GetElapsedTime(started) + pause > _resolveWithin)
            {
                return null;
            }
            Thread.Sleep(pause);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromMilliseconds(500).Ticks));
        }
    }

    public bool IsShared => true;

    /// <summary>Why <paramref name="connectionString"/> cannot be used, or null; never repeats any part of it (it may hold a password).</summary>
    public static string? CheckConnectionString(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return "Storage:Provider is Postgres but ConnectionStrings:Postgres is not set.";
        }
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            return string.IsNullOrWhiteSpace(builder.Host) ? "ConnectionStrings:Postgres names no Host." : null;
        }
        catch (ArgumentException)
        {
            return "ConnectionStrings:Postgres is not a PostgreSQL connection string (Key=Value pairs separated by ';', e.g. Host=…;Database=…;Username=…).";
        }
    }

    public string NodeId => _nodeId;

    public void Migrate()
    {
        using var connection = new NpgsqlConnection(_migrationConnectionString);
        connection.Open();
        SchemaMigrator.Migrate(connection, PostgresMigrations.All, TakeMigrationLock);
    }

    private static IDisposable TakeMigrationLock(System.Data.Common.DbConnection connection)
    {
        var npgsql = (NpgsqlConnection)connection;
        Execute(npgsql, null, "SELECT pg_advisory_lock(@k)", ("k", PostgresMigrations.MigrationLockKey));
        return new Unlock(npgsql);
    }

    private sealed class Unlock(NpgsqlConnection connection) : IDisposable
    {
        public void Dispose() => Execute(connection, null, "SELECT pg_advisory_unlock(@k)", ("k", PostgresMigrations.MigrationLockKey));
    }

    public IWriteTransaction BeginWrite(bool sendEachUnit = false)
    {
        // Called from the writer thread only. A connection that broke (server restart, network) is replaced. One cut while
        // idle still says Open: the write that finds out fails before its COMMIT and runs again (IsLostConnection).
        if (_writeConnection is { State: not ConnectionState.Open })
        {
            _writeConnection.Dispose();
            _writeConnection = null;
        }
        _writeConnection ??= _dataSource.OpenConnection();
        return new PostgresWriteTransaction(_writeConnection, _nodeId, _secrets, _writer, IsLostConnection, ResolveCommit) { SendEachUnit = sendEachUnit };
    }

    public bool Ping()
    {
        try
        {
            using var connection = _dataSource.OpenConnection();
            return Scalar(connection, null, "SELECT 1") is 1;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    public EnterpriseRecord? FindEnterprise(Guid id) => Read(c => PostgresRows.FindEnterprise(c, null, id));

    public IReadOnlyList<EnterpriseRecord> ListEnterprises(int limit, Guid? after) => Read(c => Many(c, null, Enterprise,
        $"SELECT {EnterpriseColumns} FROM enterprises WHERE (@after::uuid IS NULL OR id > @after) ORDER BY id LIMIT @limit",
        ("after", Db(after)), ("limit", limit)));

    public IReadOnlyList<ServiceRecord> ListServices(Guid enterpriseId) => Read(c => Many(c, null, Service,
        $"SELECT {ServiceColumns} FROM services WHERE enterprise_id = @e ORDER BY name COLLATE \"C\", id", ("e", enterpriseId)));

    public ClientRecord? FindClient(Guid id) => Read(c => PostgresRows.FindClient(c, null, id, _secrets));

    public IReadOnlyList<ClientRecord> ListClients(int limit, Guid? after) => Read(c => Many(c, null, r => Client(r, _secrets),
        $"SELECT {ClientColumns} FROM clients WHERE (@after::uuid IS NULL OR id > @after) ORDER BY id LIMIT @limit",
        ("after", Db(after)), ("limit", limit)));

    public IReadOnlyList<SigningSecretRecord> ListSecrets(Guid clientId) => Read(c => Many(c, null, r => Secret(r, _secrets),
        $"SELECT {SecretColumns} FROM client_secrets WHERE client_id = @c ORDER BY created_utc DESC",
        ("c", clientId)));

    public IReadOnlyList<PublicSigningKey> ListPublicSigningKeys(IReadOnlyCollection<Guid> clientIds, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(clientIds);
        return clientIds.Count == 0 ? [] : Read(c => Many(c, null, r => new PublicSigningKey(r.GetGuid(0), r.GetString(1), Time(r, 2), TimeOrNull(r, 3)),
            """
            SELECT client_id, public_key, created_utc, expires_utc FROM client_secrets
            WHERE client_id = ANY(@ids) AND public_key IS NOT NULL AND (expires_utc IS NULL OR expires_utc > @now)
            ORDER BY client_id, created_utc DESC
            """, ("ids", clientIds.ToArray()), ("now", Db(now))));
    }

    public IntegrationRecord? FindIntegration(Guid id) => Read(c => PostgresRows.FindIntegration(c, null, id));

    public IReadOnlyList<IntegrationRecord> ListIntegrations(IntegrationQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Read(c => Many(c, null, Integration,
            $"""
            SELECT {IntegrationColumns} FROM integrations
            WHERE (@e::uuid IS NULL OR enterprise_id = @e) AND (@c::uuid IS NULL OR client_id = @c) AND (@s::text IS NULL OR state = @s)
              AND (@after::uuid IS NULL OR id > @after)
            ORDER BY id LIMIT @limit
            """,
            ("e", Db(query.EnterpriseId)), ("c", Db(query.ClientId)), ("s", Db(query.State?.ToString())),
            ("after", Db(query.After)), ("limit", query.Limit)));
    }

    public IReadOnlyList<MessageRecord> ListMessages(MessageQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        // A message's state is its latest outcome, which no index holds; the rare states are found through their own.
        var (rows, among) = query.Status switch
        {
            MessageStatus.Pending => ($"{EveryLane} CROSS JOIN LATERAL (SELECT m.* FROM messages m WHERE {PendingOfLane} OFFSET 0) m", "TRUE"),
            MessageStatus.Failed => ("outcomes f JOIN messages m ON m.seq = f.message_seq", "f.status = 'Failed' AND o.id = f.id"),
            MessageStatus.Skipped => ("messages m", "m.status = 'Skipped'"),
            _ => ("messages m", "TRUE"),
        };
        return Read(c =>
        {
            var (from, before) = query.Positions(time => FirstSeqCreatedAtOrAfter(c, time));
            return Many(c, null, r => Message(r, _secrets),
                $"""
                SELECT {MessageColumns} FROM {rows} {OutcomeOfMessage}
                WHERE {among} AND (@c::uuid IS NULL OR m.client_id = @c) AND (@i::uuid IS NULL OR m.integration_id = @i)
                  AND (@s::text IS NULL OR {EffectiveStatus} = @s) AND (@ch::text IS NULL OR m.channel = @ch)
                  AND m.seq >= @from AND m.seq < @before
                  AND (@createdFrom::timestamptz IS NULL OR m.created_utc >= @createdFrom)
                  AND (@createdBefore::timestamptz IS NULL OR m.created_utc < @createdBefore)
                ORDER BY m.seq DESC LIMIT @limit
                """,
                ("c", Db(query.ClientId)), ("i", Db(query.IntegrationId)), ("s", Db(query.Status?.ToString())),
                ("ch", Db(query.Channel?.ToString())), ("from", from), ("before", before),
                ("createdFrom", Db(query.CreatedFromUtc)), ("createdBefore", Db(query.CreatedBeforeUtc)), ("limit", query.Limit));
        });
    }

    /// <summary>
    /// The position of the first message created at or after <paramref name="time"/> (past the last when none is), found by
    /// a binary search over positions (creation times rise with them): some twenty reads by the primary key, one statement.
    /// </summary>
    private static long FirstSeqCreatedAtOrAfter(NpgsqlConnection c, DateTimeOffset time) =>
        (long)Scalar(c, null,
            """
            WITH RECURSIVE search(low, high) AS (
                SELECT 0::bigint, COALESCE((SELECT MAX(seq) FROM messages), 0) + 1
                UNION ALL
                SELECT CASE WHEN n.seq IS NULL OR n.created_utc >= @t THEN s.low ELSE n.seq + 1 END,
                       CASE WHEN n.seq IS NULL OR n.created_utc >= @t THEN s.low + (s.high - s.low) / 2 ELSE s.high END
                FROM search s
                LEFT JOIN LATERAL (SELECT seq, created_utc FROM messages WHERE seq >= s.low + (s.high - s.low) / 2 ORDER BY seq LIMIT 1) n ON TRUE
                WHERE s.low < s.high
            )
            SELECT MAX(low) FROM search
            """, ("t", Db(time)))!;

    public MessageRecord? FindMessage(string id) => Read(c => PostgresRows.FindMessage(c, null, id, _secrets));

    public IReadOnlyList<AttemptRecord> ListAttempts(long messageSeq) => Read(c => Many(c, null,
        r => new AttemptRecord(r.GetInt64(0), r.GetInt32(1), Time(r, 2), r.GetDouble(3), r.GetString(4),
            r.IsDBNull(5) ? null : r.GetInt32(5), Text(r, 6), Text(r, 7), Text(r, 8)),
        """
        SELECT message_seq, attempt_number, started_utc, duration_ms, url, status_code, error_kind, error, response_body
        FROM attempts WHERE message_seq = @m ORDER BY id
        """, ("m", messageSeq)));

    public ClientRecord? FindClientByTokenHash(string tokenHash) => Read(c => One(c, null, r => Client(r, _secrets),
        $"SELECT {ClientColumns} FROM clients WHERE client_token_hash = @t", ("t", tokenHash)));

    public IntegrationRecord? FindIntegrationByAccessTokenHash(string tokenHash) => Read(c => One(c, null, Integration,
        $"SELECT {IntegrationColumns} FROM integrations WHERE access_token_hash = @t", ("t", tokenHash)));

    public ApiKeyRecord? FindApiKeyByHash(string keyHash) => Read(c => One(c, null, ApiKey,
        $"SELECT {ApiKeyColumns} FROM api_keys WHERE key_hash = @h", ("h", keyHash)));

    public IReadOnlyList<ApiKeyRecord> ListApiKeys() => Read(c => Many(c, null, ApiKey,
        $"SELECT {ApiKeyColumns} FROM api_keys ORDER BY created_utc, id"));

    public IReadOnlyList<PendingMessage> LoadPending(DeliveryLane lane, long afterQueueSeq, int limit) =>
        LoadPending([new LanePosition(lane, afterQueueSeq)], limit);

    // Per lane (LATERAL), each from its settled position on: the index range of each lane, in one round trip for them all.
    public IReadOnlyList<PendingMessage> LoadPending(IReadOnlyList<LanePosition> lanes, int limitPerLane)
    {
        ArgumentNullException.ThrowIfNull(lanes);
        return Read(c =>
        {
            using var command = Command(c, null, $"""
                SELECT {PendingColumns} FROM unnest(@li, @lc, @la) AS q(i, ch, after)
                CROSS JOIN LATERAL (
                    SELECT m.* FROM messages m
                    WHERE m.integration_id = q.i AND m.channel = q.ch AND m.status = 'Pending' AND NOT {Settled}
                      AND m.queue_seq > GREATEST(q.after,
                          COALESCE((SELECT settled_through FROM lanes WHERE integration_id = q.i AND channel = q.ch), 0))
                    ORDER BY m.queue_seq LIMIT @limit) m
                {OutcomeOfMessage}
                ORDER BY m.queue_seq
                """);
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("li", [.. lanes.Select(l => l.Lane.IntegrationId)]));
            command.Parameters.Add(new NpgsqlParameter<string[]>("lc", [.. lanes.Select(l => l.Lane.Channel.ToString())]));
            command.Parameters.Add(new NpgsqlParameter<long[]>("la", [.. lanes.Select(l => l.AfterQueueSeq)]));
            command.Parameters.Add(new NpgsqlParameter<int>("limit", limitPerLane));
            using var reader = command.ExecuteReader();
            var pending = new List<PendingMessage>();
            while (reader.Read())
            {
                pending.Add(Pending(reader, _secrets));
            }
            return pending;
        });
    }

    public IReadOnlyList<DeliveryLane> ListLanesWithPending() => Read(c => Many(c, null,
        r => new DeliveryLane(r.GetGuid(0), Enum.Parse<WebhookChannel>(r.GetString(1))),
        $"SELECT i.id, c.channel FROM {EveryLane} CROSS JOIN LATERAL (SELECT 1 FROM messages m WHERE {PendingOfLane} AND NOT {Settled} LIMIT 1) p"));

    public IReadOnlyList<Guid> ListIntegrationsWithUnformedEvents() => Read(c => Many(c, null, r => r.GetGuid(0),
        """
        SELECT i.id FROM integrations i
        WHERE i.state = 'Enabled' AND EXISTS (SELECT 1 FROM general_events g WHERE g.enterprise_id = i.enterprise_id AND g.seq > i.general_cursor)
        """));

    public IReadOnlyList<RecentAttempt> ListRecentAttempts(Guid clientId, WebhookChannel channel, int limit) => Read(c => Many(c, null,
        r => new RecentAttempt(Time(r, 0), r.GetDouble(1), r.IsDBNull(2) ? null : r.GetInt32(2), r.IsDBNull(3) ? null : r.GetString(3)),
        """
        SELECT a.started_utc, a.duration_ms, a.status_code, a.error_kind FROM attempts a
        JOIN (SELECT seq FROM messages WHERE client_id = @c AND channel = @ch ORDER BY seq DESC LIMIT 2000) recent
          ON a.message_seq = recent.seq
        ORDER BY a.id DESC LIMIT @limit
        """, ("c", clientId), ("ch", channel.ToString()), ("limit", limit)));

    public IReadOnlyList<EndpointTally> TallyRecentAttempts(int lookBack) => Read(c => Many(c, null,
        r => new EndpointTally(r.GetGuid(0), Enum.Parse<WebhookChannel>(r.GetString(1)), (int)r.GetInt64(2), (int)r.GetInt64(3),
            TimeOrNull(r, 4), TimeOrNull(r, 5)),
        """
        SELECT m.client_id, m.channel, COUNT(*), COUNT(*) FILTER (WHERE a.failed), MAX(a.started_utc) FILTER (WHERE a.failed),
               MAX(a.started_utc) FILTER (WHERE NOT a.failed)
        FROM (SELECT message_seq, started_utc, status_code IS NULL OR status_code NOT BETWEEN 200 AND 299 AS failed
              FROM attempts ORDER BY id DESC LIMIT @n) a
        JOIN messages m ON m.seq = a.message_seq
        GROUP BY m.client_id, m.channel
        """, ("n", lookBack)));

    public IReadOnlyList<MessageRecord> ListFailedMessages(FailedMessageQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Read(c => Many(c, null, r => Message(r, _secrets),
            $"""
            SELECT {MessageColumns} FROM outcomes f JOIN messages m ON m.seq = f.message_seq {OutcomeOfMessage}
            WHERE f.status = 'Failed' AND o.id = f.id
              AND (@c::uuid IS NULL OR m.client_id = @c) AND (@i::uuid IS NULL OR m.integration_id = @i)
              AND (@ch::text IS NULL OR m.channel = @ch) AND m.created_utc >= @since AND m.created_utc < @until
            ORDER BY m.seq LIMIT @limit
            """, ("c", Db(query.ClientId)), ("i", Db(query.IntegrationId)), ("ch", (object?)query.Channel?.ToString() ?? DBNull.Value),
            ("since", query.SinceUtc), ("until", query.UntilUtc), ("limit", query.Limit)));
    }

    public IReadOnlyList<(WebhookChannel Channel, long Pending, DateTimeOffset OldestCreatedUtc)> MeasureBacklog() => Read(c => Many(c, null,
        r => (Enum.Parse<WebhookChannel>(r.GetString(0)), r.GetInt64(1), Time(r, 2)),
        $"""
        SELECT c.channel, SUM(p.n)::bigint, MIN(p.oldest) FROM {EveryLane}
        CROSS JOIN LATERAL (SELECT COUNT(*) AS n, MIN(m.created_utc) AS oldest FROM messages m WHERE {PendingOfLane} AND NOT {Settled}) p
        WHERE p.n > 0
        GROUP BY c.channel
        """));

    public long MaxQueueSeq() => Read(c => (long)Scalar(c, null, "SELECT COALESCE(MAX(queue_seq), 0) FROM messages")!);

    public IReadOnlyList<PartitionLeaseRecord> ListPartitionLeases() => Read(c => Many(c, null,
        r => new PartitionLeaseRecord(r.GetInt32(0), Text(r, 1), TimeOrNull(r, 2)),
        "SELECT partition, node_id, lease_until FROM partition_leases ORDER BY partition"));

    public IReadOnlyList<NodeRecord> ListNodes() => Read(c => Many(c, null,
        r => new NodeRecord(r.GetString(0), Time(r, 1)),
        "SELECT node_id, seen_utc FROM nodes ORDER BY node_id"));

    // Only failures that undid the work for sure: a row another process holds (NOWAIT), a deadlock, a serialization
    // failure. Not a lost connection: it may have lost the answer to a commit that happened, and running that work
    // again would apply it twice.
    public bool IsTransient(Exception exception) =>
        exception is PostgresException
        {
            SqlState: PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure,
        };

    // Npgsql marks network failures and time-outs transient; a server that closed the session on purpose says so by SQLSTATE.
    public bool IsLostConnection(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown } or NpgsqlException { IsTransient: true }
                and not PostgresException)
            {
                return true;
            }
        }
        return false;
    }

    // By SQLSTATE and exception type; never the message, which may name the host or the user.
    public string? DescribeWriteFailure(Exception exception) => Classify(exception) is { } failure ? failure.Reason : null;

    // An unknown error of the database may be a defect of ours, not its being unavailable.
    public string? DescribeUnavailable(Exception exception) => Classify(exception) is { Unavailable: true } failure ? failure.Reason : null;

    /// <summary>The failure in a few words, and whether it is the database being unavailable; null when it lies in the data.</summary>
    private static (string Reason, bool Unavailable)? Classify(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException { SqlState: PostgresErrorCodes.DiskFull }:
                    return ("disk full", true);
                case PostgresException { SqlState: PostgresErrorCodes.ReadOnlySqlTransaction }:
                    return ("read-only", true);
                case PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
                    or PostgresErrorCodes.CannotConnectNow }:
                    return (Unreachable, true);
                case PostgresException p when p.SqlState.StartsWith("22", StringComparison.Ordinal) || p.SqlState.StartsWith("23", StringComparison.Ordinal):
                    return null; // data or integrity: the data, not the storage
                case PostgresException p when p.SqlState.StartsWith("08", StringComparison.Ordinal):
                    return (Unreachable, true);
                case PostgresException p when p.SqlState.StartsWith("53", StringComparison.Ordinal):
                    return ("the database is out of resources", true);
                case PostgresException p:
                    return ($"PostgreSQL error {p.SqlState}", false);
                case System.Net.Sockets.SocketException or TimeoutException or IOException or EndOfStreamException:
                    return (Unreachable, true);
            }
        }
        return exception is NpgsqlException ? (Unreachable, true) : ("the write failed", false);
    }

    private const string Unreachable = "database unreachable";

    private T Read<T>(Func<NpgsqlConnection, T> query)
    {
        using var connection = _dataSource.OpenConnection();
        return query(connection);
    }

    public void Dispose()
    {
        _writeConnection?.Dispose();
        _writeConnection = null;
        _dataSource.Dispose();
    }
}
