using System.Collections.Concurrent;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Realtime;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using ConnectorEvents.Storage.Compliance;
using Xunit;

namespace ConnectorEvents.Storage.Postgres.Tests;

/// <summary>What only a shared database needs: several stores (processes) migrating, writing and claiming at once.</summary>
public sealed class PostgresStoreTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset T0 = new(2025, 8, 1, 12, 30, 45, 678, TimeSpan.Zero);

    private readonly string _connectionString = PostgresServer.CreateDatabase();
    private readonly List<PostgresConnectorStore> _stores = [];

    private PostgresConnectorStore NewStore(string nodeId, bool migrate = true)
    {
        var store = new PostgresConnectorStore(_connectionString, nodeId, TestSecrets.Protector());
        _stores.Add(store);
        if (migrate)
        {
            store.Migrate();
        }
        return store;
    }

    private long Scalar(string sql)
    {
        using var connection = new NpgsqlConnection(_connectionString);
        connection.Open();
#pragma warning disable CA2100 // test SQL
        using var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static T Write<T>(IConnectorStore store, Func<IWriteTransaction, T> work)
    {
        using var tx = store.BeginWrite();
        var result = work(tx);
        tx.Commit();
        return result;
    }

    private static void Write(IConnectorStore store, Action<IWriteTransaction> work) => Write(store, tx =>
    {
        work(tx);
        return 0;
    });

    [Fact]
    public void A_terminated_connection_is_a_lost_connection_and_unavailable_storage_but_a_bad_statement_or_constraint_is_neither()
    {
        var store = NewStore("node-faults");
        using var victim = new NpgsqlConnection(_connectionString);
        victim.Open();
        var pid = Convert.ToInt32(Query(victim, "SELECT pg_backend_pid()"), System.Globalization.CultureInfo.InvariantCulture);
        using (var admin = new NpgsqlConnection(_connectionString))
        {
            admin.Open();
            Query(admin, $"SELECT pg_terminate_backend({pid})");
        }
        var lost = Assert.ThrowsAny<NpgsqlException>(() => Query(victim, "SELECT 1"));
        Assert.True(store.IsLostConnection(lost));
        Assert.Equal("database unreachable", store.DescribeUnavailable(lost));

        using var healthy = new NpgsqlConnection(_connectionString);
        healthy.Open();
        var syntax = Assert.Throws<PostgresException>(() => Query(healthy, "SELEC 1"));
        Assert.False(store.IsLostConnection(syntax));
        Assert.Null(store.DescribeUnavailable(syntax));
        Query(healthy, "CREATE TEMP TABLE once (id int PRIMARY KEY); INSERT INTO once VALUES (1)");
        var duplicate = Assert.Throws<PostgresException>(() => Query(healthy, "INSERT INTO once VALUES (1)"));
        Assert.False(store.IsLostConnection(duplicate));
        Assert.Null(store.DescribeUnavailable(duplicate));
    }

    private static object? Query(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        return command.ExecuteScalar();
    }

    [Fact]
    public void Migrating_twice_is_a_no_op()
    {
        var store = NewStore("a");
        store.Migrate();

        Assert.Equal(PostgresMigrations.All.Count, Scalar("SELECT COUNT(*) FROM schema_migrations"));
        Assert.Equal(64, Scalar("SELECT COUNT(*) FROM partition_leases"));
    }

    [Fact]
    public async Task Two_stores_migrating_a_fresh_database_at_once_both_succeed_with_one_schema()
    {
        var a = NewStore("a", migrate: false);
        var b = NewStore("b", migrate: false);
        using var start = new Barrier(2);

        await Task.WhenAll(
            Task.Run(() => { start.SignalAndWait(Bound); a.Migrate(); }),
            Task.Run(() => { start.SignalAndWait(Bound); b.Migrate(); })).WaitAsync(Bound);

        Assert.Equal(PostgresMigrations.All.Count, Scalar("SELECT COUNT(*) FROM schema_migrations"));
        Assert.Equal(64, Scalar("SELECT COUNT(*) FROM partition_leases"));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'messages'"));
    }

    [Fact]
    public void Migration_3_keeps_older_tokens_working_as_hashes_and_the_sweep_encrypts_what_was_in_the_clear()
    {
        var clientId = Guid.NewGuid();
        var integrationId = Guid.NewGuid();
        const string clientToken = "0123456789ABCDEF0123456789ABCDEF-00112233445566778899AABBCCDDEEFF";
        const string accessToken = "FEDCBA9876543210FEDCBA9876543210-FFEEDDCCBBAA99887766554433221100";
        const string url = "https://partner.example/hook?Token=legacy-url-token";
        const string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        var body = """{"Action":"IntegrationCreated","Data":{"AccessToken":"x"}}"""u8.ToArray();
        using (var connection = new NpgsqlConnection(_connectionString))
        {
            connection.Open();
            SchemaMigrator.Migrate(connection, PostgresMigrations.All.Where(m => m.Version <= 2).ToList());
            using var insert = new NpgsqlCommand("""
                INSERT INTO enterprises (id, name, created_utc) VALUES (@e, 'Legacy Hotel', now());
                INSERT INTO clients (id, name, client_token, integration_webhook_url, created_utc) VALUES (@c, 'Legacy App', @ct, @url, now());
                INSERT INTO client_secrets (client_id, secret, created_utc) VALUES (@c, @secret, now());
                INSERT INTO integrations (id, name, enterprise_id, client_id, access_token, state, enabled_before_cancel, created_utc, updated_utc)
                VALUES (@i, 'Legacy', @e, @c, @at, 'Enabled', false, now(), now());
                INSERT INTO messages (id, channel, client_id, integration_id, event_type, body, status, queue_seq, attempt_count, created_utc)
                VALUES ('m1', 'Integration', @c, @i, 'IntegrationCreated', @body, 'Pending', nextval('message_queue_seq'), 0, now()),
                       ('m2', 'Integration', @c, @i, 'IntegrationDisabled', '\x7b7d', 'Pending', nextval('message_queue_seq'), 0, now());
                """, connection);
            insert.Parameters.AddWithValue("e", Guid.NewGuid());
            insert.Parameters.AddWithValue("c", clientId);
            insert.Parameters.AddWithValue("i", integrationId);
            insert.Parameters.AddWithValue("ct", clientToken);
            insert.Parameters.AddWithValue("at", accessToken);
            insert.Parameters.AddWithValue("url", url);
            insert.Parameters.AddWithValue("secret", secret);
            insert.Parameters.AddWithValue("body", body);
            insert.ExecuteNonQuery();
        }

        var store = NewStore("a");
        var client = store.FindClientByTokenHash(TokenDigest.HashOf(clientToken))!;
        Assert.Equal(TokenDigest.Of(clientToken), client.ClientToken);
        Assert.Equal(TokenDigest.Of(accessToken), store.FindIntegrationByAccessTokenHash(TokenDigest.HashOf(accessToken))!.AccessToken);
        Assert.Equal(url, client.IntegrationWebhookUrl);

        Assert.Equal(3, SecretSweeps.Run(store, 100).Rewritten.Sum());
        Assert.Equal(0, SecretSweeps.Run(store, 100).Rewritten.Sum());
        Assert.Equal(url, store.FindClient(clientId)!.IntegrationWebhookUrl);
        Assert.Equal(secret, Assert.Single(store.ListSecrets(clientId)).Secret);
        Assert.Equal(body, store.FindMessage("m1")!.Body);
        Assert.Equal(0, Scalar($"SELECT COUNT(*) FROM clients WHERE integration_webhook_url LIKE '%legacy-url-token%' OR client_token_hash = '{clientToken}'"));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM client_secrets WHERE secret LIKE 'whsec_%'"));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM messages WHERE position('\\x7b'::bytea in body) = 1")); // m2, which carries no token
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM clients WHERE general_webhook_url IS NULL"));
    }

    [Fact]
    public void A_database_of_a_newer_schema_is_refused()
    {
        NewStore("a");
        Scalar("INSERT INTO schema_migrations (version, applied_utc) VALUES (999, 0) RETURNING version");

        var error = Assert.Throws<InvalidOperationException>(() => NewStore("b"));
        Assert.Contains("999", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reader_following_the_log_never_misses_events_appended_by_two_writers_at_once()
    {
        var writerA = NewStore("a");
        var writerB = NewStore("b");
        var reader = NewStore("reader");
        var enterprise = new EnterpriseRecord(Guid.NewGuid(), "Sample Chain Hotel", T0);
        Write(writerA, tx => tx.InsertEnterprise(enterprise));
        const int PerWriter = 300;

        void Append(IConnectorStore store, string discriminator)
        {
            for (var i = 0; i < PerWriter; i += 3)
            {
                // The other writer's transaction may hold the enterprise row: the append then fails at once as transient
                // (NOWAIT) and, as the group-commit writer does, runs again in a new transaction.
                while (true)
                {
                    try
                    {
                        Write(store, tx => tx.AppendGeneralEvents(
                        [
                            .. Enumerable.Range(0, 3).Select(_ => new GeneralEventRecord(0, enterprise.Id, discriminator, Guid.NewGuid(), null, T0)),
                        ]));
                        break;
                    }
                    catch (PostgresException ex) when (store.IsTransient(ex))
                    {
                        Thread.Sleep(1);
                    }
                }
            }
        }

        var writers = Task.WhenAll(Task.Run(() => Append(writerA, "A")), Task.Run(() => Append(writerB, "B")));
        var seen = new List<GeneralEventRecord>();
        var last = 0L;
        var deadline = DateTime.UtcNow + Bound;
        while (seen.Count < 2 * PerWriter && DateTime.UtcNow < deadline)
        {
            using var tx = reader.BeginWrite();
            foreach (var e in tx.LoadGeneralEvents(enterprise.Id, last, 1_000))
            {
                Assert.True(e.Seq > last);
                last = e.Seq;
                seen.Add(e);
            }
        }
        await writers.WaitAsync(Bound);

        Assert.Equal(2 * PerWriter, seen.Count);
        Assert.Equal(PerWriter, seen.Count(e => e.Discriminator == "A"));
        using var check = reader.BeginWrite();
        Assert.Equal(seen.Select(e => e.Seq), check.LoadGeneralEvents(enterprise.Id, 0, 10_000).Select(e => e.Seq));
    }

    // Named or not, an append to an enterprise another process appends to: a named one is not read ahead (SKIP LOCKED).
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_write_meeting_a_row_another_process_holds_runs_again_in_a_later_transaction_instead_of_waiting(bool named)
    {
        var a = NewStore("a");
        var b = NewStore("b");
        var enterprise = new EnterpriseRecord(Guid.NewGuid(), "Sample Chain Hotel", T0);
        Write(a, tx => tx.InsertEnterprise(enterprise));
        GeneralEventRecord Event(string discriminator) => new(0, enterprise.Id, discriminator, Guid.NewGuid(), null, T0);

        using var writerB = new GroupCommitWriter(b, NullLogger<GroupCommitWriter>.Instance);
        Task<int> appendedByB;
        using (var held = a.BeginWrite())
        {
            held.AppendGeneralEvents([Event("A")]); // holds the enterprise row until it commits
            appendedByB = writerB.ExecuteAsync(tx => { tx.AppendGeneralEvents([Event("B")]); return 1; },
                enterpriseId: named ? enterprise.Id : null);
            await Task.Delay(300);
            Assert.False(appendedByB.IsCompleted);
            // B's writer did not block on the row: its other work still commits meanwhile.
            await writerB.ExecuteAsync(tx => tx.Heartbeat("b", T0, T0)).WaitAsync(Bound);
            held.Commit();
        }
        Assert.Equal(1, await appendedByB.WaitAsync(Bound));
        using var check = a.BeginWrite();
        Assert.Equal(["A", "B"], check.LoadGeneralEvents(enterprise.Id, 0, 10).Select(e => e.Discriminator));
    }

    // The group reads its named integrations ahead, locking them: one another process holds is skipped, not waited for; its
    // unit runs in a later transaction, after that process's commit, and its message comes after that one's in the lane.
    [Fact]
    public async Task An_integration_another_process_holds_is_not_read_ahead_and_its_message_queues_behind_that_process()
    {
        var a = NewStore("a");
        var b = NewStore("b");
        var enterprise = new EnterpriseRecord(Guid.NewGuid(), "Sample Chain Hotel", T0);
        var client = new ClientRecord(Guid.NewGuid(), "Partner App", TokenDigest.Of("client-token"), "https://hooks.example.com/i", null,
            null, null, T0, ContractVersion.Latest);
        IntegrationRecord NewIntegration() => new(Guid.NewGuid(), "WebhookTEST", enterprise.Id, null, client.Id,
            TokenDigest.Of(Guid.NewGuid().ToString()), IntegrationState.Enabled, false, null, T0, T0, null, EventSubscription.All, EventSubscription.All);
        var held = NewIntegration();
        var free = NewIntegration();
        Write(a, tx =>
        {
            tx.InsertEnterprise(enterprise);
            tx.InsertClient(client);
            tx.InsertIntegration(held);
            tx.InsertIntegration(free);
        });
        MessageRecord Message(Guid integrationId) => new(0, Guid.NewGuid().ToString("N"), WebhookChannel.Integration, client.Id,
            integrationId, IntegrationActions.Enabled, [], MessageStatus.Pending, null, 0, 0, null, T0, null);

        using var writerB = new GroupCommitWriter(b, NullLogger<GroupCommitWriter>.Instance);
        Task<InsertedMessage> queuedByB;
        InsertedMessage insertedByA;
        using (var holder = a.BeginWrite())
        {
            Assert.NotNull(holder.FindIntegration(held.Id)); // the row lock, until the commit
            insertedByA = holder.InsertMessage(Message(held.Id));
            queuedByB = writerB.ExecuteAsync(tx => tx.FindIntegration(held.Id) is null ? default : tx.InsertMessage(Message(held.Id)),
                integrationId: held.Id);
            var other = await writerB.ExecuteAsync(tx => tx.InsertMessage(Message(free.Id)), integrationId: free.Id).WaitAsync(Bound);
            Assert.Equal(0, other.PendingBefore);
            await Task.Delay(200);
            Assert.False(queuedByB.IsCompleted);
            holder.Commit();
        }
        var queued = await queuedByB.WaitAsync(Bound);
        Assert.True(queued.QueueSeq > insertedByA.QueueSeq);
        Assert.Equal(insertedByA.QueueSeq, queued.PendingBefore);
        Assert.Equal([insertedByA.QueueSeq, queued.QueueSeq],
            b.LoadPending(new DeliveryLane(held.Id, WebhookChannel.Integration), 0, 10).Select(m => m.QueueSeq));
    }

    [Fact]
    public async Task Claims_of_two_stores_in_open_transactions_never_take_the_same_partition()
    {
        var a = NewStore("a");
        var b = NewStore("b");
        var until = T0.AddSeconds(30);

        using var txA = a.BeginWrite();
        var claimedA = txA.ClaimPartitions("a", 40, T0, until);
        // b does not wait for a's open transaction: SKIP LOCKED passes over the rows a holds.
        var claimedB = await Task.Run(() => Write(b, tx => tx.ClaimPartitions("b", 40, T0, until))).WaitAsync(Bound);
        txA.Commit();

        Assert.Equal(Enumerable.Range(0, 40), claimedA);
        Assert.Equal(Enumerable.Range(40, 24), claimedB);
    }

    [Fact]
    public async Task Claims_of_two_stores_at_once_take_each_partition_exactly_once()
    {
        var a = NewStore("a");
        var b = NewStore("b");
        var claims = new ConcurrentBag<(string Node, int Partition)>();
        using var start = new Barrier(2);

        void Claim(IConnectorStore store, string node)
        {
            start.SignalAndWait(Bound);
            for (var i = 0; i < 20; i++)
            {
                foreach (var p in Write(store, tx => tx.ClaimPartitions(node, 3, T0, T0.AddSeconds(30))))
                {
                    claims.Add((node, p));
                }
            }
        }

        await Task.WhenAll(Task.Run(() => Claim(a, "a")), Task.Run(() => Claim(b, "b"))).WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(0, 64), claims.Select(c => c.Partition).Order());
        Assert.Equal(claims.Where(c => c.Node == "a").Select(c => c.Partition).Order(), Write(a, tx => tx.RenewPartitions("a", T0.AddSeconds(60))));
    }

    [Fact]
    public void An_expired_lease_goes_to_another_store_and_its_old_holder_cannot_renew_it()
    {
        var a = NewStore("a");
        var b = NewStore("b");
        Write(a, tx => tx.ClaimPartitions("a", 64, T0, T0.AddSeconds(30)));

        var taken = Write(b, tx => tx.ClaimPartitions("b", 10, T0.AddSeconds(31), T0.AddSeconds(60)));
        var renewed = Write(a, tx => tx.RenewPartitions("a", T0.AddSeconds(90)));

        Assert.Equal(Enumerable.Range(0, 10), taken);
        Assert.Equal(Enumerable.Range(10, 54), renewed);
    }

    [Fact]
    public async Task Committed_announcements_reach_another_nodes_feed_and_rolled_back_ones_never_do()
    {
        var a = NewStore("node-a");
        var c = NewStore("node-c");
        var heardByB = new RecordingTarget();
        var heardByA = new RecordingTarget();
        await using var feedB = StartFeed("node-b", heardByB);
        await using var feedA = StartFeed("node-a", heardByA);
        await Task.WhenAll(feedB.Listening, feedA.Listening).WaitAsync(Bound);

        var enterprise = new EnterpriseRecord(Guid.NewGuid(), "Sample Chain Hotel", T0);
        var client = new ClientRecord(Guid.NewGuid(), "Partner", TokenDigest.Of("token-" + Guid.NewGuid()), "https://example.com/i", null, null, null, T0,
            ContractVersion.January2021);
        var integration = new IntegrationRecord(Guid.NewGuid(), "WebhookTEST", enterprise.Id, null, client.Id, TokenDigest.Of("access-" + Guid.NewGuid()),
            IntegrationState.Enabled, false, null, T0, T0, null, EventSubscription.All, EventSubscription.All);
        var rolledBack = Guid.NewGuid();
        var dropped = Guid.NewGuid();
        Write(a, tx =>
        {
            tx.InsertEnterprise(enterprise);
            tx.InsertClient(client);
            tx.InsertIntegration(integration);
        });
        using (var tx = a.BeginWrite())
        {
            tx.ExpireSecrets(rolledBack, T0);
            // Never committed.
        }
        var events = Enumerable.Range(0, 400).Select(_ => (WebSocketEvent)new ResourceEvent(Guid.NewGuid(), "Dirty")).ToList();
        Write(a, tx =>
        {
            tx.InsertMessage(Message(client.Id, integration.Id, WebhookChannel.Integration));
            tx.InsertMessage(Message(client.Id, integration.Id, WebhookChannel.Integration));
            tx.Savepoint();
            tx.ExpireSecrets(dropped, T0);
            tx.RollbackToSavepoint();
            tx.ReleaseSavepoint();
            tx.UpdateClient(client);
            tx.UpdateIntegration(integration);
            tx.AppendGeneralEvents([new GeneralEventRecord(0, enterprise.Id, "Reservation", Guid.NewGuid(), null, T0)]);
            tx.PublishWebSocketEvents(enterprise.Id, events);
        });
        var marker = Guid.NewGuid();
        Write(c, tx => tx.ExpireSecrets(marker, T0));

        await heardByB.WaitForClientAsync(marker);
        await heardByA.WaitForClientAsync(marker);

        Assert.Equal([new DeliveryLane(integration.Id, WebhookChannel.Integration)], heardByB.Lanes);
        Assert.Equal([integration.Id], heardByB.GeneralIntegrations);
        Assert.Equal([client.Id, marker], heardByB.Clients);
        Assert.Equal([integration.Id], heardByB.Integrations);
        Assert.True(heardByB.WebSocketCalls > 1, "400 events do not fit one notification");
        Assert.Equal(events, heardByB.HeardWebSocketEvents);
        Assert.DoesNotContain(rolledBack, heardByB.Clients);
        Assert.DoesNotContain(dropped, heardByB.Clients);
        // node-a's feed skipped everything node-a sent and heard only node-c.
        Assert.Equal([marker], heardByA.Clients);
        Assert.Empty(heardByA.Lanes);
        Assert.Empty(heardByA.HeardWebSocketEvents);
    }

    [Fact]
    public async Task WebSocket_events_committed_by_one_node_reach_the_hub_of_another_through_the_real_cluster_signals()
    {
        var a = NewStore("node-a");
        var b = NewStore("node-b");
        var delivery = new DeliveryOptions();
        using var sender = new WebhookSender(new NetworkPolicy(delivery), delivery, TimeProvider.System);
        using var writer = new GroupCommitWriter(b, NullLogger<GroupCommitWriter>.Instance);
        await using var leases = new PartitionLeases(b, writer, Options.Create(new ClusterOptions { NodeId = "node-b" }), Options.Create(delivery),
            TimeProvider.System, NullLogger<PartitionLeases>.Instance);
        await using var dispatcher = new DeliveryDispatcher(b, writer, sender,
            new RetryPolicy(delivery, new Random(1)), leases, Options.Create(delivery), TimeProvider.System, NullLogger<DeliveryDispatcher>.Instance);
        var hub = new WebSocketHub(Options.Create(new RealtimeOptions()), TimeProvider.System, NullLogger<WebSocketHub>.Instance);
        await using var feed = new PostgresChangeFeed(_connectionString, "node-b", NullLogger<PostgresChangeFeed>.Instance);
        feed.Start(new ClusterSignals(dispatcher, hub, b));
        await feed.Listening.WaitAsync(Bound);

        Write(a, tx => tx.PublishWebSocketEvents(Guid.NewGuid(), [new ResourceEvent(Guid.NewGuid(), "Clean"), new DeviceCommandEvent(Guid.NewGuid(), "Pending")]));

        var deadline = DateTime.UtcNow + Bound;
        while (hub.Published < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "The events did not reach the hub within 10 s.");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_retry_now_committed_by_one_node_reaches_the_feed_of_another_and_not_its_own()
    {
        var heardByB = new RecordingTarget();
        var heardByA = new RecordingTarget();
        await using var feedB = StartFeed("node-b", heardByB);
        await using var feedA = StartFeed("node-a", heardByA);
        await feedB.Listening.WaitAsync(Bound);
        await feedA.Listening.WaitAsync(Bound);
        var client = Guid.NewGuid();

        Write(NewStore("node-a"), tx => { tx.AnnounceRetryNow(client); return true; });

        var deadline = DateTime.UtcNow + Bound;
        while (!heardByB.Snapshot(t => t.RetryNowClients.Contains(client)))
        {
            Assert.True(DateTime.UtcNow < deadline, "node-b did not hear the retry within 10 s.");
            await Task.Delay(20);
        }
        Assert.False(heardByA.Snapshot(t => t.RetryNowClients.Count > 0)); // the writer wakes its own lanes itself
    }

    [Fact]
    public async Task A_feed_whose_connection_drops_reconnects_and_asks_for_a_rescan()
    {
        var heard = new RecordingTarget();
        await using var feed = StartFeed("node-b", heard);
        await feed.Listening.WaitAsync(Bound);

        TerminateOtherConnections();
        var deadline = DateTime.UtcNow + Bound;
        while (Volatile.Read(ref heard.Rescans) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The feed did not reconnect within 10 s.");
            await Task.Delay(20);
        }
        var client = Guid.NewGuid();
        Write(NewStore("node-a"), tx => tx.ExpireSecrets(client, T0));

        await heard.WaitForClientAsync(client);
    }

    [Fact]
    public void The_write_connection_is_reopened_after_it_broke()
    {
        var store = NewStore("node-a");
        Write(store, tx => tx.Heartbeat("node-a", T0, T0));

        TerminateOtherConnections();
        Assert.ThrowsAny<NpgsqlException>(() => Write(store, tx => tx.Heartbeat("node-a", T0, T0)));

        Assert.Equal(1, Write(store, tx => tx.Heartbeat("node-a", T0, T0)));
    }

    private void TerminateOtherConnections() => Scalar(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");

    [Fact]
    public void A_malformed_payload_is_refused_by_the_parser()
    {
        Assert.Null(PostgresChangeFeed.Parse("me\nc " + Guid.NewGuid(), "me"));
        Assert.Throws<FormatException>(() => PostgresChangeFeed.Parse("other\nx 1", "me"));
        Assert.Throws<FormatException>(() => PostgresChangeFeed.Parse("other\nm not-a-guid I", "me"));
        Assert.Throws<FormatException>(() => PostgresChangeFeed.Parse("other\nw " + Guid.NewGuid() + " !!!", "me"));
        var lanes = PostgresChangeFeed.Parse($"other\nm {Guid.Empty} G", "me")!.Lanes;
        Assert.Equal([new DeliveryLane(Guid.Empty, WebhookChannel.General)], lanes);
    }

    private PostgresChangeFeed StartFeed(string nodeId, RecordingTarget target)
    {
        var feed = new PostgresChangeFeed(_connectionString, nodeId,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<PostgresChangeFeed>.Instance);
        feed.Start(target);
        return feed;
    }

    private static MessageRecord Message(Guid clientId, Guid integrationId, WebhookChannel channel) =>
        new(0, "msg-" + Guid.NewGuid(), channel, clientId, integrationId, IntegrationActions.Created, [1, 2, 3], MessageStatus.Pending,
            null, 0, 0, null, T0, null);

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }

    private sealed class RecordingTarget : IChangeTarget
    {
        private readonly Lock _gate = new();

        public List<DeliveryLane> Lanes { get; } = [];
        public List<Guid> GeneralIntegrations { get; } = [];
        public List<Guid> Clients { get; } = [];
        public List<Guid> RetryNowClients { get; } = [];
        public List<Guid> Integrations { get; } = [];
        public List<WebSocketEvent> HeardWebSocketEvents { get; } = [];
        public int WebSocketCalls { get; private set; }

        public void MessagesCommitted(IReadOnlyList<DeliveryLane> lanes) { lock (_gate) { Lanes.AddRange(lanes); } }
        public void GeneralEventsLogged(IReadOnlyList<Guid> integrationIds) { lock (_gate) { GeneralIntegrations.AddRange(integrationIds); } }
        public void ClientChanged(Guid clientId) { lock (_gate) { Clients.Add(clientId); } }
        public void RetryNow(Guid clientId) { lock (_gate) { RetryNowClients.Add(clientId); } }
        public void IntegrationChanged(Guid integrationId) { lock (_gate) { Integrations.Add(integrationId); } }

        public void WebSocketEvents(Guid enterpriseId, IReadOnlyList<WebSocketEvent> events)
        {
            lock (_gate)
            {
                WebSocketCalls++;
                HeardWebSocketEvents.AddRange(events);
            }
        }

#pragma warning disable CA1051 // read with Volatile by the test
        public int Rescans;
#pragma warning restore CA1051

        public void MayHaveMissedSignals() => Interlocked.Increment(ref Rescans);

        /// <summary>A question about what was heard, asked under the lock the feed's thread writes under.</summary>
        public bool Snapshot(Func<RecordingTarget, bool> question)
        {
            lock (_gate)
            {
                return question(this);
            }
        }

        public async Task WaitForClientAsync(Guid clientId)
        {
            var deadline = DateTime.UtcNow + Bound;
            while (true)
            {
                lock (_gate)
                {
                    if (Clients.Contains(clientId))
                    {
                        return;
                    }
                }
                Assert.True(DateTime.UtcNow < deadline, "The announcement did not arrive within 10 s.");
                await Task.Delay(20);
            }
        }
    }
}
