using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConnectorEvents.Contracts;

/// <summary>
/// Source-generated serializers for the public webhook and WebSocket shapes: PascalCase names, nulls written,
/// contract timestamps. Reading respects required constructor parameters and nullable annotations, so a missing or
/// null required part fails with a message naming it instead of producing a half-filled record; trailing commas are
/// tolerated because the 2021-01 documentation's own example has one.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.Unspecified,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    PropertyNameCaseInsensitive = true,
    AllowTrailingCommas = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    Converters = [typeof(UtcSecondsConverter)])]
[JsonSerializable(typeof(IntegrationWebhook<IntegrationCreatedData>))]
[JsonSerializable(typeof(IntegrationWebhook<IntegrationStateData>))]
[JsonSerializable(typeof(IntegrationWebhook<IntegrationDeletedData>))]
[JsonSerializable(typeof(IntegrationWebhook<IntegrationApiKeyCreatedData>))]
[JsonSerializable(typeof(GeneralWebhookMessage))]
[JsonSerializable(typeof(GeneralEntities))]
[JsonSerializable(typeof(DeviceCommandEvent))]
[JsonSerializable(typeof(ReservationEvent))]
[JsonSerializable(typeof(ResourceEvent))]
[JsonSerializable(typeof(PriceUpdateEvent))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;

/// <summary>The same options for the shapes that exist only on the wire (see WireShapes.cs).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.Unspecified,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    PropertyNameCaseInsensitive = true,
    AllowTrailingCommas = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    Converters = [typeof(UtcSecondsConverter)])]
[JsonSerializable(typeof(IntegrationWebhook<December2019CreatedData>))]
[JsonSerializable(typeof(May2019CreatedWebhook))]
[JsonSerializable(typeof(January2021GeneralMessage))]
[JsonSerializable(typeof(WebhookBodyWire))]
[JsonSerializable(typeof(IntegrationDataWire))]
[JsonSerializable(typeof(GeneralEventWire))]
[JsonSerializable(typeof(EntityIdWire))]
[JsonSerializable(typeof(WebSocketFrameWire))]
[JsonSerializable(typeof(WebSocketEventTypeWire))]
internal sealed partial class WireJsonContext : JsonSerializerContext;

/// <summary>The contexts every writer and reader of this library uses.</summary>
internal static class ContractJson
{
    // Bodies are JSON for machines, never embedded in HTML: "Hotel & Spa" and "Zürich" stay as written
    // instead of becoming \u0026 and \u00FC. Quotes, backslashes and control characters are still escaped.
    public static ContractsJsonContext Public { get; } = new(Relaxed(ContractsJsonContext.Default.Options));

    public static WireJsonContext Wire { get; } = new(Relaxed(WireJsonContext.Default.Options));

    private static JsonSerializerOptions Relaxed(JsonSerializerOptions generated) => new(generated)
    {
        TypeInfoResolver = null,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
