using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Realtime;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Cluster;

/// <summary>
/// What other server processes on the same database committed, as the storage provider's change feed reports it
/// (PostgreSQL <c>LISTEN/NOTIFY</c>). Each call is cheap and never blocks: it hands the news to the dispatcher or the hub.
/// </summary>
public sealed class ClusterSignals(DeliveryDispatcher dispatcher, WebSocketHub hub, IConnectorStore store)
{
    /// <summary>New messages were committed to these lanes (new, or a retry put back in the queue).</summary>
    public void MessagesCommitted(IReadOnlyList<DeliveryLane> lanes) => dispatcher.MessagesCommittedElsewhere(lanes);

    /// <summary>General events were logged for these (Enabled) integrations.</summary>
    public void GeneralEventsLogged(IReadOnlyList<Guid> integrationIds) => dispatcher.EventsArrived(integrationIds);

    /// <summary>A client's URLs, state, token or secrets changed.</summary>
    public void ClientChanged(Guid clientId)
    {
        dispatcher.ClientChanged(clientId);
        if (hub.ConnectionCount > 0 && store.FindClient(clientId) is { } client)
        {
            hub.ClientChanged(client);
        }
    }

    /// <summary>An operator asked the client's lanes that wait for a retry to try now.</summary>
    public void RetryNow(Guid clientId) => dispatcher.RetryNow(clientId);

    /// <summary>An integration's state, token or subscriptions changed.</summary>
    public void IntegrationChanged(Guid integrationId)
    {
        if (store.FindIntegration(integrationId) is { } integration)
        {
            hub.IntegrationChanged(integration);
        }
    }

    /// <summary>WebSocket events another process accepted.</summary>
    public void WebSocketEvents(Guid enterpriseId, IReadOnlyList<WebSocketEvent> events) => hub.Publish(enterpriseId, events);

    /// <summary>The feed lost its connection and may have missed news: every lane is checked against storage again.</summary>
    public void MayHaveMissedSignals() => dispatcher.Rescan();
}
