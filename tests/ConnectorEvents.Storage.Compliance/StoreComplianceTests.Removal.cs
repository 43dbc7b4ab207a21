using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Storage;
using Xunit;

namespace ConnectorEvents.Storage.Compliance;

/// <summary>Deleting a client or an enterprise: what holds it, and what goes with it.</summary>
public abstract partial class StoreComplianceTests
{
    [Fact]
    public void A_client_is_held_by_integrations_not_Deleted_and_pending_messages_and_goes_with_its_secrets_and_integrations_only()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var deleted = NewIntegration(seeded.Enterprise.Id, seeded.Client.Id, state: IntegrationState.Deleted);
        var other = NewClient("Other Partner");
        var othersIntegration = NewIntegration(seeded.Enterprise.Id, other.Id);
        Write(store, tx =>
        {
            tx.InsertIntegration(deleted);
            tx.InsertClient(other);
            tx.InsertIntegration(othersIntegration);
            tx.InsertSecret(new SigningSecretRecord(seeded.Client.Id, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", T0, null));
            tx.InsertSecret(new SigningSecretRecord(other.Id, "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", T0, null));
        });
        var pending = Insert(store, NewMessage(seeded.Client.Id, deleted.Id, channel: WebhookChannel.General, eventType: "CustomerAdded"));
        var delivered = Insert(store, NewMessage(seeded.Client.Id, deleted.Id));
        Write(store, tx => tx.UpdateProgress(Delivered(delivered)));
        Insert(store, NewMessage(other.Id, othersIntegration.Id)); // another client's pending message holds nothing here

        Assert.Equal(new RemovalHold(1, 1), Write(store, tx => tx.FindRemovalHold(IntegrationOwner.Client, seeded.Client.Id)));
        Write(store, tx => tx.UpdateIntegration(seeded.Integration with { State = IntegrationState.Deleted, DeletedUtc = T0.AddHours(1) }));
        Assert.Equal(new RemovalHold(0, 1), Write(store, tx => tx.FindRemovalHold(IntegrationOwner.Client, seeded.Client.Id)));
        Write(store, tx => tx.UpdateProgress(new MessageProgress(pending.Seq, MessageStatus.Failed, "gave up", 8, null, T0.AddHours(2))));
        Assert.Equal(new RemovalHold(0, 0), Write(store, tx => tx.FindRemovalHold(IntegrationOwner.Client, seeded.Client.Id)));

        Write(store, tx => tx.DeleteClient(seeded.Client.Id));

        Assert.Null(store.FindClient(seeded.Client.Id));
        Assert.Empty(store.ListSecrets(seeded.Client.Id));
        Assert.Null(store.FindIntegration(seeded.Integration.Id));
        Assert.Null(store.FindIntegration(deleted.Id));
        // Its messages stay as history until retention; the other client keeps everything.
        Assert.Equal(MessageStatus.Failed, store.FindMessage(pending.Id)?.Status);
        Assert.Equal(MessageStatus.Delivered, store.FindMessage(delivered.Id)?.Status);
        Assert.NotNull(store.FindClient(other.Id));
        Assert.Single(store.ListSecrets(other.Id));
        Assert.Equal(IntegrationState.Enabled, store.FindIntegration(othersIntegration.Id)?.State);
        Assert.NotNull(store.FindEnterprise(seeded.Enterprise.Id));
        Assert.Equal(new RemovalHold(1, 1), Write(store, tx => tx.FindRemovalHold(IntegrationOwner.Enterprise, seeded.Enterprise.Id)));
    }

    [Fact]
    public void An_enterprise_goes_with_its_services_event_log_ingest_keys_and_Deleted_integrations_and_leaves_other_enterprises_alone()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var service = NewService(seeded.Enterprise.Id);
        var neighbour = NewEnterprise("Neighbour Hotel");
        var neighboursIntegration = NewIntegration(neighbour.Id, seeded.Client.Id);
        Write(store, tx =>
        {
            tx.InsertService(service);
            tx.InsertEnterprise(neighbour);
            tx.InsertIntegration(neighboursIntegration);
            tx.AppendGeneralEvents([NewEvent(seeded.Enterprise.Id, GeneralDiscriminators.CustomerAdded)]);
            tx.AppendGeneralEvents([NewEvent(neighbour.Id, GeneralDiscriminators.CustomerAdded)]);
            tx.InsertIngest(new IngestRecord(seeded.Enterprise.Id, "batch-1", [0x01], [0x7B, 0x7D], T0));
            tx.InsertIngest(new IngestRecord(neighbour.Id, "batch-1", [0x02], [0x7B, 0x7D], T0));
        });
        var withService = NewIntegration(seeded.Enterprise.Id, seeded.Client.Id, service.Id, state: IntegrationState.Deleted);
        Write(store, tx => tx.InsertIntegration(withService));

        Assert.Equal(new RemovalHold(1, 0), Write(store, tx => tx.FindRemovalHold(IntegrationOwner.Enterprise, seeded.Enterprise.Id)));
        Write(store, tx => tx.UpdateIntegration(seeded.Integration with { State = IntegrationState.Deleted, DeletedUtc = T0.AddHours(1) }));
        Assert.Equal(new RemovalHold(0, 0), Write(store, tx => tx.FindRemovalHold(IntegrationOwner.Enterprise, seeded.Enterprise.Id)));

        Write(store, tx => tx.DeleteEnterprise(seeded.Enterprise.Id));

        Assert.Null(store.FindEnterprise(seeded.Enterprise.Id));
        Assert.Empty(store.ListServices(seeded.Enterprise.Id));
        Assert.Null(store.FindIntegration(seeded.Integration.Id));
        Assert.Null(store.FindIntegration(withService.Id));
        Assert.Empty(Write(store, tx => tx.LoadGeneralEvents(seeded.Enterprise.Id, 0, 10)));
        Assert.Null(Write(store, tx => tx.FindIngest(seeded.Enterprise.Id, "batch-1")));
        // The client stays (it has another enterprise's integration), and so does everything of the neighbour.
        Assert.NotNull(store.FindClient(seeded.Client.Id));
        Assert.NotNull(store.FindEnterprise(neighbour.Id));
        Assert.Equal(IntegrationState.Enabled, store.FindIntegration(neighboursIntegration.Id)?.State);
        Assert.Single(Write(store, tx => tx.LoadGeneralEvents(neighbour.Id, 0, 10)));
        Assert.NotNull(Write(store, tx => tx.FindIngest(neighbour.Id, "batch-1")));
    }
}
