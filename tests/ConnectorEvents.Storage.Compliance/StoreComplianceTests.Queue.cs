using ConnectorEvents.Core.Storage;
using Xunit;

namespace ConnectorEvents.Storage.Compliance;

public abstract partial class StoreComplianceTests
{
    private static PendingMessage AsPending(MessageRecord m) =>
        new(m.Seq, m.Id, m.Channel, m.IntegrationId, m.ClientId, m.QueueSeq, m.AttemptCount, m.NextAttemptUtc, m.Body, m.CreatedUtc);

    private static void AssertPending(IEnumerable<MessageRecord> expected, IEnumerable<PendingMessage> actual)
    {
        var wanted = expected.Select(AsPending).ToList();
        var got = actual.ToList();
        Assert.Equal(wanted.Select(p => p.Id), got.Select(p => p.Id));
        for (var i = 0; i < wanted.Count; i++)
        {
            Assert.Equal(wanted[i].Body, got[i].Body);
            Assert.Equal(wanted[i], got[i] with { Body = wanted[i].Body });
        }
    }

    [Fact]
    public void InsertMessage_assigns_increasing_seq_and_queue_seq()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var positions = new List<InsertedMessage>();

        for (var i = 0; i < 5; i++)
        {
            positions.Add(Write(store, tx => tx.InsertMessage(NewMessage(seeded.Client.Id, seeded.Integration.Id))));
        }
        Write(store, tx =>
        {
            for (var i = 0; i < 5; i++)
            {
                positions.Add(tx.InsertMessage(NewMessage(seeded.Client.Id, seeded.Integration.Id)));
            }
        });

        for (var i = 1; i < positions.Count; i++)
        {
            Assert.True(positions[i].Seq > positions[i - 1].Seq, $"seq {positions[i].Seq} after {positions[i - 1].Seq}");
            Assert.True(positions[i].QueueSeq > positions[i - 1].QueueSeq,
                $"queue seq {positions[i].QueueSeq} after {positions[i - 1].QueueSeq}");
        }
        Assert.True(positions[0].QueueSeq > 0);
        Assert.Equal(positions[^1].QueueSeq, store.MaxQueueSeq());
    }

    [Fact]
    public void LoadPending_returns_that_integrations_pending_messages_in_queue_order_after_a_position_and_limited()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var other = AddIntegration(store, seeded);
        var mine = new List<MessageRecord>();
        for (var i = 0; i < 6; i++)
        {
            mine.Add(Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id)));
            Insert(store, NewMessage(seeded.Client.Id, other.Id)); // interleaved, another lane
        }
        Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id, MessageStatus.Skipped));
        var retrying = mine[4] with { AttemptCount = 2, NextAttemptUtc = T0.AddMinutes(30) };
        Write(store, tx =>
        {
            tx.UpdateProgress(Delivered(mine[1]));
            tx.UpdateProgress(new MessageProgress(mine[3].Seq, MessageStatus.Failed, "Given up after 8 attempts.", 8, null, T0));
            tx.UpdateProgress(new MessageProgress(retrying.Seq, MessageStatus.Pending, null, 2, retrying.NextAttemptUtc, null));
        });
        MessageRecord[] pending = [mine[0], mine[2], retrying, mine[5]];

        AssertPending(pending, store.LoadPending(new DeliveryLane(seeded.Integration.Id, WebhookChannel.Integration), 0, 100));
        AssertPending(pending[..2], store.LoadPending(new DeliveryLane(seeded.Integration.Id, WebhookChannel.Integration), 0, 2));
        AssertPending(pending[2..], store.LoadPending(new DeliveryLane(seeded.Integration.Id, WebhookChannel.Integration), mine[2].QueueSeq, 100));
        AssertPending(pending[2..3], store.LoadPending(new DeliveryLane(seeded.Integration.Id, WebhookChannel.Integration), mine[2].QueueSeq, 1));
        Assert.Empty(store.LoadPending(new DeliveryLane(seeded.Integration.Id, WebhookChannel.Integration), mine[5].QueueSeq, 100));
        Assert.Empty(store.LoadPending(new DeliveryLane(Guid.NewGuid(), WebhookChannel.Integration), 0, 100));
        Assert.Equal(6, store.LoadPending(new DeliveryLane(other.Id, WebhookChannel.Integration), 0, 100).Count);
    }

    [Fact]
    public void MeasureBacklog_counts_pending_messages_per_channel_with_the_oldest_creation_time()
    {
        var store = NewStore();
        var seeded = Seed(store);
        Assert.Empty(store.MeasureBacklog());
        var delivered = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id) with { CreatedUtc = T0 });
        var oldest = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id) with { CreatedUtc = T0.AddMinutes(1) });
        Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id, MessageStatus.Skipped) with { CreatedUtc = T0 });
        Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id, channel: WebhookChannel.General) with { CreatedUtc = T0.AddMinutes(2) });
        Write(store, tx => tx.UpdateProgress(Delivered(delivered)));

        Assert.Equal(
            [(WebhookChannel.Integration, 3L, T0.AddMinutes(1)), (WebhookChannel.General, 1L, T0.AddMinutes(2))],
            store.MeasureBacklog().OrderBy(b => b.Channel));

        Write(store, tx => tx.UpdateProgress(Delivered(oldest)));

        Assert.Equal((WebhookChannel.Integration, 2L, T0.AddMinutes(4)), store.MeasureBacklog().Single(b => b.Channel == WebhookChannel.Integration));
    }

    [Fact]
    public void ListIntegrationsWithPending_names_each_integration_with_a_pending_message_once()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var second = AddIntegration(store, seeded);
        var allDone = AddIntegration(store, seeded);
        AddIntegration(store, seeded); // no messages at all
        Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        var secondsOnly = Insert(store, NewMessage(seeded.Client.Id, second.Id));
        var done = Insert(store, NewMessage(seeded.Client.Id, allDone.Id));
        Insert(store, NewMessage(seeded.Client.Id, allDone.Id, MessageStatus.Skipped));
        Write(store, tx => tx.UpdateProgress(Delivered(done)));

        Assert.Equal(
            new[] { seeded.Integration.Id, second.Id }.Order(),
            store.ListLanesWithPending().Select(l => l.IntegrationId).Order());

        Write(store, tx => tx.UpdateProgress(Delivered(secondsOnly)));

        Assert.Equal([seeded.Integration.Id], store.ListLanesWithPending().Select(l => l.IntegrationId));
    }

    [Fact]
    public void UpdateProgress_records_the_outcome_of_a_delivery()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var message = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));

        Write(store, tx => tx.UpdateProgress(new MessageProgress(message.Seq, MessageStatus.Pending, null, 1, T0.AddSeconds(5), null)));
        AssertMessage(message with { AttemptCount = 1, NextAttemptUtc = T0.AddSeconds(5) }, store.FindMessage(message.Id));

        Write(store, tx => tx.UpdateProgress(new MessageProgress(message.Seq, MessageStatus.Failed, "Given up after 8 attempts.", 8, null, T0.AddHours(30))));
        var failed = message with
        {
            Status = MessageStatus.Failed,
            StatusReason = "Given up after 8 attempts.",
            AttemptCount = 8,
            CompletedUtc = T0.AddHours(30),
        };
        AssertMessage(failed, store.FindMessage(message.Id));
        Assert.Equal(message.QueueSeq, store.FindMessage(message.Id)!.QueueSeq);
    }

    [Fact]
    public void DeleteExpiredMessages_deletes_settled_messages_past_their_cutoff_with_their_attempts_and_never_a_pending_one()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var delivered = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        var failed = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        var skipped = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id, MessageStatus.Skipped));
        var pending = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        var later = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id) with { CreatedUtc = T0.AddDays(5) });
        var newest = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id) with { CreatedUtc = T0.AddDays(6) });
        Write(store, tx =>
        {
            tx.RecordAttempt(new AttemptRecord(delivered.Seq, 1, T0, 3, "https://hooks.example.com/", 200, null, null, null));
            tx.UpdateProgress(Delivered(delivered));
            tx.RecordAttempt(new AttemptRecord(failed.Seq, 1, T0, 3, "https://hooks.example.com/", 410, null, null, null));
            tx.UpdateProgress(new MessageProgress(failed.Seq, MessageStatus.Failed, "Gone.", 1, null, T0.AddMinutes(10)));
            tx.UpdateProgress(new MessageProgress(pending.Seq, MessageStatus.Pending, null, 3, T0.AddDays(10), null));
            tx.UpdateProgress(Delivered(later));
        });

        // Failed ones kept longer than delivered ones: only the delivered and the skipped go; the pass stops at the message
        // created after the cutoff, which cannot have expired yet.
        var cutoffs = new RetentionCutoffs(Delivered: T0.AddDays(1), Failed: T0);
        var pass = Write(store, tx => tx.DeleteExpiredMessages(0, cutoffs, 100));
        Assert.Equal((4, 2, pending.Seq, true), (pass.Examined, pass.Deleted, pass.LastSeq, pass.Done));
        Assert.Null(store.FindMessage(delivered.Id));
        Assert.Null(store.FindMessage(skipped.Id));
        Assert.Empty(store.ListAttempts(delivered.Seq));
        Assert.NotNull(store.FindMessage(failed.Id));
        Assert.Single(store.ListAttempts(failed.Seq));
        Assert.Equal(MessageStatus.Pending, store.FindMessage(pending.Id)!.Status);

        // In batches of one, from where the last one stopped; the Failed one's cutoff now past.
        cutoffs = new RetentionCutoffs(Delivered: T0.AddDays(1), Failed: T0.AddDays(1));
        pass = Write(store, tx => tx.DeleteExpiredMessages(0, cutoffs, 1));
        Assert.Equal((1, 1, failed.Seq, false), (pass.Examined, pass.Deleted, pass.LastSeq, pass.Done));
        Assert.Null(store.FindMessage(failed.Id));
        Assert.Empty(store.ListAttempts(failed.Seq));
        pass = Write(store, tx => tx.DeleteExpiredMessages(failed.Seq, cutoffs, 1));
        Assert.Equal((1, 0, pending.Seq, false), (pass.Examined, pass.Deleted, pass.LastSeq, pass.Done));

        // Everything past its cutoff: the pending one stays, and so does the newest message.
        pass = Write(store, tx => tx.DeleteExpiredMessages(0, new RetentionCutoffs(T0.AddDays(30), T0.AddDays(30)), 100));
        Assert.Equal(1, pass.Deleted);
        Assert.True(pass.Done);
        Assert.Null(store.FindMessage(later.Id));
        Assert.NotNull(store.FindMessage(pending.Id));
        Assert.NotNull(store.FindMessage(newest.Id));
        Assert.Equal(newest.QueueSeq + 1, Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id)).QueueSeq);
    }

    [Fact]
    public void Attempts_are_listed_per_message_in_the_order_they_were_recorded()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var first = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        var second = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        AttemptRecord[] firsts =
        [
            new(first.Seq, 1, T0, 5003.25, "https://hooks.example.com/integration?…", null, "Timeout", "No answer within 5 s.", null),
            new(first.Seq, 2, T0.AddSeconds(5), 12.5, "https://hooks.example.com/integration?…", 500, null, null, "oops"),
            new(first.Seq, 3, T0.AddMinutes(5), 3.0, "https://hooks.example.com/integration?…", 204, null, null, null),
        ];
        AttemptRecord[] seconds = [new(second.Seq, 1, T0.AddMinutes(6), 1.75, "https://other.example.com/", 200, null, null, "ok")];

        Write(store, tx => tx.RecordAttempt(firsts[0]));
        Write(store, tx =>
        {
            tx.RecordAttempt(seconds[0]);
            tx.RecordAttempt(firsts[1]);
        });
        Write(store, tx =>
        {
            tx.RecordAttempt(firsts[2]);
            tx.UpdateProgress(Delivered(first, attempts: 3));
        });

        Assert.Equal(firsts, store.ListAttempts(first.Seq));
        Assert.Equal(seconds, store.ListAttempts(second.Seq));
        Assert.Empty(store.ListAttempts(second.Seq + 1000));
        Assert.Equal(MessageStatus.Delivered, store.FindMessage(first.Id)!.Status);
        Assert.Equal(3, store.FindMessage(first.Id)!.AttemptCount);
    }

    [Fact]
    public void A_lane_settled_through_a_position_still_yields_what_is_pending_above_it_and_what_is_requeued_later()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var lane = new DeliveryLane(seeded.Integration.Id, WebhookChannel.Integration);
        var first = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        var second = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        var retrying = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        var last = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        // As the dispatcher settles a lane: in queue order, the position with the outcome that reached it.
        Write(store, tx =>
        {
            tx.UpdateProgress(Delivered(first));
            tx.UpdateProgress(new MessageProgress(second.Seq, MessageStatus.Failed, "Given up after 8 attempts.", 8, null, T0));
            tx.SettleLane(lane, second.QueueSeq);
            tx.UpdateProgress(new MessageProgress(retrying.Seq, MessageStatus.Pending, null, 1, T0.AddMinutes(1), null));
        });
        var retried = retrying with { AttemptCount = 1, NextAttemptUtc = T0.AddMinutes(1) };

        AssertPending([retried, last], store.LoadPending(lane, 0, 100));
        Assert.Equal([lane], store.ListLanesWithPending());

        Write(store, tx =>
        {
            tx.UpdateProgress(Delivered(retrying, attempts: 2));
            tx.UpdateProgress(Delivered(last));
            tx.SettleLane(lane, last.QueueSeq);
        });

        Assert.Empty(store.LoadPending(lane, 0, 100));
        Assert.Empty(store.ListLanesWithPending());
        AssertMessage(second with { Status = MessageStatus.Failed, StatusReason = "Given up after 8 attempts.", AttemptCount = 8, CompletedUtc = T0 },
            store.FindMessage(second.Id));

        var position = Write(store, tx => tx.Requeue(first.Seq)); // below the settled position until requeued

        AssertPending([first with { QueueSeq = position }], store.LoadPending(lane, 0, 100));
        Assert.Equal([lane], store.ListLanesWithPending());
        var requeued = store.FindMessage(first.Id)!;
        Assert.Equal((MessageStatus.Pending, 0, (DateTimeOffset?)null), (requeued.Status, requeued.AttemptCount, requeued.CompletedUtc));
    }

    // The dispatcher refills the lanes that asked meanwhile in one read (another process's commit names many at once).
    [Fact]
    public void Several_lanes_are_read_at_once_each_from_its_own_position_and_up_to_the_limit()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var other = AddIntegration(store, seeded);
        var quiet = AddIntegration(store, seeded);
        var mine = Enumerable.Range(0, 5).Select(_ => Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id))).ToArray();
        var theirs = Enumerable.Range(0, 3).Select(_ => Insert(store, NewMessage(seeded.Client.Id, other.Id))).ToArray();
        var general = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id) with { Channel = WebhookChannel.General });
        Write(store, tx =>
        {
            tx.UpdateProgress(Delivered(theirs[0]));
            tx.UpdateProgress(new MessageProgress(theirs[1].Seq, MessageStatus.Pending, null, 1, T0.AddMinutes(1), null));
        });
        var integrationLane = new DeliveryLane(seeded.Integration.Id, WebhookChannel.Integration);

        var loaded = store.LoadPending(
        [
            new LanePosition(integrationLane, mine[0].QueueSeq),
            new LanePosition(new DeliveryLane(other.Id, WebhookChannel.Integration), 0),
            new LanePosition(new DeliveryLane(quiet.Id, WebhookChannel.Integration), 0),
            new LanePosition(new DeliveryLane(seeded.Integration.Id, WebhookChannel.General), 0),
        ], limitPerLane: 2);

        AssertPending([mine[1], mine[2]], loaded.Where(m => m.IntegrationId == seeded.Integration.Id && m.Channel == WebhookChannel.Integration));
        AssertPending([theirs[1] with { AttemptCount = 1, NextAttemptUtc = T0.AddMinutes(1) }, theirs[2]], loaded.Where(m => m.IntegrationId == other.Id));
        AssertPending([general], loaded.Where(m => m.Channel == WebhookChannel.General));
        Assert.Equal(5, loaded.Count);
        Assert.Empty(store.LoadPending([], limitPerLane: 2));
    }

    [Fact]
    public void Requeue_puts_a_finished_message_back_at_the_end_of_the_queue_with_no_attempts()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var other = AddIntegration(store, seeded);
        var delivered = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        var failed = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        var waiting = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        var elsewhere = Insert(store, NewMessage(seeded.Client.Id, other.Id));
        Write(store, tx =>
        {
            tx.RecordAttempt(new AttemptRecord(delivered.Seq, 1, T0, 2.0, "https://hooks.example.com/", 200, null, null, null));
            tx.UpdateProgress(Delivered(delivered, attempts: 2));
            tx.UpdateProgress(new MessageProgress(failed.Seq, MessageStatus.Failed, "The receiver answered 410 Gone.", 1, null, T0));
        });
        var highest = store.MaxQueueSeq();

        var position = Write(store, tx => tx.Requeue(delivered.Seq));

        Assert.True(position > highest, $"requeued at {position}, but the queue already reached {highest}");
        Assert.Equal(position, store.MaxQueueSeq());
        var requeued = delivered with { QueueSeq = position };
        AssertMessage(requeued, store.FindMessage(delivered.Id));
        AssertPending([waiting, requeued], store.LoadPending(new DeliveryLane(seeded.Integration.Id, WebhookChannel.Integration), 0, 100));

        var again = Write(store, tx => tx.Requeue(failed.Seq));

        Assert.True(again > position);
        var failedRequeued = store.FindMessage(failed.Id);
        AssertMessage(failed with { QueueSeq = again }, failedRequeued);
        Assert.Equal(0, failedRequeued!.AttemptCount);
        Assert.Null(failedRequeued.StatusReason);
        Assert.Null(failedRequeued.CompletedUtc);
        Assert.Equal(MessageStatus.Pending, failedRequeued.Status);
        AssertPending([waiting, requeued, failed with { QueueSeq = again }], store.LoadPending(new DeliveryLane(seeded.Integration.Id, WebhookChannel.Integration), 0, 100));
        AssertMessage(elsewhere, store.FindMessage(elsewhere.Id));
    }

    [Fact]
    public void ListMessages_pages_newest_first_through_every_filter_visiting_each_message_once()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var otherClient = NewClient("Other");
        Write(store, tx => tx.InsertClient(otherClient));
        var second = AddIntegration(store, seeded);
        var third = AddIntegration(store, seeded, otherClient);
        IntegrationRecord[] integrations = [seeded.Integration, second, third];
        MessageStatus[] statuses = [MessageStatus.Pending, MessageStatus.Delivered, MessageStatus.Failed, MessageStatus.Pending, MessageStatus.Skipped];
        var all = new List<MessageRecord>();
        for (var i = 0; i < 31; i++)
        {
            var integration = integrations[i % 3];
            var message = Insert(store, NewMessage(integration.ClientId, integration.Id));
            var status = statuses[i % statuses.Length];
            if (status != MessageStatus.Pending)
            {
                var progress = new MessageProgress(message.Seq, status, null, 1, null, T0.AddMinutes(i));
                Write(store, tx => tx.UpdateProgress(progress));
                message = message with { Status = status, AttemptCount = 1, CompletedUtc = T0.AddMinutes(i) };
            }
            all.Add(message);
        }

        (MessageQuery Query, Func<MessageRecord, bool> Filter)[] cases =
        [
            (new MessageQuery(null, null, null, null, 4), _ => true),
            (new MessageQuery(seeded.Client.Id, null, null, null, 4), m => m.ClientId == seeded.Client.Id),
            (new MessageQuery(otherClient.Id, null, null, null, 3), m => m.ClientId == otherClient.Id),
            (new MessageQuery(null, second.Id, null, null, 4), m => m.IntegrationId == second.Id),
            (new MessageQuery(null, null, MessageStatus.Delivered, null, 2), m => m.Status == MessageStatus.Delivered),
            (new MessageQuery(null, null, MessageStatus.Pending, null, 5), m => m.Status == MessageStatus.Pending),
            (new MessageQuery(seeded.Client.Id, third.Id, null, null, 4), _ => false),
            (new MessageQuery(seeded.Client.Id, seeded.Integration.Id, MessageStatus.Pending, null, 1),
                m => m.IntegrationId == seeded.Integration.Id && m.Status == MessageStatus.Pending),
            (new MessageQuery(null, null, null, null, 100), _ => true),
        ];
        foreach (var (query, filter) in cases)
        {
            var visited = ListEveryPage(store, query);

            AssertMessages(all.Where(filter).OrderByDescending(m => m.Seq), visited);
            Assert.Equal(visited.Count, visited.Select(m => m.Seq).Distinct().Count());
        }
    }

    /// <summary>Follows the cursor from the first page until an empty one; every page holds at most the query's limit.</summary>
    private static List<MessageRecord> ListEveryPage(IConnectorStore store, MessageQuery query)
    {
        var visited = new List<MessageRecord>();
        var page = store.ListMessages(query);
        while (page.Count > 0)
        {
            Assert.True(page.Count <= query.Limit);
            visited.AddRange(page);
            page = store.ListMessages(query with { BeforeSeq = page[^1].Seq });
        }
        return visited;
    }

    [Fact]
    public void ListMessages_finds_a_quiet_integrations_oldest_messages_behind_a_busy_integrations_many()
    {
        // More than a store may read and sort for one integration (SQLite reads a busy one's newest rows backwards, a quiet
        // one's through an index): either way each filter must page through exactly its own messages, newest first.
        const int BusyMessages = 1_100;
        var store = NewStore();
        var seeded = Seed(store);
        var quietClient = NewClient("Quiet");
        Write(store, tx => tx.InsertClient(quietClient));
        var quiet = AddIntegration(store, seeded, quietClient);
        var all = Write(store, tx =>
        {
            var written = new List<MessageRecord>();
            void Add(MessageRecord message)
            {
                var (seq, queueSeq) = tx.InsertMessage(message);
                written.Add(message with { Seq = seq, QueueSeq = queueSeq });
            }
            foreach (var status in new[] { MessageStatus.Pending, MessageStatus.Delivered, MessageStatus.Pending })
            {
                Add(NewMessage(quietClient.Id, quiet.Id, status));
            }
            for (var i = 0; i < BusyMessages; i++)
            {
                Add(NewMessage(seeded.Client.Id, seeded.Integration.Id, i % 7 == 0 ? MessageStatus.Delivered : MessageStatus.Pending));
            }
            return written;
        });

        (MessageQuery Query, Func<MessageRecord, bool> Filter)[] cases =
        [
            (new MessageQuery(null, quiet.Id, null, null, 2), m => m.IntegrationId == quiet.Id),
            (new MessageQuery(quietClient.Id, null, null, null, 2), m => m.ClientId == quietClient.Id),
            (new MessageQuery(null, quiet.Id, MessageStatus.Pending, null, 1), m => m.IntegrationId == quiet.Id && m.Status == MessageStatus.Pending),
            (new MessageQuery(seeded.Client.Id, quiet.Id, null, null, 10), _ => false),
            (new MessageQuery(null, seeded.Integration.Id, null, null, 400), m => m.IntegrationId == seeded.Integration.Id),
            (new MessageQuery(seeded.Client.Id, null, MessageStatus.Delivered, null, 50),
                m => m.ClientId == seeded.Client.Id && m.Status == MessageStatus.Delivered),
        ];
        foreach (var (query, filter) in cases)
        {
            AssertMessages(all.Where(filter).OrderByDescending(m => m.Seq), ListEveryPage(store, query));
        }
    }

    [Fact]
    public void ListMessages_finds_a_rare_status_behind_many_messages_of_another()
    {
        // More Delivered messages than a store may read and sort: SQLite finds Failed, Skipped and Pending ones through
        // indexes of their own (a message's state is its latest outcome) and Delivered ones by reading backwards. Either
        // way each filter must page through exactly its own messages, newest first, a requeued one no longer Failed.
        const int DeliveredMessages = 1_100;
        var store = NewStore();
        var seeded = Seed(store);
        var other = AddIntegration(store, seeded);
        var status = new Dictionary<string, MessageStatus>();
        var requeued = Write(store, tx =>
        {
            MessageRecord Add(IntegrationRecord integration, MessageStatus intended, MessageStatus written = MessageStatus.Pending)
            {
                var message = NewMessage(integration.ClientId, integration.Id, written);
                var (seq, queueSeq) = tx.InsertMessage(message);
                status[message.Id] = intended;
                return message with { Seq = seq, QueueSeq = queueSeq };
            }
            void Settle(MessageRecord message, MessageStatus outcome) =>
                tx.UpdateProgress(new MessageProgress(message.Seq, outcome, null, 3, null, T0.AddMinutes(20)));

            Settle(Add(seeded.Integration, MessageStatus.Failed), MessageStatus.Failed);
            var failedTwice = Add(seeded.Integration, MessageStatus.Failed); // listed once
            Settle(failedTwice, MessageStatus.Failed);
            Settle(failedTwice, MessageStatus.Failed);
            var failedThenDelivered = Add(seeded.Integration, MessageStatus.Delivered); // its latest outcome counts
            Settle(failedThenDelivered, MessageStatus.Failed);
            Settle(failedThenDelivered, MessageStatus.Delivered);
            Add(seeded.Integration, MessageStatus.Skipped, written: MessageStatus.Skipped);
            var toRequeue = Add(seeded.Integration, MessageStatus.Pending);
            Settle(toRequeue, MessageStatus.Failed);
            var last = toRequeue;
            for (var i = 0; i < DeliveredMessages; i++)
            {
                last = Add(seeded.Integration, MessageStatus.Delivered);
                Settle(last, MessageStatus.Delivered);
            }
            tx.SettleLane(new DeliveryLane(seeded.Integration.Id, WebhookChannel.Integration), last.QueueSeq);
            Add(other, MessageStatus.Pending);
            tx.UpdateProgress(new MessageProgress(Add(other, MessageStatus.Pending).Seq, MessageStatus.Pending, null, 1, T0.AddMinutes(30), null));
            Add(other, MessageStatus.Skipped, written: MessageStatus.Skipped);
            return toRequeue;
        });
        Write(store, tx => tx.Requeue(requeued.Seq)); // Pending again, above the settled position
        var all = status.Keys.Select(id => store.FindMessage(id)!).ToList();
        Assert.All(all, m => Assert.Equal(status[m.Id], m.Status));

        (MessageQuery Query, Func<MessageRecord, bool> Filter)[] cases =
        [
            (new MessageQuery(null, null, MessageStatus.Failed, null, 2), m => m.Status == MessageStatus.Failed),
            (new MessageQuery(null, null, MessageStatus.Skipped, null, 1), m => m.Status == MessageStatus.Skipped),
            (new MessageQuery(null, null, MessageStatus.Pending, null, 2), m => m.Status == MessageStatus.Pending),
            (new MessageQuery(null, null, MessageStatus.Delivered, null, 400), m => m.Status == MessageStatus.Delivered),
            (new MessageQuery(null, other.Id, MessageStatus.Skipped, null, 5), m => m.IntegrationId == other.Id && m.Status == MessageStatus.Skipped),
            (new MessageQuery(seeded.Client.Id, seeded.Integration.Id, MessageStatus.Pending, null, 5),
                m => m.IntegrationId == seeded.Integration.Id && m.Status == MessageStatus.Pending),
            (new MessageQuery(null, other.Id, MessageStatus.Failed, null, 5), _ => false),
        ];
        foreach (var (query, filter) in cases)
        {
            AssertMessages(all.Where(filter).OrderByDescending(m => m.Seq), ListEveryPage(store, query));
        }
    }

    [Fact]
    public void ListMessages_starts_below_the_cursor()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var messages = Enumerable.Range(0, 5).Select(_ => Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id))).ToList();

        var page = store.ListMessages(new MessageQuery(null, null, null, messages[3].Seq, 10));

        AssertMessages([messages[2], messages[1], messages[0]], page);
    }

    [Fact]
    public void Where_processes_share_the_database_an_insert_names_the_lanes_last_pending_message_before_it()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var other = NewIntegration(seeded.Enterprise.Id, seeded.Client.Id);
        Write(store, tx => tx.InsertIntegration(other));

        var first = Write(store, tx => tx.InsertMessage(NewMessage(seeded.Client.Id, seeded.Integration.Id)));
        var (second, third) = Write(store, tx => (
            tx.InsertMessage(NewMessage(seeded.Client.Id, seeded.Integration.Id)),
            tx.InsertMessage(NewMessage(seeded.Client.Id, seeded.Integration.Id))));
        var elsewhere = Write(store, tx => tx.InsertMessage(NewMessage(seeded.Client.Id, other.Id)));
        // The first is delivered: the next one's predecessor is the second, the last still Pending.
        Write(store, tx => tx.UpdateProgress(new MessageProgress(first.Seq, MessageStatus.Delivered, null, 1, null, T0)));
        var fourth = Write(store, tx => tx.InsertMessage(NewMessage(seeded.Client.Id, seeded.Integration.Id)));

        if (!store.IsShared)
        {
            Assert.All(new[] { first, second, third, elsewhere, fourth }, m => Assert.Null(m.PendingBefore));
            return; // one process: it sees every commit itself
        }
        Assert.Equal(0, first.PendingBefore);
        Assert.Equal(first.QueueSeq, second.PendingBefore);
        Assert.Equal(second.QueueSeq, third.PendingBefore); // an earlier insert of the same transaction counts
        Assert.Equal(0, elsewhere.PendingBefore); // another lane
        Assert.Equal(third.QueueSeq, fourth.PendingBefore);
    }
}
