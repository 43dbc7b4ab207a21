using System.Globalization;
using System.Text;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Storage.Compliance;

public abstract partial class StoreComplianceTests
{
    /// <summary>A fixed instant with milliseconds, the precision every provider keeps.</summary>
    protected static readonly DateTimeOffset T0 = new(2025, 8, 1, 12, 30, 45, 678, TimeSpan.Zero);

    private static int _counter;

    protected static string Unique(string prefix) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}-{Interlocked.Increment(ref _counter)}-{Guid.NewGuid():N}");

    protected static EnterpriseRecord NewEnterprise(string name = "Sample Chain Hotel") =>
        new(Guid.NewGuid(), name, T0);

    protected static ServiceRecord NewService(Guid enterpriseId, string name = "Accommodation") =>
        new(Guid.NewGuid(), enterpriseId, name, T0.AddMinutes(1));

    protected static ClientRecord NewClient(string name = "Partner App") =>
        new(Guid.NewGuid(), name, TokenDigest.Of(Unique("client-token")), "https://hooks.example.com/integration?Token=abc",
            "https://hooks.example.com/general", null, null, T0.AddMinutes(2), ContractVersion.January2021);

    protected static IntegrationRecord NewIntegration(
        Guid enterpriseId, Guid clientId, Guid? serviceId = null, Requestor? requestor = null,
        IntegrationState state = IntegrationState.Enabled) =>
        new(Guid.NewGuid(), "WebhookTEST", enterpriseId, serviceId, clientId, TokenDigest.Of(Unique("access-token")), state,
            EnabledBeforeCancel: false, requestor, T0.AddMinutes(3), T0.AddMinutes(3), DeletedUtc: null,
            EventSubscription.All, EventSubscription.All);

    protected static MessageRecord NewMessage(
        Guid clientId, Guid integrationId, MessageStatus status = MessageStatus.Pending,
        WebhookChannel channel = WebhookChannel.Integration, string eventType = IntegrationActions.Created) =>
        new(0, Unique("msg"), channel, clientId, integrationId, eventType,
            Encoding.UTF8.GetBytes($$$"""{"Action":"{{{eventType}}}","Data":{}}"""), status, null, 0, 0, null,
            T0.AddMinutes(4), status == MessageStatus.Pending ? null : T0.AddMinutes(5));

    /// <summary>An enterprise, a client and one integration between them, committed.</summary>
    protected sealed record Seeded(EnterpriseRecord Enterprise, ClientRecord Client, IntegrationRecord Integration);

    protected static Seeded Seed(IConnectorStore store)
    {
        var enterprise = NewEnterprise();
        var client = NewClient();
        var integration = NewIntegration(enterprise.Id, client.Id);
        Write(store, tx =>
        {
            tx.InsertEnterprise(enterprise);
            tx.InsertClient(client);
            tx.InsertIntegration(integration);
        });
        return new Seeded(enterprise, client, integration);
    }

    /// <summary>One more integration of the same enterprise and client, committed.</summary>
    protected static IntegrationRecord AddIntegration(IConnectorStore store, Seeded seeded, ClientRecord? client = null)
    {
        ArgumentNullException.ThrowIfNull(seeded);
        var integration = NewIntegration(seeded.Enterprise.Id, (client ?? seeded.Client).Id);
        Write(store, tx => tx.InsertIntegration(integration));
        return integration;
    }

    /// <summary>Inserts a message in its own transaction and returns it as stored.</summary>
    protected static MessageRecord Insert(IConnectorStore store, MessageRecord message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var (seq, queueSeq) = Write(store, tx => tx.InsertMessage(message));
        return message with { Seq = seq, QueueSeq = queueSeq };
    }

    protected static MessageProgress Delivered(MessageRecord message, int attempts = 1) =>
        new(message.Seq, MessageStatus.Delivered, null, attempts, null, T0.AddMinutes(10));
}
