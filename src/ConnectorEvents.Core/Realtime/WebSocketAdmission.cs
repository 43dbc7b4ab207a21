namespace ConnectorEvents.Core.Realtime;

/// <summary>Whether a socket may connect: refusals are answered before the upgrade.</summary>
public enum WebSocketAdmission
{
    Admitted,

    /// <summary>The integration holds <see cref="RealtimeOptions.MaxConnectionsPerIntegration"/> sockets already.</summary>
    IntegrationFull,

    /// <summary>This process holds <see cref="RealtimeOptions.MaxConnections"/> sockets already.</summary>
    ServerFull,
}
