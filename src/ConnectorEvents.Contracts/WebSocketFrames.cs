using System.Text.Encodings.Web;
using System.Text.Json;

namespace ConnectorEvents.Contracts;

/// <summary>Builds the exact bytes of a WebSocket message, <c>{"Events":[…]}</c>.</summary>
public static class WebSocketFrameWriter
{
    // As for webhook bodies: machine-read JSON, so names stay readable; quotes and control characters are escaped.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Write(WebSocketFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var json = ContractJson.Public;
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("Events");
            foreach (var webSocketEvent in frame.Events)
            {
                // Each event by its own type, so its documented fields (not just the base's) are written.
                switch (webSocketEvent)
                {
                    case DeviceCommandEvent command: JsonSerializer.Serialize(writer, command, json.DeviceCommandEvent); break;
                    case ReservationEvent reservation: JsonSerializer.Serialize(writer, reservation, json.ReservationEvent); break;
                    case ResourceEvent resource: JsonSerializer.Serialize(writer, resource, json.ResourceEvent); break;
                    case PriceUpdateEvent price: JsonSerializer.Serialize(writer, price, json.PriceUpdateEvent); break;
                    case UnknownWebSocketEvent unknown: unknown.Raw.WriteTo(writer); break;
                    default: throw new ArgumentException($"{webSocketEvent.GetType().Name} is not a WebSocket event of the contract.", nameof(frame));
                }
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }
}

/// <summary>
/// Reads a WebSocket message. Unknown properties are ignored, an event of an unknown <c>Type</c> comes back as
/// <see cref="UnknownWebSocketEvent"/>, and anything unreadable throws <see cref="ContractReadException"/>.
/// </summary>
public static class WebSocketFrameReader
{
    public static WebSocketFrame Read(ReadOnlyMemory<byte> body)
    {
        var root = ContractBody.ParseObject(body);
        var events = ContractBody.Deserialize(root, ContractJson.Wire.WebSocketFrameWire, "The WebSocket message").Events
            ?? throw new ContractReadException("WebSocket message: required 'Events' is missing.");
        var read = new List<WebSocketEvent>(events.Count);
        for (var index = 0; index < events.Count; index++)
        {
            read.Add(ReadEvent(events[index], $"Events[{index}]"));
        }
        return new WebSocketFrame(read);
    }

    private static WebSocketEvent ReadEvent(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ContractReadException($"WebSocket message: '{path}' must be an object; it is {ContractBody.Describe(element.ValueKind)}.");
        }
        var type = ContractBody.Deserialize(element, ContractJson.Wire.WebSocketEventTypeWire, $"WebSocket message '{path}'").Type;
        if (string.IsNullOrWhiteSpace(type))
        {
            throw new ContractReadException($"WebSocket message: '{path}.Type' is missing.");
        }
        var json = ContractJson.Public;
        var what = $"WebSocket message '{path}' ({type})";
        return type switch
        {
            WebSocketEventTypes.DeviceCommand => ContractBody.Deserialize(element, json.DeviceCommandEvent, what),
            WebSocketEventTypes.Reservation => ContractBody.Deserialize(element, json.ReservationEvent, what),
            WebSocketEventTypes.Resource => ContractBody.Deserialize(element, json.ResourceEvent, what),
            WebSocketEventTypes.PriceUpdate => ContractBody.Deserialize(element, json.PriceUpdateEvent, what),
            _ => new UnknownWebSocketEvent(type, element),
        };
    }
}
