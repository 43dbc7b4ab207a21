namespace ConnectorEvents.Contracts;

/// <summary>The <c>Type</c> values of WebSocket events (events-websockets.md).</summary>
public static class WebSocketEventTypes
{
    public const string DeviceCommand = "DeviceCommand";
    public const string Reservation = "Reservation";
    public const string Resource = "Resource";
    public const string PriceUpdate = "PriceUpdate";

    public static IReadOnlyList<string> All { get; } = [DeviceCommand, Reservation, Resource, PriceUpdate];
}
