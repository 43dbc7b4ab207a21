using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Xunit;

namespace ConnectorEvents.Storage.Compliance;

/// <summary>General Webhooks storage: the per-enterprise event log, integration cursors, trimming, ingest idempotency
/// records, subscriptions, token look-ups and the per-channel delivery lanes.</summary>
public abstract partial class StoreComplianceTests
{
    private static GeneralEventRecord NewEvent(Guid enterpriseId, string discriminator, byte[]? entity = null) =>
        new(0, enterpriseId, discriminator, Guid.NewGuid(), entity, T0.AddMinutes(6));

    /// <summary>Appends the events in one transaction and returns them as stored, with their assigned seqs.</summary>
    private static List<GeneralEventRecord> Append(IConnectorStore store, params GeneralEventRecord[] events) =>
        Write(store, tx =>
        {
            var before = tx.LastGeneralEventSeq(Guid.Empty);
            tx.AppendGeneralEvents(events);
            var stored = new List<GeneralEventRecord>();
            foreach (var enterpriseId in events.Select(e => e.EnterpriseId).Distinct())
            {
                stored.AddRange(tx.LoadGeneralEvents(enterpriseId, before, int.MaxValue));
            }
            Assert.Equal(events.Length, stored.Count);
            // Each appended event, found by its entity id, with the seq the store gave it.
            return events.Select(e => e with { Seq = Assert.Single(stored, s => s.EntityId == e.EntityId).Seq }).ToList();
        });

    /// <summary>Reads the log in a transaction that is then rolled back.</summary>
    private static IReadOnlyList<GeneralEventRecord> LoadEvents(IConnectorStore store, Guid enterpriseId, long afterSeq = 0, int limit = 1000)
    {
        using var tx = store.BeginWrite();
        return tx.LoadGeneralEvents(enterpriseId, afterSeq, limit);
    }

    private static T Read<T>(IConnectorStore store, Func<IWriteTransaction, T> read)
    {
        using var tx = store.BeginWrite();
        return read(tx);
    }

    private static void AssertEvents(IEnumerable<GeneralEventRecord> expected, IEnumerable<GeneralEventRecord> actual)
    {
        var wanted = expected.ToList();
        var got = actual.ToList();
        Assert.Equal(wanted.Select(e => e.Seq), got.Select(e => e.Seq));
        for (var i = 0; i < wanted.Count; i++)
        {
            Assert.Equal(wanted[i].Entity, got[i].Entity);
            Assert.Equal(wanted[i], got[i] with { Entity = wanted[i].Entity });
        }
    }

    private static List<DeliveryLane> Sorted(IEnumerable<DeliveryLane> lanes) =>
        lanes.OrderBy(l => l.IntegrationId).ThenBy(l => l.Channel).ToList();

    private static void AssertIngest(IngestRecord expected, IngestRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.RequestHash, actual.RequestHash);
        Assert.Equal(expected.Response, actual.Response);
        Assert.Equal(expected, actual with { RequestHash = expected.RequestHash, Response = expected.Response });
    }

    private static void SetState(IConnectorStore store, IntegrationRecord integration, IntegrationState state) =>
        Write(store, tx => tx.UpdateIntegration(integration with { State = state, UpdatedUtc = T0.AddHours(1) }));

    private static IntegrationRecord AddIntegration(IConnectorStore store, Guid enterpriseId, Guid clientId, IntegrationState state)
    {
        var integration = NewIntegration(enterpriseId, clientId, state: state);
        Write(store, tx => tx.InsertIntegration(integration));
        return integration;
    }

    private static EnterpriseRecord AddEnterprise(IConnectorStore store, string name)
    {
        var enterprise = NewEnterprise(name);
        Write(store, tx => tx.InsertEnterprise(enterprise));
        return enterprise;
    }

    [Fact]
    public void A_large_append_keeps_list_order_and_every_field_across_the_batched_and_single_row_paths()
    {
        var store = NewStore();
        var enterpriseId = Seed(store).Enterprise.Id;
        // 123 = two whole chunks of a provider that inserts 50 rows a statement, and a remainder of 23.
        var events = Enumerable.Range(0, 123).Select(i => NewEvent(enterpriseId,
            GeneralDiscriminators.All[i % GeneralDiscriminators.All.Count]) with { Entity = i % 3 == 0 ? [(byte)'{', (byte)i, (byte)'}'] : null })
            .ToArray();
        Write(store, tx =>
        {
            tx.AppendGeneralEvents(events);
            return true;
        });
        var stored = LoadEvents(store, enterpriseId);
        Assert.Equal(events.Select(e => (e.Discriminator, e.EntityId, e.CreatedUtc)), stored.Select(e => (e.Discriminator, e.EntityId, e.CreatedUtc)));
        Assert.Equal(events.Select(e => e.Entity is null ? "null" : Convert.ToHexString(e.Entity)),
            stored.Select(e => e.Entity is null ? "null" : Convert.ToHexString(e.Entity)));
        Assert.True(stored.Zip(stored.Skip(1)).All(pair => pair.Second.Seq > pair.First.Seq));
    }

    [Fact]
    public void AppendGeneralEvents_assigns_ascending_seqs_in_list_order_and_LastGeneralEventSeq_follows()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var enterpriseId = seeded.Enterprise.Id;
        Assert.Equal(0, Read(store, tx => tx.LastGeneralEventSeq(Guid.Empty)));

        GeneralEventRecord[] first =
        [
            NewEvent(enterpriseId, GeneralDiscriminators.ResourceUpdated),
            NewEvent(enterpriseId, GeneralDiscriminators.CustomerAdded),
            NewEvent(enterpriseId, GeneralDiscriminators.ServiceOrderUpdated),
        ];
        var last = Write(store, tx =>
        {
            tx.AppendGeneralEvents(first);
            return tx.LastGeneralEventSeq(Guid.Empty); // inside the transaction it already counts its own appends
        });
        var stored = LoadEvents(store, enterpriseId);
        Assert.Equal(first.Select(e => e.EntityId), stored.Select(e => e.EntityId)); // list order
        Assert.True(stored[0].Seq > 0, $"first seq {stored[0].Seq}");
        Assert.True(stored[1].Seq > stored[0].Seq && stored[2].Seq > stored[1].Seq,
            $"seqs {stored[0].Seq}, {stored[1].Seq}, {stored[2].Seq}");
        Assert.Equal(stored[2].Seq, last);
        Assert.Equal(last, Read(store, tx => tx.LastGeneralEventSeq(Guid.Empty)));

        var second = Append(store,
            NewEvent(enterpriseId, GeneralDiscriminators.PaymentUpdated),
            NewEvent(enterpriseId, GeneralDiscriminators.MessageAdded));
        Assert.True(second[0].Seq > last && second[1].Seq > second[0].Seq);
        Assert.Equal(second[1].Seq, Read(store, tx => tx.LastGeneralEventSeq(Guid.Empty)));

        Write(store, tx => tx.AppendGeneralEvents([]));
        Assert.Equal(second[1].Seq, Read(store, tx => tx.LastGeneralEventSeq(Guid.Empty)));
    }

    [Fact]
    public void Appended_general_events_are_not_kept_without_commit()
    {
        var store = NewStore();
        var seeded = Seed(store);
        using (var tx = store.BeginWrite())
        {
            tx.AppendGeneralEvents([NewEvent(seeded.Enterprise.Id, GeneralDiscriminators.ResourceUpdated)]);
            Assert.Single(tx.LoadGeneralEvents(seeded.Enterprise.Id, 0, 10));
        }

        Assert.Empty(LoadEvents(store, seeded.Enterprise.Id));
        var kept = Append(store, NewEvent(seeded.Enterprise.Id, GeneralDiscriminators.ResourceUpdated));
        AssertEvents(kept, LoadEvents(store, seeded.Enterprise.Id));
    }

    [Fact]
    public void LoadGeneralEvents_filters_by_enterprise_orders_by_seq_and_honours_after_seq_and_limit()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var a = seeded.Enterprise.Id;
        var b = AddEnterprise(store, "Other Hotel").Id;
        var events = Append(store,
            NewEvent(a, GeneralDiscriminators.ServiceOrderUpdated, [0x7B, 0x7D]),
            NewEvent(b, GeneralDiscriminators.ResourceUpdated, [0x01]),
            NewEvent(a, GeneralDiscriminators.CustomerAdded), // no snapshot
            NewEvent(b, GeneralDiscriminators.PaymentUpdated));
        events.AddRange(Append(store, NewEvent(a, GeneralDiscriminators.ResourceUpdated, [0x00, 0xFF, 0x7B, 0x22, 0x00])));
        GeneralEventRecord[] ofA = [events[0], events[2], events[4]];
        GeneralEventRecord[] ofB = [events[1], events[3]];

        AssertEvents(ofA, LoadEvents(store, a));
        AssertEvents(ofB, LoadEvents(store, b));
        Assert.Null(LoadEvents(store, a)[1].Entity);
        Assert.Equal(new byte[] { 0x00, 0xFF, 0x7B, 0x22, 0x00 }, LoadEvents(store, a)[2].Entity);
        AssertEvents(ofA[1..], LoadEvents(store, a, ofA[0].Seq));
        AssertEvents(ofA[1..], LoadEvents(store, a, ofB[0].Seq)); // a position of another enterprise's event
        AssertEvents(ofA[..2], LoadEvents(store, a, 0, 2));
        AssertEvents(ofA[1..2], LoadEvents(store, a, ofA[0].Seq, 1));
        Assert.Empty(LoadEvents(store, a, ofA[2].Seq));
        Assert.Empty(LoadEvents(store, Guid.NewGuid()));
    }

    [Fact]
    public void General_cursors_start_at_zero_and_keep_what_was_set_through_integration_updates()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var other = AddIntegration(store, seeded);
        Assert.Equal(0, Read(store, tx => tx.GeneralCursor(seeded.Integration.Id)));
        Assert.Equal(0, Read(store, tx => tx.GeneralCursor(other.Id)));

        var seen = Write(store, tx =>
        {
            tx.SetGeneralCursor(seeded.Integration.Id, 42);
            return tx.GeneralCursor(seeded.Integration.Id);
        });
        Assert.Equal(42, seen);
        Assert.Equal(42, Read(store, tx => tx.GeneralCursor(seeded.Integration.Id)));
        Assert.Equal(0, Read(store, tx => tx.GeneralCursor(other.Id)));

        Write(store, tx => tx.SetGeneralCursor(seeded.Integration.Id, 1_000_000_000_000));
        SetState(store, seeded.Integration, IntegrationState.Disabled);
        Write(store, tx => tx.UpdateIntegration(seeded.Integration with
        {
            Name = "Renamed",
            GeneralEvents = EventSubscription.Only([GeneralDiscriminators.CustomerUpdated]),
            UpdatedUtc = T0.AddHours(2),
        }));
        Assert.Equal(1_000_000_000_000, Read(store, tx => tx.GeneralCursor(seeded.Integration.Id)));

        using (var tx = store.BeginWrite())
        {
            tx.SetGeneralCursor(other.Id, 7);
            // Disposed without Commit.
        }
        Assert.Equal(0, Read(store, tx => tx.GeneralCursor(other.Id)));
    }

    [Fact]
    public void A_general_seq_is_never_reused_after_the_log_was_trimmed_empty_even_after_reopening()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var enterpriseId = seeded.Enterprise.Id;
        var events = Append(store,
            NewEvent(enterpriseId, GeneralDiscriminators.ResourceUpdated),
            NewEvent(enterpriseId, GeneralDiscriminators.ResourceUpdated),
            NewEvent(enterpriseId, GeneralDiscriminators.ResourceUpdated));
        var last = events[^1].Seq;

        Write(store, tx =>
        {
            tx.SetGeneralCursor(seeded.Integration.Id, last);
            tx.TrimGeneralEvents(enterpriseId);
        });
        Assert.Empty(LoadEvents(store, enterpriseId));
        Assert.Equal(last, Read(store, tx => tx.LastGeneralEventSeq(Guid.Empty)));

        var next = Assert.Single(Append(store, NewEvent(enterpriseId, GeneralDiscriminators.ResourceUpdated)));
        Assert.True(next.Seq > last, $"seq {next.Seq} after the trimmed {last}");
        Assert.Equal(next.Seq, Read(store, tx => tx.LastGeneralEventSeq(Guid.Empty)));

        Write(store, tx =>
        {
            tx.SetGeneralCursor(seeded.Integration.Id, next.Seq);
            tx.TrimGeneralEvents(enterpriseId);
        });
        Assert.Empty(LoadEvents(store, enterpriseId));
        store.Dispose();

        var reopened = Own(ReopenStore());
        reopened.Migrate();
        Assert.Equal(next.Seq, Read(reopened, tx => tx.LastGeneralEventSeq(Guid.Empty)));
        var afterReopen = Assert.Single(Append(reopened, NewEvent(enterpriseId, GeneralDiscriminators.ResourceUpdated)));
        Assert.True(afterReopen.Seq > next.Seq, $"seq {afterReopen.Seq} after the trimmed {next.Seq}");
    }

    [Fact]
    public void TrimGeneralEvents_deletes_only_what_every_enabled_integration_of_the_enterprise_has_taken()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var a = seeded.Enterprise.Id;
        var b = AddEnterprise(store, "Other Hotel").Id;
        var ahead = seeded.Integration;
        var behind = AddIntegration(store, seeded);
        var disabled = AddIntegration(store, a, seeded.Client.Id, IntegrationState.Disabled); // cursor 0, ignored
        var canceled = AddIntegration(store, a, seeded.Client.Id, IntegrationState.Canceled); // cursor 0, ignored
        var ofB = AddIntegration(store, b, seeded.Client.Id, IntegrationState.Enabled);
        var events = Append(store,
            NewEvent(a, GeneralDiscriminators.ResourceUpdated),
            NewEvent(b, GeneralDiscriminators.ResourceUpdated),
            NewEvent(a, GeneralDiscriminators.CustomerAdded),
            NewEvent(a, GeneralDiscriminators.PaymentUpdated),
            NewEvent(b, GeneralDiscriminators.PaymentUpdated),
            NewEvent(a, GeneralDiscriminators.MessageAdded),
            NewEvent(a, GeneralDiscriminators.ServiceOrderUpdated));
        GeneralEventRecord[] e = [events[0], events[2], events[3], events[5], events[6]];
        GeneralEventRecord[] f = [events[1], events[4]];

        Write(store, tx =>
        {
            tx.SetGeneralCursor(ahead.Id, e[3].Seq);
            tx.SetGeneralCursor(behind.Id, e[1].Seq);
        });
        Write(store, tx => tx.TrimGeneralEvents(a));
        AssertEvents(e[2..], LoadEvents(store, a));
        AssertEvents(f, LoadEvents(store, b));

        Write(store, tx => tx.TrimGeneralEvents(a)); // nothing more was taken by everyone
        AssertEvents(e[2..], LoadEvents(store, a));

        Write(store, tx => tx.SetGeneralCursor(behind.Id, e[4].Seq));
        Write(store, tx => tx.TrimGeneralEvents(a)); // up to and including the lowest cursor
        AssertEvents(e[4..], LoadEvents(store, a));

        Write(store, tx => tx.TrimGeneralEvents(b)); // its Enabled integration has taken nothing
        AssertEvents(f, LoadEvents(store, b));

        SetState(store, ahead, IntegrationState.Disabled);
        SetState(store, behind, IntegrationState.Canceled);
        Write(store, tx => tx.TrimGeneralEvents(a)); // no Enabled integration: all of it goes
        Assert.Empty(LoadEvents(store, a));
        AssertEvents(f, LoadEvents(store, b));
        Assert.Equal(0, Read(store, tx => tx.GeneralCursor(disabled.Id)));
        Assert.Equal(0, Read(store, tx => tx.GeneralCursor(canceled.Id)));
        Assert.Equal(0, Read(store, tx => tx.GeneralCursor(ofB.Id)));
    }

    [Fact]
    public void TrimGeneralEvents_of_an_enterprise_without_integrations_deletes_its_whole_log()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var lonely = AddEnterprise(store, "No integrations");
        var events = Append(store,
            NewEvent(lonely.Id, GeneralDiscriminators.ResourceUpdated),
            NewEvent(seeded.Enterprise.Id, GeneralDiscriminators.ResourceUpdated),
            NewEvent(lonely.Id, GeneralDiscriminators.CustomerAdded));

        Write(store, tx => tx.TrimGeneralEvents(lonely.Id));

        Assert.Empty(LoadEvents(store, lonely.Id));
        AssertEvents([events[1]], LoadEvents(store, seeded.Enterprise.Id));
    }

    [Fact]
    public void ListIntegrationsWithUnformedEvents_names_the_enabled_integrations_with_events_beyond_their_cursor()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var a = seeded.Enterprise.Id;
        var b = AddEnterprise(store, "Quiet Hotel").Id;
        var c = AddEnterprise(store, "Busy Hotel").Id;
        var behind = seeded.Integration;
        var caughtUp = AddIntegration(store, seeded);
        AddIntegration(store, a, seeded.Client.Id, IntegrationState.Disabled);
        AddIntegration(store, a, seeded.Client.Id, IntegrationState.Canceled);
        AddIntegration(store, b, seeded.Client.Id, IntegrationState.Enabled); // its enterprise has no events
        var ofC = AddIntegration(store, c, seeded.Client.Id, IntegrationState.Enabled);
        Assert.Empty(store.ListIntegrationsWithUnformedEvents());

        var events = Append(store,
            NewEvent(a, GeneralDiscriminators.ResourceUpdated),
            NewEvent(c, GeneralDiscriminators.ResourceUpdated),
            NewEvent(a, GeneralDiscriminators.PaymentUpdated));
        Write(store, tx => tx.SetGeneralCursor(caughtUp.Id, events[2].Seq));

        Assert.Equal(new[] { behind.Id, ofC.Id }.Order(), store.ListIntegrationsWithUnformedEvents().Order());

        Write(store, tx =>
        {
            tx.SetGeneralCursor(behind.Id, events[0].Seq); // still one event of A behind
            tx.SetGeneralCursor(ofC.Id, events[1].Seq);
        });
        Assert.Equal([behind.Id], store.ListIntegrationsWithUnformedEvents());

        Write(store, tx => tx.SetGeneralCursor(behind.Id, events[2].Seq));
        Assert.Empty(store.ListIntegrationsWithUnformedEvents());
    }

    [Fact]
    public void ListGeneralRoutes_names_only_the_enterprises_enabled_integrations_with_their_subscriptions_and_clients()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var second = AddIntegration(store, seeded);
        AddIntegration(store, seeded.Enterprise.Id, seeded.Client.Id, IntegrationState.Disabled);
        AddIntegration(store, seeded.Enterprise.Id, seeded.Client.Id, IntegrationState.Canceled);
        AddIntegration(store, seeded.Enterprise.Id, seeded.Client.Id, IntegrationState.Deleted);
        var noUrl = NewClient("Integration Webhooks only") with { GeneralWebhookUrl = null, ContractVersion = ContractVersion.December2019 };
        var customersOnly = NewIntegration(seeded.Enterprise.Id, noUrl.Id) with
        {
            GeneralEvents = EventSubscription.Only([GeneralDiscriminators.CustomerAdded]),
        };
        Write(store, tx =>
        {
            tx.InsertClient(noUrl);
            tx.InsertIntegration(customersOnly);
        });
        var other = AddEnterprise(store, "Other Hotel");
        var ofOther = AddIntegration(store, other.Id, seeded.Client.Id, IntegrationState.Enabled);
        var empty = AddEnterprise(store, "Empty Hotel");

        Assert.Equal(
            new[]
            {
                new GeneralRoute(seeded.Integration.Id, EventSubscription.All, true, ContractVersion.January2021),
                new GeneralRoute(second.Id, EventSubscription.All, true, ContractVersion.January2021),
                new GeneralRoute(customersOnly.Id, EventSubscription.Only([GeneralDiscriminators.CustomerAdded]), false, ContractVersion.December2019),
            }.OrderBy(r => r.IntegrationId),
            Read(store, tx => tx.ListGeneralRoutes(seeded.Enterprise.Id)).OrderBy(r => r.IntegrationId));
        Assert.Equal([ofOther.Id], Read(store, tx => tx.ListGeneralRoutes(other.Id)).Select(r => r.IntegrationId));
        Assert.Empty(Read(store, tx => tx.ListGeneralRoutes(empty.Id)));

        SetState(store, second, IntegrationState.Disabled);
        Assert.Equal(new[] { seeded.Integration.Id, customersOnly.Id }.Order(),
            Read(store, tx => tx.ListGeneralRoutes(seeded.Enterprise.Id)).Select(r => r.IntegrationId).Order());
    }

    [Fact]
    public void Ingest_records_round_trip_and_are_deleted_by_key_or_by_age()
    {
        var store = NewStore();
        var a = AddEnterprise(store, "First").Id;
        var b = AddEnterprise(store, "Second").Id;
        var old = new IngestRecord(a, "key-old", [0x01, 0x02], [0x7B, 0x7D], T0.AddHours(-1));
        var first = new IngestRecord(a, "key-1", [0xAA, 0x00, 0xFF], """{"Accepted":3}"""u8.ToArray(), T0);
        var atCutoff = new IngestRecord(a, "key-2", [0x03], [0x00], T0.AddHours(1));
        var sameKeyElsewhere = new IngestRecord(b, "key-1", [0x04], """{"Accepted":1}"""u8.ToArray(), T0.AddHours(2));
        Write(store, tx =>
        {
            tx.InsertIngest(old);
            tx.InsertIngest(first);
            tx.InsertIngest(atCutoff);
            tx.InsertIngest(sameKeyElsewhere);
            AssertIngest(first, tx.FindIngest(a, "key-1")); // reads in the transaction see its writes
        });

        AssertIngest(old, Read(store, tx => tx.FindIngest(a, "key-old")));
        AssertIngest(first, Read(store, tx => tx.FindIngest(a, "key-1")));
        AssertIngest(atCutoff, Read(store, tx => tx.FindIngest(a, "key-2")));
        AssertIngest(sameKeyElsewhere, Read(store, tx => tx.FindIngest(b, "key-1")));
        Assert.Null(Read(store, tx => tx.FindIngest(a, "key-missing")));
        Assert.Null(Read(store, tx => tx.FindIngest(Guid.NewGuid(), "key-1")));
        Assert.Null(Read(store, tx => tx.FindIngest(a, "KEY-1"))); // keys are compared exactly

        Write(store, tx => tx.DeleteIngest(a, "key-1"));
        Assert.Null(Read(store, tx => tx.FindIngest(a, "key-1")));
        AssertIngest(sameKeyElsewhere, Read(store, tx => tx.FindIngest(b, "key-1")));
        Write(store, tx => tx.DeleteIngest(a, "key-missing")); // forgetting an unknown key is no error

        Assert.Equal(1, Write(store, tx => tx.DeleteIngestsBefore(T0.AddHours(1), 100))); // strictly older only
        Assert.Null(Read(store, tx => tx.FindIngest(a, "key-old")));
        AssertIngest(atCutoff, Read(store, tx => tx.FindIngest(a, "key-2")));
        AssertIngest(sameKeyElsewhere, Read(store, tx => tx.FindIngest(b, "key-1")));

        Assert.Equal(2, Write(store, tx => tx.DeleteIngestsBefore(T0.AddDays(1), 100)));
        Assert.Null(Read(store, tx => tx.FindIngest(a, "key-2")));
        Assert.Null(Read(store, tx => tx.FindIngest(b, "key-1")));
        Assert.Equal(0, Write(store, tx => tx.DeleteIngestsBefore(T0.AddDays(1), 100)));
    }

    [Fact]
    public void Expired_idempotency_keys_are_forgotten_oldest_first_at_most_the_limit_of_each_kind_per_call()
    {
        var store = NewStore();
        var enterprise = AddEnterprise(store, "Keys").Id;
        // Written newest first, so that the order forgotten is the age, not the order written.
        Write(store, tx =>
        {
            for (var i = 4; i >= 0; i--)
            {
                tx.InsertIngest(new IngestRecord(enterprise, $"ingest-{i}", [1], [2], T0.AddMinutes(i)));
                Assert.True(tx.TryInsertIdempotentRequest(new IdempotentRequestRecord("admin", $"command-{i}", [3], T0.AddMinutes(i), null), T0.AddDays(-1)));
            }
            tx.InsertIngest(new IngestRecord(enterprise, "ingest-live", [1], [2], T0.AddHours(1)));
        });
        bool Kept(int i) => Read(store, tx => tx.FindIngest(enterprise, $"ingest-{i}")) is not null;
        bool CommandKept(int i) => Write(store, tx => tx.FindIdempotentRequest("admin", $"command-{i}")) is not null;

        Assert.Equal(4, Write(store, tx => tx.DeleteIngestsBefore(T0.AddMinutes(30), 2)));
        Assert.Equal([false, false, true, true, true], Enumerable.Range(0, 5).Select(Kept));
        Assert.Equal([false, false, true, true, true], Enumerable.Range(0, 5).Select(CommandKept));

        Assert.Equal(4, Write(store, tx => tx.DeleteIngestsBefore(T0.AddMinutes(30), 2)));
        Assert.Equal(2, Write(store, tx => tx.DeleteIngestsBefore(T0.AddMinutes(30), 2)));
        Assert.Equal(0, Write(store, tx => tx.DeleteIngestsBefore(T0.AddMinutes(30), 2)));
        Assert.NotNull(Read(store, tx => tx.FindIngest(enterprise, "ingest-live")));
    }

    [Fact]
    public void An_idempotency_key_is_unique_within_its_enterprise()
    {
        var store = NewStore();
        var a = AddEnterprise(store, "First").Id;
        var b = AddEnterprise(store, "Second").Id;
        var original = new IngestRecord(a, "key-1", [0x01], [0x02], T0);
        Write(store, tx => tx.InsertIngest(original));

        using (var tx = store.BeginWrite())
        {
            Assert.ThrowsAny<Exception>(() => tx.InsertIngest(new IngestRecord(a, "key-1", [0x09], [0x09], T0.AddHours(1))));
            // Disposed without Commit: a failed statement may have spoiled the transaction on some providers.
        }

        AssertIngest(original, Read(store, tx => tx.FindIngest(a, "key-1")));
        var elsewhere = new IngestRecord(b, "key-1", [0x03], [0x04], T0);
        Write(store, tx => tx.InsertIngest(elsewhere));
        AssertIngest(elsewhere, Read(store, tx => tx.FindIngest(b, "key-1")));
        AssertIngest(original, Read(store, tx => tx.FindIngest(a, "key-1")));
    }

    [Fact]
    public void Subscriptions_round_trip_through_insert_update_and_every_way_of_finding_an_integration()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var some = NewIntegration(seeded.Enterprise.Id, seeded.Client.Id) with
        {
            GeneralEvents = EventSubscription.Only([GeneralDiscriminators.CustomerUpdated, GeneralDiscriminators.PaymentUpdated]),
            WebSocketEvents = EventSubscription.Only([]),
        };
        var none = NewIntegration(seeded.Enterprise.Id, seeded.Client.Id) with
        {
            GeneralEvents = EventSubscription.Only([]),
            WebSocketEvents = EventSubscription.Only([WebSocketEventTypes.Reservation]),
        };
        Write(store, tx =>
        {
            tx.InsertIntegration(some);
            tx.InsertIntegration(none);
        });

        foreach (var integration in new[] { seeded.Integration, some, none })
        {
            var found = store.FindIntegration(integration.Id);
            Assert.Equal(integration, found);
            Assert.Equal(integration, store.FindIntegrationByAccessTokenHash(integration.AccessToken.Hash));
            Assert.Equal(integration, Read(store, tx => tx.FindIntegration(integration.Id)));
            Assert.Equal(integration, Assert.Single(
                store.ListIntegrations(new IntegrationQuery(null, null, null, 10, null)), i => i.Id == integration.Id));
        }
        var stored = store.FindIntegration(none.Id)!;
        Assert.False(stored.GeneralEvents.IsAll);
        Assert.Empty(stored.GeneralEvents.Names!);
        Assert.False(stored.GeneralEvents.Includes(GeneralDiscriminators.CustomerUpdated));
        Assert.True(store.FindIntegration(seeded.Integration.Id)!.GeneralEvents.IsAll);
        Assert.Equal([GeneralDiscriminators.CustomerUpdated, GeneralDiscriminators.PaymentUpdated],
            store.FindIntegration(some.Id)!.GeneralEvents.Names!);

        var swapped = new[]
        {
            seeded.Integration with { GeneralEvents = EventSubscription.Only([]), WebSocketEvents = EventSubscription.Only([WebSocketEventTypes.Resource, WebSocketEventTypes.PriceUpdate]) },
            some with { GeneralEvents = EventSubscription.All, WebSocketEvents = EventSubscription.All },
            none with { GeneralEvents = EventSubscription.Only([GeneralDiscriminators.ResourceUpdated]) },
        };
        Write(store, tx =>
        {
            foreach (var integration in swapped)
            {
                tx.UpdateIntegration(integration);
            }
        });
        foreach (var integration in swapped)
        {
            Assert.Equal(integration, store.FindIntegration(integration.Id));
            Assert.Equal(integration, store.FindIntegrationByAccessTokenHash(integration.AccessToken.Hash));
        }
    }

    [Fact]
    public void The_general_webhook_disablement_of_a_client_round_trips_through_insert_and_update()
    {
        var store = NewStore();
        var parked = NewClient("Parked") with
        {
            GeneralWebhookDisabledUtc = T0.AddHours(1),
            GeneralWebhookDisabledReason = "The receiver answered 410 Gone.",
        };
        var active = NewClient("Active");
        Write(store, tx =>
        {
            tx.InsertClient(parked);
            tx.InsertClient(active);
        });
        Assert.Equal(parked, store.FindClient(parked.Id));
        Assert.Equal(active, store.FindClient(active.Id));

        var bothDisabled = active with
        {
            IntegrationWebhookDisabledUtc = T0.AddHours(2),
            IntegrationWebhookDisabledReason = "Integration receiver gone.",
            GeneralWebhookDisabledUtc = T0.AddHours(3),
            GeneralWebhookDisabledReason = "General receiver gone.",
        };
        var resumed = parked with { GeneralWebhookDisabledUtc = null, GeneralWebhookDisabledReason = null, GeneralWebhookUrl = "https://new.example.com/general" };
        Write(store, tx =>
        {
            tx.UpdateClient(bothDisabled);
            tx.UpdateClient(resumed);
            Assert.Equal(bothDisabled, tx.FindClient(active.Id));
        });
        Assert.Equal(bothDisabled, store.FindClient(active.Id));
        Assert.Equal(resumed, store.FindClient(parked.Id));
        Assert.Equal(bothDisabled, store.FindClientByTokenHash(active.ClientToken.Hash));
        Assert.Equal(
            new[] { bothDisabled, resumed }.OrderBy(c => Key(c.Id), StringComparer.Ordinal),
            store.ListClients(10, null));
    }

    [Fact]
    public void Clients_and_integrations_are_found_by_their_exact_tokens()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var otherClient = NewClient("Other");
        Write(store, tx => tx.InsertClient(otherClient));
        var second = AddIntegration(store, seeded, otherClient);

        Assert.Equal(seeded.Client, store.FindClientByTokenHash(seeded.Client.ClientToken.Hash));
        Assert.Equal(otherClient, store.FindClientByTokenHash(otherClient.ClientToken.Hash));
        Assert.Null(store.FindClientByTokenHash(TokenDigest.HashOf("unknown-token")));
        Assert.Null(store.FindClientByTokenHash(seeded.Client.ClientToken.Hash.ToUpperInvariant()));
        Assert.Null(store.FindClientByTokenHash(seeded.Integration.AccessToken.Hash)); // an access token is not a client token

        Assert.Equal(seeded.Integration, store.FindIntegrationByAccessTokenHash(seeded.Integration.AccessToken.Hash));
        Assert.Equal(second, store.FindIntegrationByAccessTokenHash(second.AccessToken.Hash));
        Assert.Null(store.FindIntegrationByAccessTokenHash(TokenDigest.HashOf("unknown-token")));
        Assert.Null(store.FindIntegrationByAccessTokenHash(seeded.Client.ClientToken.Hash));

        var regenerated = second with { AccessToken = TokenDigest.Of(Unique("regenerated")), UpdatedUtc = T0.AddHours(1) };
        Write(store, tx => tx.UpdateIntegration(regenerated));
        Assert.Null(store.FindIntegrationByAccessTokenHash(second.AccessToken.Hash));
        Assert.Equal(regenerated, store.FindIntegrationByAccessTokenHash(regenerated.AccessToken.Hash));
    }

    [Fact]
    public void Integration_and_general_messages_of_one_integration_wait_in_separate_lanes()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var other = AddIntegration(store, seeded);
        var id = seeded.Integration.Id;
        var clientId = seeded.Client.Id;
        var i1 = Insert(store, NewMessage(clientId, id));
        var g1 = Insert(store, NewMessage(clientId, id, channel: WebhookChannel.General, eventType: "General"));
        var i2 = Insert(store, NewMessage(clientId, id, eventType: IntegrationActions.Enabled));
        var g2 = Insert(store, NewMessage(clientId, id, channel: WebhookChannel.General, eventType: "General"));
        var o1 = Insert(store, NewMessage(clientId, other.Id, channel: WebhookChannel.General, eventType: "General"));
        Insert(store, NewMessage(clientId, other.Id, MessageStatus.Delivered));
        var integrationLane = new DeliveryLane(id, WebhookChannel.Integration);
        var generalLane = new DeliveryLane(id, WebhookChannel.General);
        var othersGeneralLane = new DeliveryLane(other.Id, WebhookChannel.General);

        Assert.Equal(
            Sorted([integrationLane, generalLane, othersGeneralLane]),
            Sorted(store.ListLanesWithPending()));
        AssertPending([i1, i2], store.LoadPending(integrationLane, 0, 100));
        AssertPending([g1, g2], store.LoadPending(generalLane, 0, 100));
        AssertPending([g2], store.LoadPending(generalLane, g1.QueueSeq, 100));
        AssertPending([g1, g2], store.LoadPending(generalLane, i1.QueueSeq, 100)); // positions are shared by all lanes
        AssertPending([g1], store.LoadPending(generalLane, 0, 1));
        AssertPending([i2], store.LoadPending(integrationLane, g1.QueueSeq, 100));
        AssertPending([o1], store.LoadPending(othersGeneralLane, 0, 100));
        Assert.Empty(store.LoadPending(new DeliveryLane(other.Id, WebhookChannel.Integration), 0, 100));

        Write(store, tx =>
        {
            tx.UpdateProgress(Delivered(i1));
            tx.UpdateProgress(Delivered(i2));
        });
        Assert.Equal(
            Sorted([generalLane, othersGeneralLane]),
            Sorted(store.ListLanesWithPending()));
        AssertPending([g1, g2], store.LoadPending(generalLane, 0, 100));
        Assert.Empty(store.LoadPending(integrationLane, 0, 100));
    }

    [Fact]
    public void General_state_survives_reopening_the_store()
    {
        var store = NewStore();
        var enterprise = NewEnterprise();
        var client = NewClient() with
        {
            GeneralWebhookDisabledUtc = T0.AddHours(1),
            GeneralWebhookDisabledReason = "The receiver answered 410 Gone.",
        };
        var integration = NewIntegration(enterprise.Id, client.Id) with
        {
            GeneralEvents = EventSubscription.Only([GeneralDiscriminators.ResourceUpdated]),
            WebSocketEvents = EventSubscription.Only([]),
        };
        var ingest = new IngestRecord(enterprise.Id, "key-1", [0x01, 0x00], """{"Accepted":2}"""u8.ToArray(), T0);
        Write(store, tx =>
        {
            tx.InsertEnterprise(enterprise);
            tx.InsertClient(client);
            tx.InsertIntegration(integration);
            tx.InsertIngest(ingest);
        });
        var events = Append(store,
            NewEvent(enterprise.Id, GeneralDiscriminators.ResourceUpdated, [0x7B, 0x00, 0x7D]),
            NewEvent(enterprise.Id, GeneralDiscriminators.CustomerAdded));
        Write(store, tx => tx.SetGeneralCursor(integration.Id, events[0].Seq));
        var general = Insert(store, NewMessage(client.Id, integration.Id, channel: WebhookChannel.General, eventType: "General"));
        store.Dispose();

        var reopened = Own(ReopenStore());
        reopened.Migrate();

        AssertEvents(events, LoadEvents(reopened, enterprise.Id));
        Assert.Equal(events[1].Seq, Read(reopened, tx => tx.LastGeneralEventSeq(Guid.Empty)));
        Assert.Equal(events[0].Seq, Read(reopened, tx => tx.GeneralCursor(integration.Id)));
        Assert.Equal([integration.Id], Read(reopened, tx => tx.ListGeneralRoutes(enterprise.Id)).Select(r => r.IntegrationId));
        Assert.Equal([integration.Id], reopened.ListIntegrationsWithUnformedEvents());
        AssertIngest(ingest, Read(reopened, tx => tx.FindIngest(enterprise.Id, "key-1")));
        Assert.Equal(client, reopened.FindClient(client.Id));
        Assert.Equal(client, reopened.FindClientByTokenHash(client.ClientToken.Hash));
        Assert.Equal(integration, reopened.FindIntegration(integration.Id));
        Assert.Equal(integration, reopened.FindIntegrationByAccessTokenHash(integration.AccessToken.Hash));
        Assert.Equal([new DeliveryLane(integration.Id, WebhookChannel.General)], reopened.ListLanesWithPending());
        AssertPending([general], reopened.LoadPending(new DeliveryLane(integration.Id, WebhookChannel.General), 0, 10));

        Write(reopened, tx => tx.TrimGeneralEvents(enterprise.Id));
        AssertEvents(events.Skip(1), LoadEvents(reopened, enterprise.Id));
    }

    // Units that name the enterprise they append to may find it locked and its Enabled integrations read ahead with the
    // group's others, and their appends sent later (PostgreSQL does both); a unit that names an integration may find the
    // events after its cursor read ahead. Whatever the provider: a refused append leaves nothing, an unknown enterprise is
    // refused alone, an enable earlier in the group is among the integrations an append wakes, events keep the order of
    // their appends, and a read of the log sees every event committed before the group, in order.
    [Fact]
    public async Task Appends_that_name_their_enterprise_wake_whoever_is_enabled_when_they_run_and_keep_the_log_in_order()
    {
        var store = NewStore();
        var writer = NewWriter(store);
        var seeded = Seed(store);
        var disabled = AddIntegration(store, seeded.Enterprise.Id, seeded.Client.Id, IntegrationState.Disabled);
        var enterpriseId = seeded.Enterprise.Id;
        var before = Append(store, NewEvent(enterpriseId, GeneralDiscriminators.ResourceUpdated),
            NewEvent(enterpriseId, GeneralDiscriminators.CustomerAdded));
        GeneralEventRecord[] first = [NewEvent(enterpriseId, GeneralDiscriminators.PaymentUpdated)];
        GeneralEventRecord[] refusedEvents = [NewEvent(enterpriseId, GeneralDiscriminators.MessageAdded)];
        GeneralEventRecord[] second = [NewEvent(enterpriseId, GeneralDiscriminators.ServiceOrderUpdated),
            NewEvent(enterpriseId, GeneralDiscriminators.ResourceUpdated)];
        IReadOnlyList<Guid> Appended(IWriteTransaction tx, GeneralEventRecord[] events)
        {
            _ = tx.FindEnterprise(events[0].EnterpriseId) ?? throw new KeyNotFoundException("no such enterprise");
            var enabled = tx.ListGeneralRoutes(events[0].EnterpriseId).Select(r => r.IntegrationId).ToList();
            tx.AppendGeneralEvents(events);
            return enabled;
        }
        using var release = new ManualResetEventSlim();
        Task held;
        Task<IReadOnlyList<Guid>> wokenFirst, wokenSecond, unknown, refused;
        Task<bool> enabled;
        Task<IReadOnlyList<GeneralEventRecord>> read;
        try
        {
            held = await HoldWriterAsync(writer, release);
            wokenFirst = writer.ExecuteAsync(tx => Appended(tx, first), enterpriseId: enterpriseId);
            refused = writer.ExecuteAsync<IReadOnlyList<Guid>>(tx =>
            {
                Appended(tx, refusedEvents);
                throw new InvalidOperationException("refused after its append");
            }, enterpriseId: enterpriseId);
            unknown = writer.ExecuteAsync(tx => Appended(tx, [NewEvent(Guid.NewGuid(), GeneralDiscriminators.ResourceUpdated)]),
                enterpriseId: Guid.NewGuid());
            enabled = writer.ExecuteAsync(tx =>
            {
                tx.UpdateIntegration(tx.FindIntegration(disabled.Id)! with { State = IntegrationState.Enabled });
                tx.SetGeneralCursor(disabled.Id, tx.LastGeneralEventSeq(enterpriseId));
                return true;
            }, integrationId: disabled.Id);
            wokenSecond = writer.ExecuteAsync(tx => Appended(tx, second), enterpriseId: enterpriseId);
            read = writer.ExecuteAsync(tx => tx.LoadGeneralEvents(enterpriseId, 0, 512), integrationId: seeded.Integration.Id);
        }
        finally
        {
            release.Set();
        }
        await held;
        Assert.Equal([seeded.Integration.Id], await wokenFirst);
        await Assert.ThrowsAsync<InvalidOperationException>(() => refused);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => unknown);
        Assert.True(await enabled);
        Assert.Equal(new[] { seeded.Integration.Id, disabled.Id }.Order(), (await wokenSecond).Order());
        var seen = await read;
        AssertEvents(before, seen.Take(before.Count));
        Assert.Equal(seen.Select(e => e.Seq).Order(), seen.Select(e => e.Seq));

        var log = LoadEvents(store, enterpriseId);
        Assert.Equal([.. before.Select(e => e.EntityId), .. first.Select(e => e.EntityId), .. second.Select(e => e.EntityId)],
            log.Select(e => e.EntityId));
        Assert.Equal(log.Select(e => e.Seq).Order(), log.Select(e => e.Seq));
        Assert.True(Read(store, tx => tx.GeneralCursor(disabled.Id)) < log.First(e => e.EntityId == second[0].EntityId).Seq,
            "the integration enabled before the second append receives its events");
    }
}
