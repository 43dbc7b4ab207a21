using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Realtime;

/// <summary>The WebSocket connections of this process, by integration. (Being built: connections, fan-out, closing.)</summary>
public sealed class WebSocketHub
{
    private int _published;

    public int Published => _published;

    /// <summary>Pushes committed WebSocket events of an enterprise to the connected sockets that subscribe to them.</summary>
    public void Publish(Guid enterpriseId, IReadOnlyList<WebSocketEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        _ = enterpriseId;
        _published += events.Count;
    }

    /// <summary>An integration changed: its sockets close when it left Enabled or its access token changed.</summary>
    public void IntegrationChanged(IntegrationRecord before, IntegrationRecord after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        _published += 0;
    }
}
