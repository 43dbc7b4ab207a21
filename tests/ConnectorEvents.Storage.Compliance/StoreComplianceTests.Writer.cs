using ConnectorEvents.Core.Storage;
using Xunit;

namespace ConnectorEvents.Storage.Compliance;

public abstract partial class StoreComplianceTests
{
    private const int ConcurrentUnits = 2000;

    private static async Task<IReadOnlyList<InsertedMessage>> InsertConcurrentlyAsync(
        GroupCommitWriter writer, Seeded seeded, int count)
    {
        var units = Enumerable.Range(0, count).Select(_ => Task.Run(() => writer.ExecuteAsync(
            tx => tx.InsertMessage(NewMessage(seeded.Client.Id, seeded.Integration.Id)))));
        return await Task.WhenAll(units);
    }

    /// <summary>
    /// Occupies the writer thread until <paramref name="release"/> is set, so whatever is queued meanwhile lands in
    /// one batch. Returns once the writer is inside the blocking unit.
    /// </summary>
    private static async Task<Task> HoldWriterAsync(GroupCommitWriter writer, ManualResetEventSlim release)
    {
        using var inside = new SemaphoreSlim(0);
        var held = writer.ExecuteAsync(_ =>
        {
            inside.Release();
            release.Wait();
            return true;
        });
        await inside.WaitAsync(TestContext.Current.CancellationToken);
        return held;
    }

    [Fact]
    public async Task Many_concurrent_units_all_complete_and_every_row_is_committed()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var writer = NewWriter(store);

        var positions = await InsertConcurrentlyAsync(writer, seeded, ConcurrentUnits);

        Assert.Equal(ConcurrentUnits, positions.Select(p => p.Seq).Distinct().Count());
        Assert.Equal(ConcurrentUnits, positions.Select(p => p.QueueSeq).Distinct().Count());
        var stored = store.ListMessages(new MessageQuery(null, seeded.Integration.Id, null, null, ConcurrentUnits * 2));
        Assert.Equal(positions.Select(p => p.Seq).Order(), stored.Select(m => m.Seq).Order());
        Assert.Equal(ConcurrentUnits, store.LoadPending(new DeliveryLane(seeded.Integration.Id, WebhookChannel.Integration), 0, ConcurrentUnits * 2).Count);
    }

    [Fact]
    public async Task Concurrent_units_share_commits()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var writer = NewWriter(store);
        var (commitsBefore, unitsBefore) = writer.Counters;

        await InsertConcurrentlyAsync(writer, seeded, ConcurrentUnits);

        var (commits, units) = writer.Counters;
        Assert.Equal(ConcurrentUnits, units - unitsBefore);
        Assert.True(commits - commitsBefore < ConcurrentUnits,
            $"{commits - commitsBefore} commits for {ConcurrentUnits} units: no group commit happened");
        Assert.True(commits - commitsBefore >= 1);
    }

    [Fact]
    public async Task Housekeeping_joins_a_group_that_commits_anyway_at_most_one_unit_per_group()
    {
        var writer = NewWriter(NewStore());
        using var release = new ManualResetEventSlim();
        var held = await HoldWriterAsync(writer, release);
        // Each unit notes the commits before its own transaction: units of one group note the same count.
        var first = writer.ExecuteHousekeepingAsync(_ => writer.Counters.Commits);
        var second = writer.ExecuteHousekeepingAsync(_ => writer.Counters.Commits);
        var command = writer.ExecuteAsync(_ => writer.Counters.Commits);
        release.Set();
        await held;

        var (firstGroup, secondGroup, commandGroup) = (await first, await second, await command);
        Assert.Equal(commandGroup, firstGroup);
        Assert.True(secondGroup > commandGroup, "two housekeeping units rode in one group");
    }

    [Fact]
    public async Task Housekeeping_on_an_idle_writer_is_committed_alone()
    {
        var writer = NewWriter(NewStore());
        await writer.FlushAsync();
        var commitsBefore = writer.Counters.Commits;

        var inGroup = await writer.ExecuteHousekeepingAsync(_ => writer.Counters.Commits).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(commitsBefore, inGroup);
        Assert.Equal(commitsBefore + 1, writer.Counters.Commits);
    }

    [Fact]
    public async Task A_failing_unit_is_rolled_back_while_the_units_of_its_batch_commit()
    {
        var store = NewStore();
        var writer = NewWriter(store);
        var before = NewEnterprise("Before");
        var halfDone = NewEnterprise("Half done");
        var after = NewEnterprise("After");
        var duplicateId = NewEnterprise("Duplicate") with { Id = before.Id };
        using var release = new ManualResetEventSlim();
        var (commitsBefore, unitsBefore) = writer.Counters;

        Task held;
        Task<Guid> first, thrower, conflicting, last;
        try
        {
            held = await HoldWriterAsync(writer, release);
            first = writer.ExecuteAsync(tx => { tx.InsertEnterprise(before); return before.Id; });
            thrower = writer.ExecuteAsync<Guid>(tx =>
            {
                tx.InsertEnterprise(halfDone);
                throw new InvalidOperationException("refused after a partial write");
            });
            conflicting = writer.ExecuteAsync(tx => { tx.InsertEnterprise(duplicateId); return duplicateId.Id; });
            last = writer.ExecuteAsync(tx => { tx.InsertEnterprise(after); return after.Id; });
        }
        finally
        {
            release.Set();
        }

        await held;
        Assert.Equal(before.Id, await first);
        Assert.Equal(after.Id, await last);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => thrower);
        Assert.Equal("refused after a partial write", refused.Message);
        await Assert.ThrowsAnyAsync<Exception>(() => conflicting);

        Assert.Equal(before, store.FindEnterprise(before.Id));
        Assert.Equal(after, store.FindEnterprise(after.Id));
        Assert.Null(store.FindEnterprise(halfDone.Id));
        var (commits, units) = writer.Counters;
        Assert.Equal(2, commits - commitsBefore); // the holding unit's batch, then one batch for the other four
        Assert.Equal(3, units - unitsBefore);     // holding, first, last
    }

    // A provider may hold writes back to send them together (PostgreSQL does); a write that fails only once sent must
    // still fail its own unit, guarded or posted, and no other.
    [Fact]
    public async Task A_write_that_fails_when_sent_fails_only_its_own_unit()
    {
        var store = NewStore();
        var writer = NewWriter(store);
        var seeded = Seed(store);
        var duplicate = seeded.Integration with { Name = "Same id again" };
        var good = NewIntegration(seeded.Enterprise.Id, seeded.Client.Id);
        var posted = NewIntegration(seeded.Enterprise.Id, seeded.Client.Id);
        var renamed = seeded.Integration with { Name = "Renamed" };
        var postedDuplicateCommitted = false;
        var postedCommitted = new TaskCompletionSource();
        using var release = new ManualResetEventSlim();
        var (_, unitsBefore) = writer.Counters;

        Task held;
        Task<bool> failing, first, last;
        try
        {
            held = await HoldWriterAsync(writer, release);
            first = writer.ExecuteAsync(tx => { tx.InsertIntegration(good); return true; });
            failing = writer.ExecuteAsync(tx => { tx.UpdateIntegration(renamed); tx.InsertIntegration(duplicate); return true; });
            writer.Post(tx => tx.InsertIntegration(duplicate), () => postedDuplicateCommitted = true);
            writer.Post(tx => tx.InsertIntegration(posted), postedCommitted.SetResult);
            last = writer.ExecuteAsync(tx => tx.FindIntegration(good.Id) is not null);
        }
        finally
        {
            release.Set();
        }

        await held;
        Assert.True(await first);
        await Assert.ThrowsAnyAsync<Exception>(() => failing);
        Assert.True(await last); // it saw the first unit's write, sent or held back
        await postedCommitted.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await writer.FlushAsync();

        Assert.False(postedDuplicateCommitted);
        Assert.Equal(seeded.Integration.Name, store.FindIntegration(seeded.Integration.Id)!.Name); // its rename went with it
        Assert.NotNull(store.FindIntegration(good.Id));
        Assert.NotNull(store.FindIntegration(posted.Id));
        var (_, units) = writer.Counters;
        Assert.Equal(5, units - unitsBefore); // holding, first, posted, last, the flush
    }

    [Fact]
    public async Task A_write_of_the_last_unit_that_fails_only_when_the_commit_sends_it_fails_that_unit_alone()
    {
        var store = NewStore();
        var writer = NewWriter(store);
        var seeded = Seed(store);
        var good = NewIntegration(seeded.Enterprise.Id, seeded.Client.Id);
        var duplicate = seeded.Integration with { Name = "Same id again" };
        using var release = new ManualResetEventSlim();

        Task held;
        Task<bool> first, renamed, failing;
        try
        {
            held = await HoldWriterAsync(writer, release);
            // Three units of one batch, nothing read after the last: a provider that holds writes back sends its writes
            // only with the commit, where the duplicate key fails.
            first = writer.ExecuteAsync(tx => { tx.InsertIntegration(good); return true; });
            renamed = writer.ExecuteAsync(tx => { tx.UpdateIntegration(good with { Name = "Renamed" }); return true; });
            failing = writer.ExecuteAsync(tx => { tx.InsertIntegration(duplicate); return true; });
        }
        finally
        {
            release.Set();
        }

        await held;
        Assert.True(await first);
        Assert.True(await renamed);
        await Assert.ThrowsAnyAsync<Exception>(() => failing);
        Assert.Equal("Renamed", store.FindIntegration(good.Id)!.Name);
        Assert.Equal(seeded.Integration.Name, store.FindIntegration(seeded.Integration.Id)!.Name);
    }

    [Fact]
    public async Task After_commit_callbacks_run_once_the_write_is_readable_and_before_the_caller_resumes()
    {
        var store = NewStore();
        var writer = NewWriter(store);
        var enterprise = NewEnterprise();
        EnterpriseRecord? seenByCallback = null;
        Guid? callbackArgument = null;

        var id = await writer.ExecuteAsync(
            tx =>
            {
                tx.InsertEnterprise(enterprise);
                return enterprise.Id;
            },
            committedId =>
            {
                callbackArgument = committedId;
                seenByCallback = store.FindEnterprise(committedId); // a separate read, outside the write transaction
            });

        Assert.Equal(enterprise.Id, id);
        Assert.Equal(enterprise.Id, callbackArgument);
        Assert.Equal(enterprise, seenByCallback);
    }

    [Fact]
    public async Task A_failed_unit_does_not_run_its_after_commit_callback()
    {
        var store = NewStore();
        var writer = NewWriter(store);
        var called = false;

        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.ExecuteAsync<int>(
            _ => throw new InvalidOperationException("refused"),
            _ => called = true));
        await writer.FlushAsync();

        Assert.False(called);
    }

    [Fact]
    public async Task A_throwing_after_commit_callback_neither_loses_the_write_nor_stops_the_writer()
    {
        var store = NewStore();
        var writer = NewWriter(store);
        var enterprise = NewEnterprise();
        var next = NewEnterprise("Next");

        var id = await writer.ExecuteAsync(
            tx =>
            {
                tx.InsertEnterprise(enterprise);
                return enterprise.Id;
            },
            _ => throw new InvalidOperationException("a broken listener"));
        await writer.ExecuteAsync(tx => { tx.InsertEnterprise(next); return true; });

        Assert.Equal(enterprise.Id, id);
        Assert.True(writer.IsRunning);
        Assert.Equal(enterprise, store.FindEnterprise(enterprise.Id));
        Assert.Equal(next, store.FindEnterprise(next.Id));
    }

    [Fact]
    public async Task Callers_are_failed_not_left_waiting_when_the_store_cannot_begin_a_transaction()
    {
        var store = NewStore();
        var writer = NewWriter(store);
        await writer.ExecuteAsync(tx => { tx.InsertEnterprise(NewEnterprise()); return true; });
        store.Dispose();
        var cancellation = TestContext.Current.CancellationToken;

        var units = Enumerable.Range(0, 3)
            .Select(_ => writer.ExecuteAsync(tx => { tx.InsertEnterprise(NewEnterprise()); return true; }))
            .ToList();

        foreach (var unit in units)
        {
            // The time limit only turns a hang into a failure; it is not what is tested.
            await Assert.ThrowsAsync<StorageUnavailableException>(() => unit.WaitAsync(TimeSpan.FromSeconds(60), cancellation));
        }
        Assert.True(writer.IsRunning);
    }

    [Fact]
    public async Task FlushAsync_resolves_after_everything_queued_before_it_is_committed()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var writer = NewWriter(store);
        var messages = Enumerable.Range(0, 50).Select(_ => NewMessage(seeded.Client.Id, seeded.Integration.Id)).ToList();

        foreach (var message in messages)
        {
            writer.Post(tx => tx.InsertMessage(message));
        }
        await writer.FlushAsync();

        Assert.All(messages, m => Assert.NotNull(store.FindMessage(m.Id)));
    }

    [Fact]
    public async Task Writes_survive_closing_and_reopening_the_store()
    {
        var store = NewStore();
        var writer = NewWriter(store);
        var enterprise = NewEnterprise();
        var client = NewClient();
        var integration = NewIntegration(enterprise.Id, client.Id, requestor: new Contracts.Requestor("Jane", "jane@example.com"));
        var secret = new SigningSecretRecord(client.Id, "whsec_durable", T0, null);
        var message = NewMessage(client.Id, integration.Id);
        var (seq, queueSeq) = await writer.ExecuteAsync(tx =>
        {
            tx.InsertEnterprise(enterprise);
            tx.InsertClient(client);
            tx.InsertSecret(secret);
            tx.InsertIntegration(integration);
            var position = tx.InsertMessage(message);
            tx.RecordAttempt(new AttemptRecord(position.Seq, 1, T0, 4.5, "https://hooks.example.com/", 503, null, null, "busy"));
            return position;
        });
        writer.Dispose();
        store.Dispose();

        var reopened = Own(ReopenStore());
        reopened.Migrate();

        Assert.Equal(enterprise, reopened.FindEnterprise(enterprise.Id));
        Assert.Equal(client, reopened.FindClient(client.Id));
        Assert.Equal([secret], reopened.ListSecrets(client.Id));
        Assert.Equal(integration, reopened.FindIntegration(integration.Id));
        AssertMessage(message with { Seq = seq, QueueSeq = queueSeq }, reopened.FindMessage(message.Id));
        Assert.Single(reopened.ListAttempts(seq));
        Assert.Equal([integration.Id], reopened.ListLanesWithPending().Select(l => l.IntegrationId));
        Assert.Equal(queueSeq, reopened.MaxQueueSeq());
    }

    [Fact]
    public async Task Queue_positions_keep_increasing_after_reopening()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var before = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        store.Dispose();

        var reopened = Own(ReopenStore());
        reopened.Migrate();
        var writer = NewWriter(reopened);
        var (seq, queueSeq) = await writer.ExecuteAsync(tx => tx.InsertMessage(NewMessage(seeded.Client.Id, seeded.Integration.Id)));

        Assert.True(seq > before.Seq);
        Assert.True(queueSeq > before.QueueSeq);
    }

    // Outcomes posted together may reach the database as one set (PostgreSQL sends them so): a message twice in one group
    // keeps both attempts, numbered on, and its later state; a refused command among them undoes only itself.
    [Fact]
    public async Task Outcomes_posted_in_one_group_keep_their_order_numbers_and_latest_state()
    {
        var store = NewStore();
        var writer = NewWriter(store);
        var seeded = Seed(store);
        var retried = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        var others = Enumerable.Range(0, 5).Select(_ => Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id))).ToArray();
        Write(store, tx => tx.RecordAttempt(new AttemptRecord(retried.Seq, 1, T0, 1, "https://hooks.example.com/", 500, null, null, "earlier")));
        AttemptRecord Attempt(MessageRecord m, int number, int code) =>
            new(m.Seq, number, T0.AddSeconds(number), 2.5, "https://hooks.example.com/", code, null, null, $"{m.Id} {number}");
        using var release = new ManualResetEventSlim();
        Task held;
        Task<int> refused;
        try
        {
            held = await HoldWriterAsync(writer, release);
            writer.Post(tx =>
            {
                tx.RecordAttempt(Attempt(retried, 2, 503));
                tx.UpdateProgress(new MessageProgress(retried.Seq, MessageStatus.Pending, null, 2, T0.AddMinutes(1), null));
            });
            writer.Post(tx =>
            {
                tx.RecordAttempt(Attempt(others[0], 1, 200));
                tx.UpdateProgress(Delivered(others[0]));
            });
            writer.Post(tx =>
            {
                tx.RecordAttempt(Attempt(retried, 3, 200));
                tx.UpdateProgress(Delivered(retried, attempts: 3));
                tx.RecordAttempt(Attempt(others[2], 1, 200));
                tx.UpdateProgress(Delivered(others[2]));
            });
            refused = writer.ExecuteAsync<int>(tx =>
            {
                tx.UpdateProgress(Delivered(others[1]));
                throw new InvalidOperationException("refused after a partial write");
            });
            foreach (var other in others[3..])
            {
                writer.Post(tx =>
                {
                    tx.RecordAttempt(Attempt(other, 1, 410));
                    tx.UpdateProgress(new MessageProgress(other.Seq, MessageStatus.Failed, "Gone (410).", 1, null, T0.AddMinutes(2)));
                });
            }
        }
        finally
        {
            release.Set();
        }
        await held;
        await Assert.ThrowsAsync<InvalidOperationException>(() => refused);
        await writer.FlushAsync();

        Assert.Equal([1, 2, 3], store.ListAttempts(retried.Seq).Select(a => a.AttemptNumber));
        Assert.Equal([500, 503, 200], store.ListAttempts(retried.Seq).Select(a => a.StatusCode));
        var delivered = store.FindMessage(retried.Id)!;
        Assert.Equal((MessageStatus.Delivered, 3, (DateTimeOffset?)null), (delivered.Status, delivered.AttemptCount, delivered.NextAttemptUtc));
        Assert.Equal(MessageStatus.Delivered, store.FindMessage(others[0].Id)!.Status);
        Assert.Equal(MessageStatus.Pending, store.FindMessage(others[1].Id)!.Status);
        Assert.Empty(store.ListAttempts(others[1].Seq));
        Assert.Equal(MessageStatus.Delivered, store.FindMessage(others[2].Id)!.Status);
        Assert.All(others[3..], m =>
        {
            var failed = store.FindMessage(m.Id)!;
            Assert.Equal((MessageStatus.Failed, "Gone (410).", T0.AddMinutes(2)), (failed.Status, failed.StatusReason, failed.CompletedUtc));
            Assert.Equal([Attempt(m, 1, 410)], store.ListAttempts(m.Seq));
        });
    }
    // Units that name their integration may find it read (and locked) ahead with the group's others, and insert their messages
    // with positions taken ahead (PostgreSQL does both): positions stay in the order of the inserts per lane, across a refused
    // unit, a failing insert, more inserts than positions taken, an unknown integration and a unit that named none; a
    // shared store tells each message the lane's last Pending one before it, as if each had been written alone.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Units_that_name_their_integration_keep_lane_order_and_pending_links_whatever_fails_among_them(bool duplicateAmongThem)
    {
        var store = NewStore();
        var writer = NewWriter(store);
        var seeded = Seed(store);
        var a = seeded.Integration;
        var b = AddIntegration(store, seeded);
        var waiting = Insert(store, NewMessage(seeded.Client.Id, a.Id));
        MessageRecord ToA(MessageStatus status = MessageStatus.Pending) => NewMessage(seeded.Client.Id, a.Id, status);
        var first = ToA();
        using var release = new ManualResetEventSlim();
        Task held;
        Task<(IntegrationRecord?, InsertedMessage)> withRead;
        Task<InsertedMessage> afterSkipped, refused, later, unnamed;
        Task<InsertedMessage>? duplicate;
        Task<InsertedMessage[]> toB;
        Task<IntegrationRecord?> unknown;
        try
        {
            held = await HoldWriterAsync(writer, release);
            withRead = writer.ExecuteAsync(tx => (tx.FindIntegration(a.Id), tx.InsertMessage(first)), integrationId: a.Id);
            afterSkipped = writer.ExecuteAsync(tx =>
            {
                tx.InsertMessage(ToA(MessageStatus.Skipped));
                return tx.InsertMessage(ToA());
            }, integrationId: a.Id);
            refused = writer.ExecuteAsync<InsertedMessage>(tx =>
            {
                tx.InsertMessage(ToA());
                throw new InvalidOperationException("refused after an insert");
            }, integrationId: a.Id);
            duplicate = duplicateAmongThem
                ? writer.ExecuteAsync(tx => tx.InsertMessage(first with { }), integrationId: a.Id)
                : null;
            later = writer.ExecuteAsync(tx => tx.InsertMessage(ToA()), integrationId: a.Id);
            // Two positions are taken per integration named (three here): these five outrun them.
            toB = writer.ExecuteAsync(tx => Enumerable.Range(0, 5)
                .Select(_ => tx.InsertMessage(NewMessage(seeded.Client.Id, b.Id, channel: WebhookChannel.General))).ToArray(),
                integrationId: b.Id);
            unknown = writer.ExecuteAsync(tx => tx.FindIntegration(Guid.NewGuid()), integrationId: Guid.NewGuid());
            unnamed = writer.ExecuteAsync(tx => tx.InsertMessage(ToA()));
        }
        finally
        {
            release.Set();
        }
        await held;
        var (found, m1) = await withRead;
        Assert.Equal(a.Id, found!.Id);
        Assert.Equal(a.State, found.State);
        var m2 = await afterSkipped;
        await Assert.ThrowsAsync<InvalidOperationException>(() => refused);
        if (duplicate is not null)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => duplicate); // the same message id twice
        }
        Assert.Null(await unknown);
        var m4 = await later;
        var m5 = await unnamed;
        var bs = await toB;

        InsertedMessage[] laneA = [m1, m2, m4, m5];
        Assert.Equal([waiting.QueueSeq, .. laneA.Select(m => m.QueueSeq)],
            store.LoadPending(new DeliveryLane(a.Id, WebhookChannel.Integration), 0, 100).Select(m => m.QueueSeq));
        Assert.Equal([waiting.Seq, .. laneA.Select(m => m.Seq)],
            store.LoadPending(new DeliveryLane(a.Id, WebhookChannel.Integration), 0, 100).Select(m => m.Seq));
        Assert.Equal(bs.Select(m => (m.Seq, m.QueueSeq)),
            store.LoadPending(new DeliveryLane(b.Id, WebhookChannel.General), 0, 100).Select(m => (m.Seq, m.QueueSeq)));
        Assert.Equal(first.Id, store.FindMessage(first.Id)!.Id);
        Assert.Equal(m1.Seq, store.FindMessage(first.Id)!.Seq);
        if (store.IsShared)
        {
            Assert.Equal([waiting.QueueSeq, m1.QueueSeq, m2.QueueSeq, m4.QueueSeq], laneA.Select(m => m.PendingBefore!.Value));
            Assert.Equal([0, .. bs[..^1].Select(m => m.QueueSeq)], bs.Select(m => m.PendingBefore!.Value));
        }
    }
}
