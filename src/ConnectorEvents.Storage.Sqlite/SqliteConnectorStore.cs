using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Microsoft.Data.Sqlite;
using static ConnectorEvents.Storage.Sqlite.SqliteRows;

namespace ConnectorEvents.Storage.Sqlite;

/// <summary>
/// The embedded provider: one SQLite file in WAL mode with <c>synchronous=FULL</c>, so a commit is on disk before
/// anyone is answered. Writes use one long-lived connection (the group-commit writer's thread); reads use pooled ones.
/// The database file is its owner's alone (0600); SQLite gives its log and shared-memory files the same mode.
/// </summary>
public sealed class SqliteConnectorStore : IConnectorStore
{
    private readonly string _connectionString;
    private readonly Lazy<SqliteConnection> _writeConnection;
    private readonly TimeSpan _checkpointInterval;
    private readonly CancellationTokenSource _stopping = new();
    private Thread? _checkpointer;
    private int _checkpointing;
    private int _restartDue;
    private SqliteWriteTransaction.Statements? _statements;
    private readonly SecretProtector _secrets;

    /// <param name="databasePath">The database file; created when missing.</param>
    /// <param name="secrets">Encrypts the secrets the database keeps.</param>
    /// <param name="checkpointInterval">How often committed log pages are copied into the database (200 ms by default).</param>
    public SqliteConnectorStore(string databasePath, SecretProtector secrets, TimeSpan? checkpointInterval = null)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        _secrets = secrets;
        _checkpointInterval = checkpointInterval ?? TimeSpan.FromMilliseconds(200);
        DatabasePath = databasePath;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _writeConnection = new Lazy<SqliteConnection>(Open);
    }

    public string DatabasePath { get; }

    public bool IsShared => false;

    // One process and one writer connection: nothing to contend with, so a failure says something real.
    public bool IsTransient(Exception exception) => false;

    // A file, not a connection: nothing to lose.
    public bool IsLostConnection(Exception exception) => false;

    // By SQLite's primary result code (the low byte of the extended one); never the message, which may name the file.
    public string? DescribeWriteFailure(Exception exception) => Classify(exception) is { } failure ? failure.Reason : null;

    // The failures of the file and the disk only; any other code may be a defect of ours.
    public string? DescribeUnavailable(Exception exception) => Classify(exception) is { Unavailable: true } failure ? failure.Reason : null;

    private static (string Reason, bool Unavailable)? Classify(Exception exception) =>
        (FindInChain<SqliteException>(exception)?.SqliteErrorCode & 0xFF) switch
        {
            13 => ("disk full", true),                           // SQLITE_FULL
            8 => ("read-only", true),                            // SQLITE_READONLY
            10 => ("disk I/O error", true),                      // SQLITE_IOERR
            14 => ("the database file cannot be opened", true),  // SQLITE_CANTOPEN
            11 or 26 => ("the database file is damaged", true),  // SQLITE_CORRUPT, SQLITE_NOTADB
            5 or 6 => ("the database is locked", true),          // SQLITE_BUSY, SQLITE_LOCKED
            18 or 19 or 20 or 25 => null,                        // TOOBIG, CONSTRAINT, MISMATCH, RANGE: the data, not the storage
            { } code => ($"SQLite error {code}", false),
            null => ("the write failed", false),
        };

    private static T? FindInChain<T>(Exception? exception) where T : Exception
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }
        return null;
    }

    /// <summary>The connection every write transaction uses (tests check its pragmas).</summary>
    internal SqliteConnection WriteConnection => _writeConnection.Value;

    public void Migrate()
    {
        SqliteConnection connection;
        try
        {
            RestrictFileModes();
            connection = _writeConnection.Value;
            Execute(connection, null, "PRAGMA journal_mode=WAL;");
        }
        catch (SqliteException ex)
        {
            // SQLite alone says "unable to open database file"; say which file, and the usual causes.
            throw new InvalidOperationException(
                $"The SQLite database {DatabasePath} cannot be opened for writing (SQLite error {ex.SqliteErrorCode}: " +
                $"{ex.Message}). Check that Storage:DataDirectory is writable and not full.", ex);
        }
        // Checkpoints move off the writer: by default SQLite runs one inside the commit that crosses 1,000 log pages,
        // which with batched writes is nearly every commit, and it stalls everybody waiting on that commit.
        Execute(connection, null, "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864;");
        // The writer touches pages all over a large outbox (a command's lane index entry and its integration's row lie
        // wherever they are): SQLite's default 2 MB page cache made it read most of them again from the OS on a backlog of
        // a million. 64 MB was chosen when outcomes still rewrote their messages; with outcomes appended 16 MB keeps the
        // drain's rate and a quarter of that memory (scenario 10).
        Execute(connection, null, "PRAGMA cache_size=-16384;");
        // How long the writer's log restart (see RestartLog) waits for readers of older pages to finish.
        Execute(connection, null, "PRAGMA busy_timeout=20;");
        if (_checkpointer is null)
        {
            // A thread of its own, not a timer: a checkpoint blocks in fsync, sometimes for hundreds of milliseconds, and on
            // a pool thread that stalls request handling until the pool injects another thread (about 0.5 s).
            _checkpointer = new Thread(RunCheckpoints) { IsBackground = true, Name = "ConnectorEvents SQLite checkpointer" };
            _checkpointer.Start();
        }
        // Migration 8 hashes the tokens kept before it.
        connection.CreateFunction("ce_sha256_hex", (string token) => TokenDigest.HashOf(token), isDeterministic: true);
        // No lock hook: each version's transaction takes SQLite's write lock, which serializes processes.
        SchemaMigrator.Migrate(connection, SqliteMigrations.All);
    }

    /// <summary>
    /// Creates the database file readable by its owner only, and takes that right back from group and others on files an
    /// older version left 0644: SQLite creates the log and shared-memory files with the database file's mode. A file this
    /// user may not change the mode of (another user's, in a folder shared on purpose) is left as it is.
    /// </summary>
    private void RestrictFileModes()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using var created = new FileStream(DatabasePath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = ownerOnly,
            });
        }
        catch (IOException) when (File.Exists(DatabasePath))
        {
            // There already (or another process made it just now): its mode is checked below.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"The SQLite database {DatabasePath} cannot be created ({ex.GetType().Name}). Check that Storage:DataDirectory is writable and not full.", ex);
        }
        foreach (var path in (string[])[DatabasePath, DatabasePath + "-wal", DatabasePath + "-shm"])
        {
            try
            {
                if (File.Exists(path) && (File.GetUnixFileMode(path) & ~ownerOnly) != 0)
                {
                    File.SetUnixFileMode(path, ownerOnly);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not this user's to change (or gone meanwhile): SQLite opens it or says why.
            }
        }
    }

    // Every statement runs when called: nothing is held back, so each unit's writes are always sent at its end.
    public IWriteTransaction BeginWrite(bool sendEachUnit = false)
    {
        var connection = _writeConnection.Value;
        if (Interlocked.Exchange(ref _restartDue, 0) == 1)
        {
            RestartLog(connection);
        }
        _statements ??= new SqliteWriteTransaction.Statements(connection);
        return new SqliteWriteTransaction(connection, _statements, _secrets);
    }

    public bool Ping()
    {
        try
        {
            using var connection = Open();
            using var command = Command(connection, null, "SELECT 1");
            return (long)command.ExecuteScalar()! == 1;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    public EnterpriseRecord? FindEnterprise(Guid id) => Read(c => SqliteRows.FindEnterprise(c, null, id));

    public IReadOnlyList<EnterpriseRecord> ListEnterprises(int limit, Guid? after) => Read(c => Many(c, null, Enterprise,
        $"SELECT {EnterpriseColumns} FROM enterprises WHERE ($after IS NULL OR id > $after) ORDER BY id LIMIT $limit",
        ("$after", Db(after)), ("$limit", limit)));

    public IReadOnlyList<ServiceRecord> ListServices(Guid enterpriseId) => Read(c => Many(c, null, Service,
        $"SELECT {ServiceColumns} FROM services WHERE enterprise_id = $e ORDER BY name, id", ("$e", Db(enterpriseId))));

    public ClientRecord? FindClient(Guid id) => Read(c => SqliteRows.FindClient(c, null, id, _secrets));

    public IReadOnlyList<ClientRecord> ListClients(int limit, Guid? after) => Read(c => Many(c, null, r => Client(r, _secrets),
        $"SELECT {ClientColumns} FROM clients WHERE ($after IS NULL OR id > $after) ORDER BY id LIMIT $limit",
        ("$after", Db(after)), ("$limit", limit)));

    public IReadOnlyList<SigningSecretRecord> ListSecrets(Guid clientId) => Read(c => Many(c, null, r => Secret(r, _secrets),
        $"SELECT {SecretColumns} FROM client_secrets WHERE client_id = $c ORDER BY created_utc DESC",
        ("$c", Db(clientId))));

    public IReadOnlyList<PublicSigningKey> ListPublicSigningKeys(IReadOnlyCollection<Guid> clientIds, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(clientIds);
        var ids = clientIds.Select((id, i) => ($"$c{i}", Db(id))).ToList();
        return ids.Count == 0 ? [] : Read(c => Many(c, null, r => new PublicSigningKey(Id(r, 0), r.GetString(1), Time(r, 2), TimeOrNull(r, 3)),
            $"""
            SELECT client_id, public_key, created_utc, expires_utc FROM client_secrets
            WHERE client_id IN ({string.Join(", ", ids.Select(p => p.Item1))}) AND public_key IS NOT NULL
              AND (expires_utc IS NULL OR expires_utc > $now)
            ORDER BY client_id, created_utc DESC
            """, [.. ids, ("$now", Db(now))]));
    }

    public IntegrationRecord? FindIntegration(Guid id) => Read(c => SqliteRows.FindIntegration(c, null, id));

    public IReadOnlyList<IntegrationRecord> ListIntegrations(IntegrationQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Read(c => Many(c, null, Integration,
            $"""
            SELECT {IntegrationColumns} FROM integrations
            WHERE ($e IS NULL OR enterprise_id = $e) AND ($c IS NULL OR client_id = $c) AND ($s IS NULL OR state = $s)
              AND ($after IS NULL OR id > $after)
            ORDER BY id LIMIT $limit
            """,
            ("$e", Db(query.EnterpriseId)), ("$c", Db(query.ClientId)), ("$s", Db(query.State?.ToString())),
            ("$after", Db(query.After)), ("$limit", query.Limit)));
    }

    /// <summary>
    /// An integration, a client or the pending messages with fewer messages than this are listed by reading all of them
    /// through an index and sorting: about 10 ms a page near this bound (bench scenario 10). With more, they are listed by
    /// reading the outbox backwards until the page is full, which is quick when they are that common. Failed and Skipped
    /// messages need no bound: their indexes give them newest first.
    /// </summary>
    private const int SortedThroughIndexBelow = 1024;

    /// <summary>
    /// The pending messages: only those above their lane's settled position (a requeue gives a message a new position).
    /// </summary>
    private const string PendingCandidates = """
        SELECT m.seq FROM lanes l CROSS JOIN messages m INDEXED BY ix_messages_lane
        WHERE m.integration_id = l.integration_id AND m.channel = l.channel AND m.queue_seq > l.settled_through
        """;

    public IReadOnlyList<MessageRecord> ListMessages(MessageQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        // Messages keep no index by client or integration (migration 6): the lane index, whose first column is the
        // integration, finds them, and an integration's client never changes.
        var ofIntegrations = query.IntegrationId is not null ? "m.integration_id = $i"
            : query.ClientId is not null ? "m.integration_id IN (SELECT id FROM integrations WHERE client_id = $c)"
            : null;
        (string, object) client = ("$c", Db(query.ClientId)), integration = ("$i", Db(query.IntegrationId));
        return Read(c =>
        {
            // Which rows to read, what picks the filter's out of them, and the column they come newest first by.
            var (rows, among, newestFirst) =
                ofIntegrations is not null && CountsFewerThan(c, $"SELECT 1 FROM messages m INDEXED BY ix_messages_lane WHERE {ofIntegrations}",
                    SortedThroughIndexBelow, client, integration)
                    ? ("messages m INDEXED BY ix_messages_lane", ofIntegrations, "m.seq")
                : query.Status switch
                {
                    // A message's state is its latest outcome, which no index holds, but the rare ones are (migration 7):
                    // a Failed outcome counts where it is its message's latest, and Skipped is a row's from its insert.
                    MessageStatus.Failed => ("outcomes f INDEXED BY ix_outcomes_failed CROSS JOIN messages m ON m.seq = f.message_seq",
                        "f.status = 'Failed' AND f.message_seq < $before AND o.id = f.id", "f.message_seq"),
                    MessageStatus.Skipped => ("messages m INDEXED BY ix_messages_skipped", "m.status = 'Skipped'", "m.seq"),
                    MessageStatus.Pending when CountsFewerThan(c, PendingCandidates, SortedThroughIndexBelow) =>
                        ($"({PendingCandidates}) AS pending CROSS JOIN messages m ON m.seq = pending.seq", "1", "m.seq"),
                    _ => ("messages m NOT INDEXED", "1", "m.seq"),
                };
            var (from, before) = query.Positions(time => FirstSeqCreatedAtOrAfter(c, time));
            return Many(c, null, r => Message(r, _secrets),
                $"""
                SELECT {MessageColumns} FROM {rows} {OutcomeOfMessage}
                WHERE {among} AND ($c IS NULL OR m.client_id = $c) AND ($i IS NULL OR m.integration_id = $i)
                  AND ($s IS NULL OR {EffectiveStatus} = $s) AND ($ch IS NULL OR m.channel = $ch)
                  AND m.seq >= $from AND m.seq < $before
                  AND ($createdFrom IS NULL OR m.created_utc >= $createdFrom) AND ($createdBefore IS NULL OR m.created_utc < $createdBefore)
                ORDER BY {newestFirst} DESC LIMIT $limit
                """, client, integration, ("$s", Db(query.Status?.ToString())), ("$ch", Db(query.Channel?.ToString())),
                ("$from", from), ("$before", before), ("$createdFrom", Db(query.CreatedFromUtc)), ("$createdBefore", Db(query.CreatedBeforeUtc)),
                ("$limit", query.Limit));
        });
    }

    /// <summary>
    /// The position of the first message created at or after <paramref name="time"/> (past the last when none is), found by
    /// a binary search over positions (creation times rise with them): some twenty reads by the primary key.
    /// </summary>
    private static long FirstSeqCreatedAtOrAfter(SqliteConnection c, DateTimeOffset time)
    {
        var low = 0L;
        var high = Many(c, null, r => r.IsDBNull(0) ? 0 : r.GetInt64(0), "SELECT MAX(seq) FROM messages")[0] + 1;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            var found = Many(c, null, r => (Seq: r.GetInt64(0), Created: Time(r, 1)),
                "SELECT seq, created_utc FROM messages WHERE seq >= $m ORDER BY seq LIMIT 1", ("$m", (object)middle));
            if (found is not [var next] || next.Created >= time)
            {
                high = middle;
            }
            else
            {
                low = next.Seq + 1;
            }
        }
        return low;
    }

    /// <summary>Whether <paramref name="rows"/> yields fewer than <paramref name="limit"/> rows, reading at most that many.</summary>
    private static bool CountsFewerThan(SqliteConnection connection, string rows, int limit, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, null, $"SELECT COUNT(*) FROM ({rows} LIMIT {limit})", parameters);
        return (long)command.ExecuteScalar()! < limit;
    }

    public MessageRecord? FindMessage(string id) => Read(c => SqliteRows.FindMessage(c, null, id, _secrets));

    public IReadOnlyList<AttemptRecord> ListAttempts(long messageSeq) => Read(c => Many(c, null,
        r => new AttemptRecord(r.GetInt64(0), r.GetInt32(1), Time(r, 2), r.GetDouble(3), r.GetString(4),
            r.IsDBNull(5) ? null : r.GetInt32(5), Text(r, 6), Text(r, 7), Text(r, 8)),
        """
        SELECT message_seq, attempt_number, started_utc, duration_ms, url, status_code, error_kind, error, response_body
        FROM attempts WHERE message_seq = $m ORDER BY id
        """, ("$m", messageSeq)));

    public ClientRecord? FindClientByTokenHash(string tokenHash) => Read(c => One(c, null, r => Client(r, _secrets),
        $"SELECT {ClientColumns} FROM clients WHERE client_token_hash = $t", ("$t", tokenHash)));

    public IntegrationRecord? FindIntegrationByAccessTokenHash(string tokenHash) => Read(c => One(c, null, Integration,
        $"SELECT {IntegrationColumns} FROM integrations WHERE access_token_hash = $t", ("$t", tokenHash)));

    public ApiKeyRecord? FindApiKeyByHash(string keyHash) => Read(c => One(c, null, ApiKey,
        $"SELECT {ApiKeyColumns} FROM api_keys WHERE key_hash = $h", ("$h", keyHash)));

    public IReadOnlyList<ApiKeyRecord> ListApiKeys() => Read(c => Many(c, null, ApiKey,
        $"SELECT {ApiKeyColumns} FROM api_keys ORDER BY created_utc, id"));

    public IReadOnlyList<PendingMessage> LoadPending(DeliveryLane lane, long afterQueueSeq, int limit) =>
        Read(c => LoadPending(c, lane, afterQueueSeq, limit));

    // One lane after another on one connection: SQLite has no round trips to save.
    public IReadOnlyList<PendingMessage> LoadPending(IReadOnlyList<LanePosition> lanes, int limitPerLane)
    {
        ArgumentNullException.ThrowIfNull(lanes);
        return Read(c => lanes.SelectMany(l => LoadPending(c, l.Lane, l.AfterQueueSeq, limitPerLane)).ToList());
    }

    private List<PendingMessage> LoadPending(SqliteConnection c, DeliveryLane lane, long afterQueueSeq, int limit) => Many(c, null, r => Pending(r, _secrets),
        $"""
        SELECT {PendingColumns} FROM {MessagesWithOutcome}
        WHERE m.integration_id = $i AND m.channel = $ch
          AND m.queue_seq > MAX($after, COALESCE((SELECT settled_through FROM lanes WHERE integration_id = $i AND channel = $ch), 0))
          AND {EffectiveStatus} = 'Pending'
        ORDER BY m.queue_seq LIMIT $limit
        """, ("$i", Db(lane.IntegrationId)), ("$ch", lane.Channel.ToString()), ("$after", afterQueueSeq), ("$limit", limit));

    public IReadOnlyList<DeliveryLane> ListLanesWithPending() => Read(c => Many(c, null,
        r => new DeliveryLane(Id(r, 0), Enum.Parse<WebhookChannel>(r.GetString(1))),
        $"""
        SELECT l.integration_id, l.channel FROM lanes l
        WHERE EXISTS (SELECT 1 FROM {MessagesWithOutcome}
            WHERE m.integration_id = l.integration_id AND m.channel = l.channel AND m.queue_seq > l.settled_through
              AND {EffectiveStatus} = 'Pending')
        """));

    public IReadOnlyList<RecentAttempt> ListRecentAttempts(Guid clientId, WebhookChannel channel, int limit) => Read(c => Many(c, null,
        r => new RecentAttempt(Time(r, 0), r.GetDouble(1), r.IsDBNull(2) ? null : r.GetInt32(2), r.IsDBNull(3) ? null : r.GetString(3)),
        // Messages keep no index by client (migration 6): the attempts are read newest first, a bounded way back.
        """
        SELECT a.started_utc, a.duration_ms, a.status_code, a.error_kind FROM attempts a
        CROSS JOIN messages m ON m.seq = a.message_seq
        WHERE a.id > (SELECT COALESCE(MAX(id), 0) FROM attempts) - 100000 AND m.client_id = $c AND m.channel = $ch
        ORDER BY a.id DESC LIMIT $limit
        """, ("$c", Db(clientId)), ("$ch", channel.ToString()), ("$limit", limit)));

    public IReadOnlyList<EndpointTally> TallyRecentAttempts(int lookBack) => Read(c => Many(c, null,
        r => new EndpointTally(Id(r, 0), Enum.Parse<WebhookChannel>(r.GetString(1)), r.GetInt32(2), r.GetInt32(3), TimeOrNull(r, 4), TimeOrNull(r, 5)),
        """
        SELECT m.client_id, m.channel, COUNT(*), SUM(a.failed), MAX(CASE WHEN a.failed = 1 THEN a.started_utc END),
               MAX(CASE WHEN a.failed = 0 THEN a.started_utc END)
        FROM (SELECT message_seq, started_utc, CASE WHEN status_code BETWEEN 200 AND 299 THEN 0 ELSE 1 END AS failed
              FROM attempts ORDER BY id DESC LIMIT $n) a
        CROSS JOIN messages m ON m.seq = a.message_seq
        GROUP BY m.client_id, m.channel
        """, ("$n", lookBack)));

    public IReadOnlyList<MessageRecord> ListFailedMessages(FailedMessageQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        // Through the Failed outcomes (rare, indexed; migration 7 gave every Failed message one), each its message's latest.
        return Read(c => Many(c, null, r => Message(r, _secrets),
            $"""
            SELECT {MessageColumns} FROM outcomes f INDEXED BY ix_outcomes_failed CROSS JOIN messages m ON m.seq = f.message_seq {OutcomeOfMessage}
            WHERE f.status = 'Failed' AND o.id = f.id
              AND ($c IS NULL OR m.client_id = $c) AND ($i IS NULL OR m.integration_id = $i) AND ($ch IS NULL OR m.channel = $ch)
              AND m.created_utc >= $since AND m.created_utc < $until
            ORDER BY m.seq LIMIT $limit
            """, ("$c", Db(query.ClientId)), ("$i", Db(query.IntegrationId)), ("$ch", (object?)query.Channel?.ToString() ?? DBNull.Value),
            ("$since", Db(query.SinceUtc)), ("$until", Db(query.UntilUtc)), ("$limit", query.Limit)));
    }

    public IReadOnlyList<(WebhookChannel Channel, long Pending, DateTimeOffset OldestCreatedUtc)> MeasureBacklog() => Read(c => Many(c, null,
        r => (Enum.Parse<WebhookChannel>(r.GetString(0)), r.GetInt64(1), Time(r, 2)),
        $"""
        SELECT m.channel, COUNT(*), MIN(m.created_utc) FROM lanes l
        JOIN messages m ON m.integration_id = l.integration_id AND m.channel = l.channel AND m.queue_seq > l.settled_through
        {OutcomeOfMessage}
        WHERE {EffectiveStatus} = 'Pending'
        GROUP BY m.channel
        """));

    public IReadOnlyList<Guid> ListIntegrationsWithUnformedEvents() => Read(c => Many(c, null, r => Id(r, 0),
        """
        SELECT i.id FROM integrations i
        WHERE i.state = 'Enabled' AND EXISTS (SELECT 1 FROM general_events g WHERE g.enterprise_id = i.enterprise_id AND g.seq > i.general_cursor)
        """));

    public IReadOnlyList<PartitionLeaseRecord> ListPartitionLeases() => Read(c => Many(c, null,
        r => new PartitionLeaseRecord(r.GetInt32(0), Text(r, 1), TimeOrNull(r, 2)),
        "SELECT partition, node_id, lease_until FROM partition_leases ORDER BY partition"));

    public IReadOnlyList<NodeRecord> ListNodes() => Read(c => Many(c, null,
        r => new NodeRecord(r.GetString(0), Time(r, 1)),
        "SELECT node_id, seen_utc FROM nodes ORDER BY node_id"));

    public long MaxQueueSeq() => Read(c =>
    {
        using var command = Command(c, null, "SELECT COALESCE(MAX(queue_seq), 0) FROM messages");
        return (long)command.ExecuteScalar()!;
    });

    private T Read<T>(Func<SqliteConnection, T> query)
    {
        using var connection = Open();
        return query(connection);
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, null, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
        return connection;
    }

    /// <summary>
    /// Copies committed log pages into the database on a connection of its own. PASSIVE never waits for, nor blocks,
    /// the writer or readers; what it cannot copy yet it copies next time.
    /// </summary>
    private void RunCheckpoints()
    {
        while (!_stopping.Token.WaitHandle.WaitOne(_checkpointInterval))
        {
            Checkpoint();
        }
    }

    internal void Checkpoint()
    {
        if (Interlocked.Exchange(ref _checkpointing, 1) == 1)
        {
            return;
        }
        try
        {
            using var connection = Open();
            using var command = Command(connection, null, "PRAGMA wal_checkpoint(PASSIVE);");
            if (CopyLog(command) >= RestartLogFrames)
            {
                // The writer's restart copies whatever is still to copy, and every command behind it waits: after one pass that
                // is all that was committed while the pass ran (5–15 ms of writes), after a second only what came during that
                // one. Bench scenario 12 with the restarts timed (two runs each): they held the writer 29–49 ms per 10 s of
                // commands at 1,000/s instead of 78–80 ms, and while the retention sweep deleted, 51–58 ms instead of 106–126 ms.
                CopyLog(command);
                Volatile.Write(ref _restartDue, 1);
            }
        }
        catch (SqliteException)
        {
            // Busy or read-only: the log keeps the pages and the next tick tries again.
        }
        finally
        {
            Volatile.Write(ref _checkpointing, 0);
        }
    }

    /// <summary>Runs a checkpoint; returns the log's length in pages.</summary>
    private static long CopyLog(SqliteCommand checkpoint)
    {
        using var reader = checkpoint.ExecuteReader();
        return reader.Read() ? reader.GetInt64(1) : 0;
    }

    /// <summary>The log length (in pages) past which the writer starts it over: 16 MB.</summary>
    internal const int RestartLogFrames = 4096;

    /// <summary>
    /// On the writer's connection, between two transactions: copies what the background pass could not (pages committed
    /// meanwhile) and starts the log over from its beginning. SQLite restarts the log only once every frame is in the
    /// database and no reader still uses one, which under steady writes and reads never happens by itself: the log grew by
    /// every commit (1.3 GB beside a 43 MB database over 100,000 API commands), and each commit extended the file, so the
    /// kernel zeroed fresh pages for it (a third of the writer's time) and a restart after a crash had it all to read.
    /// </summary>
    private static void RestartLog(SqliteConnection connection)
    {
        try
        {
            Execute(connection, null, "PRAGMA wal_checkpoint(RESTART);");
        }
        catch (SqliteException)
        {
            // Busy or read-only: the log keeps its pages, and the next background pass asks again.
        }
    }

    public void Dispose()
    {
        _stopping.Cancel(); // not disposed: a second Dispose must still find it
        _checkpointer?.Join(TimeSpan.FromSeconds(5));
        _statements?.Dispose();
        if (_writeConnection.IsValueCreated)
        {
            _writeConnection.Value.Dispose();
        }
        SqliteConnection.ClearAllPools();
    }
}
