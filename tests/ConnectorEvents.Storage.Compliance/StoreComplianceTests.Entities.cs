using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Xunit;

namespace ConnectorEvents.Storage.Compliance;

public abstract partial class StoreComplianceTests
{
    private static string Key(Guid id) => id.ToString("D");

    [Fact]
    public void Migrate_can_run_again_on_a_migrated_store_without_losing_data()
    {
        var store = NewStore();
        var seeded = Seed(store);

        store.Migrate();
        store.Migrate();

        Assert.True(store.Ping());
        Assert.Equal(seeded.Enterprise, store.FindEnterprise(seeded.Enterprise.Id));
        var another = NewEnterprise("After migrating again");
        Write(store, tx => tx.InsertEnterprise(another));
        Assert.Equal(another, store.FindEnterprise(another.Id));
    }

    [Fact]
    public void A_new_store_is_empty()
    {
        var store = NewStore();

        Assert.Empty(store.ListEnterprises(100, null));
        Assert.Empty(store.ListClients(100, null));
        Assert.Empty(store.ListIntegrations(new IntegrationQuery(null, null, null, 100, null)));
        Assert.Empty(store.ListMessages(new MessageQuery(null, null, null, null, 100)));
        Assert.Empty(store.ListLanesWithPending().Select(l => l.IntegrationId));
        Assert.Equal(0, store.MaxQueueSeq());
        Assert.Null(store.FindMessage("msg_unknown"));
        Assert.Null(store.FindEnterprise(Guid.NewGuid()));
        Assert.Null(store.FindClient(Guid.NewGuid()));
        Assert.Null(store.FindIntegration(Guid.NewGuid()));
    }

    [Fact]
    public void Enterprises_round_trip_and_list_in_id_order_after_a_cursor()
    {
        var store = NewStore();
        var enterprises = Enumerable.Range(0, 5).Select(i => NewEnterprise($"Hotel {i}")).ToList();
        Write(store, tx => enterprises.ForEach(tx.InsertEnterprise));
        var ordered = enterprises.OrderBy(e => Key(e.Id), StringComparer.Ordinal).ToList();

        foreach (var enterprise in enterprises)
        {
            Assert.Equal(enterprise, store.FindEnterprise(enterprise.Id));
        }
        Assert.Equal(ordered.Take(2), store.ListEnterprises(2, null));
        Assert.Equal(ordered.Skip(2).Take(2), store.ListEnterprises(2, ordered[1].Id));
        Assert.Equal(ordered.Skip(4), store.ListEnterprises(2, ordered[3].Id));
        Assert.Empty(store.ListEnterprises(2, ordered[4].Id));
    }

    [Fact]
    public void Services_round_trip_and_are_listed_by_enterprise()
    {
        var store = NewStore();
        var first = NewEnterprise("First");
        var second = NewEnterprise("Second");
        var accommodation = NewService(first.Id, "Accommodation");
        var restaurant = NewService(first.Id, "Restaurant");
        var spa = NewService(second.Id, "Spa");
        Write(store, tx =>
        {
            tx.InsertEnterprise(first);
            tx.InsertEnterprise(second);
            tx.InsertService(restaurant);
            tx.InsertService(accommodation);
            tx.InsertService(spa);
        });

        Assert.Equal(
            new[] { accommodation, restaurant }.OrderBy(s => Key(s.Id), StringComparer.Ordinal),
            store.ListServices(first.Id).OrderBy(s => Key(s.Id), StringComparer.Ordinal));
        Assert.Equal([spa], store.ListServices(second.Id));
        Assert.Empty(store.ListServices(Guid.NewGuid()));
        using var tx = store.BeginWrite();
        Assert.Equal(spa, tx.FindService(spa.Id));
        Assert.Null(tx.FindService(Guid.NewGuid()));
    }

    [Fact]
    public void Clients_round_trip_with_and_without_a_disabled_webhook()
    {
        var store = NewStore();
        var client = NewClient();
        var bare = NewClient("No URLs yet") with { IntegrationWebhookUrl = null, GeneralWebhookUrl = null };
        Write(store, tx =>
        {
            tx.InsertClient(client);
            tx.InsertClient(bare);
        });
        Assert.Equal(client, store.FindClient(client.Id));
        Assert.Equal(bare, store.FindClient(bare.Id));

        var disabled = client with
        {
            Name = "Partner App (renamed)",
            IntegrationWebhookUrl = "https://new.example.com/hook?Token=xyz",
            IntegrationWebhookDisabledUtc = T0.AddHours(1),
            IntegrationWebhookDisabledReason = "The receiver answered 410 Gone.",
        };
        Write(store, tx => tx.UpdateClient(disabled));
        Assert.Equal(disabled, store.FindClient(client.Id));

        var enabledAgain = disabled with { IntegrationWebhookDisabledUtc = null, IntegrationWebhookDisabledReason = null };
        Write(store, tx => tx.UpdateClient(enabledAgain));
        Assert.Equal(enabledAgain, store.FindClient(client.Id));
        Assert.Equal(bare, store.FindClient(bare.Id));

        var ordered = new[] { enabledAgain, bare }.OrderBy(c => Key(c.Id), StringComparer.Ordinal).ToList();
        Assert.Equal(ordered, store.ListClients(10, null));
        Assert.Equal(ordered.Skip(1), store.ListClients(10, ordered[0].Id));
        Assert.Equal(ordered.Take(1), store.ListClients(1, null));
    }

    [Fact]
    public void ExpireSecrets_sets_an_expiry_only_on_that_clients_secrets_without_one()
    {
        var store = NewStore();
        var client = NewClient();
        var other = NewClient("Other");
        var current = new SigningSecretRecord(client.Id, "whsec_current", T0, null);
        var retiring = new SigningSecretRecord(client.Id, "whsec_retiring", T0.AddDays(-1), T0.AddHours(1));
        var othersSecret = new SigningSecretRecord(other.Id, "whsec_other", T0, null);
        Write(store, tx =>
        {
            tx.InsertClient(client);
            tx.InsertClient(other);
            tx.InsertSecret(current);
            tx.InsertSecret(retiring);
            tx.InsertSecret(othersSecret);
        });
        Assert.Equal(
            new[] { current, retiring }.OrderBy(s => s.Secret, StringComparer.Ordinal),
            store.ListSecrets(client.Id).OrderBy(s => s.Secret, StringComparer.Ordinal));

        var replacement = new SigningSecretRecord(client.Id, "whsec_new", T0.AddMinutes(30), null);
        Write(store, tx =>
        {
            tx.ExpireSecrets(client.Id, T0.AddDays(1));
            tx.InsertSecret(replacement);
        });

        Assert.Equal(
            new[] { current with { ExpiresUtc = T0.AddDays(1) }, retiring, replacement }.OrderBy(s => s.Secret, StringComparer.Ordinal),
            store.ListSecrets(client.Id).OrderBy(s => s.Secret, StringComparer.Ordinal));
        Assert.Equal([othersSecret], store.ListSecrets(other.Id));
        Assert.Empty(store.ListSecrets(Guid.NewGuid()));
    }

    [Fact]
    public void Integrations_round_trip_with_and_without_requestor_and_service()
    {
        var store = NewStore();
        var enterprise = NewEnterprise();
        var service = NewService(enterprise.Id);
        var client = NewClient();
        var plain = NewIntegration(enterprise.Id, client.Id);
        var full = NewIntegration(enterprise.Id, client.Id, service.Id, new Requestor("Jane Doe", "jane.doe@example.com"),
            IntegrationState.Disabled);
        Write(store, tx =>
        {
            tx.InsertEnterprise(enterprise);
            tx.InsertService(service);
            tx.InsertClient(client);
            tx.InsertIntegration(plain);
            tx.InsertIntegration(full);
        });

        Assert.Equal(plain, store.FindIntegration(plain.Id));
        Assert.Null(store.FindIntegration(plain.Id)!.Requestor);
        Assert.Null(store.FindIntegration(plain.Id)!.ServiceId);
        Assert.Equal(full, store.FindIntegration(full.Id));
    }

    [Fact]
    public void Integration_updates_keep_every_field_including_the_deletion_time()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var canceled = seeded.Integration with
        {
            State = IntegrationState.Canceled,
            EnabledBeforeCancel = true,
            Name = "Renamed",
            AccessToken = TokenDigest.Of(Unique("regenerated")),
            Requestor = new Requestor("Ops", "ops@example.com"),
            UpdatedUtc = T0.AddHours(2),
        };
        Write(store, tx => tx.UpdateIntegration(canceled));
        Assert.Equal(canceled, store.FindIntegration(canceled.Id));

        var deleted = canceled with
        {
            State = IntegrationState.Deleted,
            Requestor = null,
            UpdatedUtc = T0.AddHours(3),
            DeletedUtc = T0.AddHours(3),
        };
        Write(store, tx => tx.UpdateIntegration(deleted));

        Assert.Equal(deleted, store.FindIntegration(deleted.Id));
    }

    [Fact]
    public void Integrations_are_listed_by_enterprise_client_and_state_in_id_order_after_a_cursor()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var otherClient = NewClient("Other");
        var otherEnterprise = NewEnterprise("Other");
        Write(store, tx =>
        {
            tx.InsertClient(otherClient);
            tx.InsertEnterprise(otherEnterprise);
        });
        var second = AddIntegration(store, seeded);
        var ofOtherClient = AddIntegration(store, seeded, otherClient);
        var ofOtherEnterprise = NewIntegration(otherEnterprise.Id, seeded.Client.Id, state: IntegrationState.Disabled);
        Write(store, tx => tx.InsertIntegration(ofOtherEnterprise));
        IntegrationRecord[] all = [seeded.Integration, second, ofOtherClient, ofOtherEnterprise];

        List<IntegrationRecord> Expected(Func<IntegrationRecord, bool> filter) =>
            all.Where(filter).OrderBy(i => Key(i.Id), StringComparer.Ordinal).ToList();

        Assert.Equal(Expected(_ => true), store.ListIntegrations(new IntegrationQuery(null, null, null, 10, null)));
        Assert.Equal(Expected(i => i.EnterpriseId == seeded.Enterprise.Id),
            store.ListIntegrations(new IntegrationQuery(seeded.Enterprise.Id, null, null, 10, null)));
        Assert.Equal(Expected(i => i.ClientId == seeded.Client.Id),
            store.ListIntegrations(new IntegrationQuery(null, seeded.Client.Id, null, 10, null)));
        Assert.Equal(Expected(i => i.State == IntegrationState.Disabled),
            store.ListIntegrations(new IntegrationQuery(null, null, IntegrationState.Disabled, 10, null)));
        Assert.Equal(Expected(i => i.EnterpriseId == seeded.Enterprise.Id && i.ClientId == seeded.Client.Id),
            store.ListIntegrations(new IntegrationQuery(seeded.Enterprise.Id, seeded.Client.Id, IntegrationState.Enabled, 10, null)));

        var everything = Expected(_ => true);
        Assert.Equal(everything.Take(3), store.ListIntegrations(new IntegrationQuery(null, null, null, 3, null)));
        Assert.Equal(everything.Skip(2), store.ListIntegrations(new IntegrationQuery(null, null, null, 10, everything[1].Id)));
    }

    [Fact]
    public void Reads_inside_a_transaction_see_its_own_writes_and_nothing_is_kept_without_commit()
    {
        var store = NewStore();
        var enterprise = NewEnterprise();
        var client = NewClient();
        var integration = NewIntegration(enterprise.Id, client.Id);
        var message = NewMessage(client.Id, integration.Id);

        using (var tx = store.BeginWrite())
        {
            tx.InsertEnterprise(enterprise);
            tx.InsertClient(client);
            tx.InsertIntegration(integration);
            var (seq, queueSeq) = tx.InsertMessage(message);

            Assert.Equal(enterprise, tx.FindEnterprise(enterprise.Id));
            Assert.Equal(client, tx.FindClient(client.Id));
            Assert.Equal(integration, tx.FindIntegration(integration.Id));
            AssertMessage(message with { Seq = seq, QueueSeq = queueSeq }, tx.FindMessage(message.Id));
            // Disposed without Commit.
        }

        Assert.Null(store.FindEnterprise(enterprise.Id));
        Assert.Null(store.FindClient(client.Id));
        Assert.Null(store.FindIntegration(integration.Id));
        Assert.Null(store.FindMessage(message.Id));
        Assert.Equal(0, store.MaxQueueSeq());
    }

    protected static void AssertMessage(MessageRecord expected, MessageRecord? actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        Assert.NotNull(actual);
        Assert.Equal(expected.Body, actual.Body);
        Assert.Equal(expected, actual with { Body = expected.Body });
    }

    protected static void AssertMessages(IEnumerable<MessageRecord> expected, IEnumerable<MessageRecord> actual)
    {
        var wanted = expected.ToList();
        var got = actual.ToList();
        Assert.Equal(wanted.Select(m => m.Id), got.Select(m => m.Id));
        for (var i = 0; i < wanted.Count; i++)
        {
            AssertMessage(wanted[i], got[i]);
        }
    }

    [Fact]
    public void Messages_round_trip_on_both_channels()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var integrationMessage = NewMessage(seeded.Client.Id, seeded.Integration.Id);
        var generalMessage = NewMessage(seeded.Client.Id, seeded.Integration.Id, channel: WebhookChannel.General,
            eventType: "CustomerAdded") with
        {
            Body = [0x7B, 0x00, 0xFF, 0x7D], // bodies are bytes, not text
        };
        var skipped = NewMessage(seeded.Client.Id, seeded.Integration.Id, MessageStatus.Skipped) with
        {
            StatusReason = "The pinned contract version does not know this event.",
        };

        var stored = new[] { integrationMessage, generalMessage, skipped }.Select(m => Insert(store, m)).ToList();

        foreach (var message in stored)
        {
            AssertMessage(message, store.FindMessage(message.Id));
        }
        Assert.Null(store.FindMessage("msg_unknown"));
    }
}
