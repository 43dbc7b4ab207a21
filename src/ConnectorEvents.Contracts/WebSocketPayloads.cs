using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConnectorEvents.Contracts;

// WebSocket message bodies (events-websockets.md). Each event writes "Type" first, then exactly the documented
// fields in the documented order. The frame writer and reader dispatch on Type themselves (instead of
// [JsonPolymorphic]) so an unknown Type is kept as received rather than failing the whole frame.

/// <summary>One WebSocket message: <c>{"Events":[…]}</c>.</summary>
public sealed record WebSocketFrame(IReadOnlyList<WebSocketEvent> Events);

/// <summary>A WebSocket event; the subtype follows <see cref="Type"/>.</summary>
public abstract record WebSocketEvent
{
    [JsonPropertyOrder(-1)]
    public abstract string Type { get; }
}

/// <summary>A command for a device the integration handles was created or updated.</summary>
public sealed record DeviceCommandEvent(Guid Id, string State) : WebSocketEvent
{
    [JsonPropertyOrder(-1)]
    public override string Type => WebSocketEventTypes.DeviceCommand;
}

/// <summary>
/// A reservation changed. <c>AssignedResourceId</c> is optional and, as in the documented example, left out
/// when there is none.
/// </summary>
public sealed record ReservationEvent(
    Guid Id,
    string State,
    DateTimeOffset StartUtc,
    DateTimeOffset EndUtc,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Guid? AssignedResourceId = null) : WebSocketEvent
{
    [JsonPropertyOrder(-1)]
    public override string Type => WebSocketEventTypes.Reservation;
}

/// <summary>A resource was created, renamed or changed state.</summary>
public sealed record ResourceEvent(Guid Id, string State) : WebSocketEvent
{
    [JsonPropertyOrder(-1)]
    public override string Type => WebSocketEventTypes.Resource;
}

/// <summary>
/// A rate price was created or updated. The optional fields are written as <c>null</c> when absent, as the
/// documented example does for <c>ResourceCategoryId</c>.
/// </summary>
public sealed record PriceUpdateEvent(
    Guid Id,
    DateTimeOffset? StartUtc = null,
    DateTimeOffset? EndUtc = null,
    Guid? RateId = null,
    Guid? ResourceCategoryId = null) : WebSocketEvent
{
    [JsonPropertyOrder(-1)]
    public override string Type => WebSocketEventTypes.PriceUpdate;
}

/// <summary>An event of a <c>Type</c> the docs do not list, kept as received.</summary>
public sealed record UnknownWebSocketEvent(string EventType, JsonElement Raw) : WebSocketEvent
{
    [JsonIgnore]
    public override string Type => EventType;
}
