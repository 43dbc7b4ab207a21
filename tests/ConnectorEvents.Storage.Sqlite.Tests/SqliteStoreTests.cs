using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Microsoft.Data.Sqlite;
using ConnectorEvents.Storage.Compliance;
using Xunit;

namespace ConnectorEvents.Storage.Sqlite.Tests;

/// <summary>What only the SQLite provider promises: WAL, fsync on commit, a file that many instances can migrate.</summary>
public sealed class SqliteStoreTests : IDisposable
{
    private static readonly SecretProtector Secrets = new(System.Security.Cryptography.RandomNumberGenerator.GetBytes(SecretProtector.KeySize));

    private readonly TemporaryFolder _folder = new();

    private string DatabasePath => Path.Combine(_folder.Path, "connector.db");

    public void Dispose() => _folder.Dispose();

    private SqliteConnection OpenSeparately()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        return connection;
    }

    private static object Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar()!;
    }

    [Fact]
    public void A_locked_or_read_only_file_is_unavailable_storage_but_a_bad_statement_or_constraint_is_not()
    {
        using var store = new SqliteConnectorStore(DatabasePath, Secrets);
        store.Migrate();
        using var reader = OpenSeparately();
        var readOnly = Assert.Throws<SqliteException>(() => Execute(reader, "CREATE TABLE t (id INTEGER)"));
        Assert.Equal("read-only", store.DescribeUnavailable(readOnly));
        Assert.False(store.IsLostConnection(readOnly));

        var syntax = Assert.Throws<SqliteException>(() => Execute(reader, "SELEC 1"));
        Assert.Null(store.DescribeUnavailable(syntax));
        using var writer = new SqliteConnection($"Data Source={Path.Combine(_folder.Path, "other.db")};Pooling=False");
        writer.Open();
        Execute(writer, "CREATE TABLE once (id INTEGER PRIMARY KEY); INSERT INTO once VALUES (1)");
        var duplicate = Assert.Throws<SqliteException>(() => Execute(writer, "INSERT INTO once VALUES (1)"));
        Assert.Null(store.DescribeUnavailable(duplicate));
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact]
    public void The_database_file_is_in_wal_mode()
    {
        using (var store = new SqliteConnectorStore(DatabasePath, Secrets))
        {
            store.Migrate();
        }

        using var connection = OpenSeparately();
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode"));
    }

    [Fact]
    public void The_write_connection_syncs_fully_and_enforces_foreign_keys()
    {
        using var store = new SqliteConnectorStore(DatabasePath, Secrets);
        store.Migrate();

        Assert.Equal(2L, Scalar(store.WriteConnection, "PRAGMA synchronous")); // FULL
        Assert.Equal(1L, Scalar(store.WriteConnection, "PRAGMA foreign_keys"));
        Assert.Equal("wal", Scalar(store.WriteConnection, "PRAGMA journal_mode"));
    }

    [Fact]
    public void Migrate_runs_again_on_a_second_instance_over_the_same_file()
    {
        var enterprise = new EnterpriseRecord(Guid.NewGuid(), "Sample Chain Hotel 1", DateTimeOffset.FromUnixTimeMilliseconds(1_576_248_172_000));
        using (var first = new SqliteConnectorStore(DatabasePath, Secrets))
        {
            first.Migrate();
            first.Migrate();
            using var tx = first.BeginWrite();
            tx.InsertEnterprise(enterprise);
            tx.Commit();
        }

        using var second = new SqliteConnectorStore(DatabasePath, Secrets);
        second.Migrate();
        second.Migrate();

        Assert.Equal(enterprise, second.FindEnterprise(enterprise.Id));
        using var connection = OpenSeparately();
        Assert.Equal(
            (long)SqliteMigrations.All.Count,
            Scalar(connection, "SELECT COUNT(*) FROM schema_migrations"));
        Assert.Equal(
            (long)SqliteMigrations.All.Count,
            Scalar(connection, "SELECT COUNT(DISTINCT version) FROM schema_migrations"));
    }

    [Fact]
    public void A_file_of_a_newer_schema_is_refused()
    {
        using (var first = new SqliteConnectorStore(DatabasePath, Secrets))
        {
            first.Migrate();
        }
        using (var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO schema_migrations (version, applied_utc) VALUES (999, 0)";
            command.ExecuteNonQuery();
        }

        using var second = new SqliteConnectorStore(DatabasePath, Secrets);
        var error = Assert.Throws<InvalidOperationException>(second.Migrate);
        Assert.Contains("999", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_instances_over_one_file_see_each_others_commits()
    {
        using var writerSide = new SqliteConnectorStore(DatabasePath, Secrets);
        writerSide.Migrate();
        using var readerSide = new SqliteConnectorStore(DatabasePath, Secrets);
        readerSide.Migrate();
        var enterprise = new EnterpriseRecord(Guid.NewGuid(), "Shared", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123));

        using (var tx = writerSide.BeginWrite())
        {
            tx.InsertEnterprise(enterprise);
            tx.Commit();
        }

        Assert.Equal(enterprise, readerSide.FindEnterprise(enterprise.Id));
    }

    [Fact]
    public void Commits_do_not_checkpoint_and_the_background_checkpoint_moves_every_committed_page()
    {
        using var store = new SqliteConnectorStore(DatabasePath, Secrets, checkpointInterval: Timeout.InfiniteTimeSpan);
        store.Migrate();
        Assert.Equal(0L, Scalar(store.WriteConnection, "PRAGMA wal_autocheckpoint"));
        for (var i = 0; i < 50; i++)
        {
            using var tx = store.BeginWrite();
            tx.InsertEnterprise(new EnterpriseRecord(Guid.NewGuid(), new string('x', 2000), DateTimeOffset.UnixEpoch));
            tx.Commit();
        }

        // The rows are only in the log so far: the database file has not grown by their 100 KB.
        var before = new FileInfo(DatabasePath).Length;
        Assert.True(before < 50 * 2000, $"The database file is {before} bytes before the checkpoint.");

        store.Checkpoint();

        Assert.True(new FileInfo(DatabasePath).Length >= before + (50 * 2000));
        using var separate = OpenSeparately();
        Assert.Equal(50L, Scalar(separate, "SELECT COUNT(*) FROM enterprises"));
    }

    [Fact]
    public void A_long_log_starts_over_once_a_reader_that_held_back_the_checkpoint_is_gone()
    {
        using var store = new SqliteConnectorStore(DatabasePath, Secrets, checkpointInterval: Timeout.InfiniteTimeSpan);
        store.Migrate();
        var written = 0;
        void Write(int transactions)
        {
            for (var t = 0; t < transactions; t++)
            {
                using var tx = store.BeginWrite();
                for (var row = 0; row < 20; row++)
                {
                    tx.InsertEnterprise(new EnterpriseRecord(Guid.NewGuid(), new string('x', 3000), DateTimeOffset.UnixEpoch));
                    written++;
                }
                tx.Commit();
            }
        }
        var walPath = DatabasePath + "-wal";

        // Past the restart length, with a reader holding a snapshot while more is committed: the background pass can
        // copy only the pages that reader's snapshot ends at, so the log is not wholly in the database when it is gone.
        Write(SqliteConnectorStore.RestartLogFrames / 20);
        using (var reader = OpenSeparately())
        {
            using var snapshot = reader.BeginTransaction();
            Assert.Equal((long)written, Scalar(reader, "SELECT COUNT(*) FROM enterprises"));
            Write(20);
            store.Checkpoint();
        }
        var longest = new FileInfo(walPath).Length;
        Assert.True(longest > SqliteConnectorStore.RestartLogFrames * 4096L, $"The log is only {longest} bytes.");

        // Without a restart SQLite would append these commits to the log; started over, the log is written from its start.
        Write(20);

        Assert.Equal(longest, new FileInfo(walPath).Length);
        using var separate = OpenSeparately();
        Assert.Equal((long)written, Scalar(separate, "SELECT COUNT(*) FROM enterprises"));
    }

    [Fact]
    public void Ping_answers_true_on_a_working_database()
    {
        using var store = new SqliteConnectorStore(DatabasePath, Secrets);
        store.Migrate();

        Assert.True(store.Ping());
        Assert.Equal(DatabasePath, store.DatabasePath);
    }

    private static MessageRecord Message(Guid integrationId) => new(
        0, Guid.NewGuid().ToString("N"), WebhookChannel.Integration, Guid.NewGuid(), integrationId, "IntegrationCreated",
        "{}"u8.ToArray(), MessageStatus.Pending, null, 0, 0, null, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), null);

    [Fact]
    public void The_search_for_pending_messages_starts_above_the_lanes_settled_position()
    {
        using var store = new SqliteConnectorStore(DatabasePath, Secrets);
        store.Migrate();
        var lane = new DeliveryLane(Guid.NewGuid(), WebhookChannel.Integration);
        var messages = Enumerable.Range(0, 3).Select(_ => Message(lane.IntegrationId)).ToList();
        var positions = new List<InsertedMessage>();
        using (var tx = store.BeginWrite())
        {
            positions.AddRange(messages.Select(tx.InsertMessage));
            // A position only the dispatcher may give, and wrongly here (the first two are still pending): it shows that the
            // search starts there instead of reading every message of the lane.
            tx.SettleLane(lane, positions[1].QueueSeq);
            tx.SettleLane(lane, positions[0].QueueSeq); // never moves back
            tx.Commit();
        }

        Assert.Equal([messages[2].Id], store.LoadPending(lane, 0, 100).Select(m => m.Id));
        Assert.Equal(MessageStatus.Pending, store.FindMessage(messages[0].Id)!.Status); // the state is the message's own
    }

    [Fact]
    public void Messages_keep_only_the_indexes_that_a_query_reads()
    {
        using var store = new SqliteConnectorStore(DatabasePath, Secrets);
        store.Migrate();

        // Every index costs each command a page written at random; the message listing finds a client's or an integration's
        // messages through ix_messages_lane or by reading the table backwards, so indexes on those columns (dropped by
        // migration 6) only slowed the writer. ix_messages_skipped holds only rows written Skipped, ix_messages_token_bearing
        // only the IntegrationCreated and IntegrationApiKeyCreated messages (the secret sweep reads it).
        using var separate = OpenSeparately();
        var names = Scalar(separate,
            "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' ORDER BY name)");
        Assert.Equal("ix_messages_lane ix_messages_queue ix_messages_skipped ix_messages_token_bearing sqlite_autoindex_messages_1", names);
    }

    [Fact]
    public void Migrations_5_and_7_keep_every_message_state_and_start_each_lane_above_what_was_settled()
    {
        var x = Guid.NewGuid();
        var y = Guid.NewGuid();
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString()))
        {
            connection.Open();
            SchemaMigrator.Migrate(connection, SqliteMigrations.All.Where(m => m.Version <= 4).ToList());
            using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO messages (seq, id, channel, client_id, integration_id, event_type, body, status, status_reason, queue_seq,
                    attempt_count, next_attempt_utc, created_utc, completed_utc)
                VALUES
                    (1, 'm1', 'Integration', $c, $x, 'IntegrationCreated', X'7B7D', 'Delivered', NULL, 1, 1, NULL, 10, 20),
                    (2, 'm2', 'Integration', $c, $x, 'IntegrationCreated', X'7B7D', 'Failed', 'Given up after 8 attempts.', 2, 8, NULL, 10, 30),
                    (3, 'm3', 'Integration', $c, $x, 'IntegrationCreated', X'7B7D', 'Pending', NULL, 3, 2, 5000, 10, NULL),
                    (4, 'm4', 'Integration', $c, $x, 'IntegrationCreated', X'7B7D', 'Pending', NULL, 4, 0, NULL, 10, NULL),
                    (5, 'm5', 'Integration', $c, $y, 'IntegrationCreated', X'7B7D', 'Delivered', NULL, 5, 1, NULL, 10, 40),
                    (6, 'm6', 'Integration', $c, $y, 'IntegrationCreated', X'7B7D', 'Delivered', NULL, 6, 1, NULL, 10, 50)
                """;
            insert.Parameters.AddWithValue("$c", Guid.NewGuid().ToString());
            insert.Parameters.AddWithValue("$x", x.ToString());
            insert.Parameters.AddWithValue("$y", y.ToString());
            insert.ExecuteNonQuery();
        }

        using var store = new SqliteConnectorStore(DatabasePath, Secrets);
        store.Migrate();

        var laneX = new DeliveryLane(x, WebhookChannel.Integration);
        Assert.Equal([laneX], store.ListLanesWithPending());
        var pending = store.LoadPending(laneX, 0, 100);
        Assert.Equal(["m3", "m4"], pending.Select(m => m.Id));
        Assert.Equal((2, DateTimeOffset.FromUnixTimeMilliseconds(5000)), (pending[0].AttemptCount, pending[0].NextAttemptUtc));
        var failed = store.FindMessage("m2")!;
        Assert.Equal((MessageStatus.Failed, "Given up after 8 attempts.", 8), (failed.Status, failed.StatusReason, failed.AttemptCount));
        // Migration 7 gave the row that said Failed an outcome saying the same, which the status filter reads.
        var listed = Assert.Single(store.ListMessages(new MessageQuery(null, null, MessageStatus.Failed, null, 10)));
        Assert.Equal(failed with { Body = listed.Body }, listed);
        Assert.Equal(MessageStatus.Delivered, store.FindMessage("m6")!.Status);
        using var separate = OpenSeparately();
        Assert.Equal(2L, Scalar(separate, $"SELECT settled_through FROM lanes WHERE integration_id = '{x}'"));
        Assert.Equal(6L, Scalar(separate, $"SELECT settled_through FROM lanes WHERE integration_id = '{y}'"));

        var z = new DeliveryLane(Guid.NewGuid(), WebhookChannel.Integration);
        using (var tx = store.BeginWrite())
        {
            tx.InsertMessage(Message(z.IntegrationId)); // a new lane gets its row with its first message
            tx.Commit();
        }
        Assert.Equal(new[] { laneX, z }.OrderBy(l => l.IntegrationId), store.ListLanesWithPending().OrderBy(l => l.IntegrationId));
    }

    [Fact]
    public void Migration_8_keeps_older_tokens_working_as_hashes_and_the_sweep_encrypts_what_was_in_the_clear()
    {
        var clientId = Guid.NewGuid();
        var integrationId = Guid.NewGuid();
        const string clientToken = "0123456789ABCDEF0123456789ABCDEF-00112233445566778899AABBCCDDEEFF";
        const string accessToken = "FEDCBA9876543210FEDCBA9876543210-FFEEDDCCBBAA99887766554433221100";
        const string url = "https://partner.example/hook?Token=legacy-url-token";
        const string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        var body = """{"Action":"IntegrationCreated","Data":{"AccessToken":"FEDCBA9876543210FEDCBA9876543210-FFEEDDCCBBAA99887766554433221100"}}"""u8.ToArray();
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString()))
        {
            connection.Open();
            SchemaMigrator.Migrate(connection, SqliteMigrations.All.Where(m => m.Version <= 7).ToList());
            using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO enterprises (id, name, created_utc) VALUES ($e, 'Legacy Hotel', 0);
                INSERT INTO clients (id, name, client_token, integration_webhook_url, created_utc) VALUES ($c, 'Legacy App', $ct, $url, 0);
                INSERT INTO client_secrets (client_id, secret, created_utc) VALUES ($c, $secret, 0);
                INSERT INTO integrations (id, name, enterprise_id, client_id, access_token, state, enabled_before_cancel, created_utc, updated_utc)
                VALUES ($i, 'Legacy', $e, $c, $at, 'Enabled', 0, 0, 0);
                INSERT INTO messages (id, channel, client_id, integration_id, event_type, body, status, queue_seq, attempt_count, created_utc)
                VALUES ('m1', 'Integration', $c, $i, 'IntegrationCreated', $body, 'Pending', 1, 0, 0),
                       ('m2', 'Integration', $c, $i, 'IntegrationDisabled', X'7B7D', 'Pending', 2, 0, 0);
                """;
            insert.Parameters.AddWithValue("$e", Guid.NewGuid().ToString());
            insert.Parameters.AddWithValue("$c", clientId.ToString());
            insert.Parameters.AddWithValue("$i", integrationId.ToString());
            insert.Parameters.AddWithValue("$ct", clientToken);
            insert.Parameters.AddWithValue("$at", accessToken);
            insert.Parameters.AddWithValue("$url", url);
            insert.Parameters.AddWithValue("$secret", secret);
            insert.Parameters.AddWithValue("$body", body);
            insert.ExecuteNonQuery();
        }

        using var store = new SqliteConnectorStore(DatabasePath, Secrets);
        store.Migrate();

        // The tokens still authenticate, now through their hashes, and show the prefix every token gets.
        var client = store.FindClientByTokenHash(TokenDigest.HashOf(clientToken))!;
        Assert.Equal(clientId, client.Id);
        Assert.Equal(TokenDigest.Of(clientToken), client.ClientToken);
        Assert.Equal(TokenDigest.Of(accessToken), store.FindIntegrationByAccessTokenHash(TokenDigest.HashOf(accessToken))!.AccessToken);
        using (var separate = OpenSeparately())
        {
            Assert.Equal(0L, Scalar(separate, $"SELECT COUNT(*) FROM clients WHERE client_token_hash = '{clientToken}'"));
            Assert.Equal(0L, Scalar(separate, $"SELECT COUNT(*) FROM integrations WHERE access_token_hash = '{accessToken}'"));
        }

        // Until the sweep, the plaintext reads as it is; the sweep encrypts the URL, the secret and the body.
        Assert.Equal(url, client.IntegrationWebhookUrl);
        Assert.Equal(3, SecretSweeps.Run(store, 100).Rewritten.Sum());
        Assert.Equal(0, SecretSweeps.Run(store, 100).Rewritten.Sum());
        Assert.Equal(url, store.FindClient(clientId)!.IntegrationWebhookUrl);
        Assert.Equal(secret, Assert.Single(store.ListSecrets(clientId)).Secret);
        Assert.Equal(body, store.FindMessage("m1")!.Body);
        Assert.Equal([body, "{}"u8.ToArray()], store.LoadPending(new DeliveryLane(integrationId, WebhookChannel.Integration), 0, 10).Select(m => m.Body));
        using (var separate = OpenSeparately())
        {
            Assert.StartsWith(Secrets.CurrentTextPrefix, (string)Scalar(separate, "SELECT integration_webhook_url FROM clients"), StringComparison.Ordinal);
            Assert.StartsWith(Secrets.CurrentTextPrefix, (string)Scalar(separate, "SELECT secret FROM client_secrets"), StringComparison.Ordinal);
            Assert.Equal(Secrets.CurrentBinaryPrefix, ((byte[])Scalar(separate, "SELECT body FROM messages WHERE id = 'm1'"))[..5]);
            // What carries no secret stays as it was: a missing URL, a body without a token.
            Assert.IsType<DBNull>(Scalar(separate, "SELECT general_webhook_url FROM clients"));
            Assert.Equal("{}"u8.ToArray(), (byte[])Scalar(separate, "SELECT body FROM messages WHERE id = 'm2'"));
        }
    }
}
