using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Ingest;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using static ConnectorEvents.Server.Api.RequestReading;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// <c>POST /api/v1/enterprises/{enterpriseId}/events</c>: producers report what happened. Each event is written the
/// way the contract writes it: a General event as in the General message (<c>Discriminator</c>, <c>Value.Id</c>, plus an
/// optional <c>Entity</c> snapshot for 2021-01 clients), a WebSocket event as in a WebSocket frame (<c>Type</c> and
/// its documented fields).
/// </summary>
public static class IngestEndpoints
{
    public const string EndpointName = "IngestEvents";

    public const int MaxIngestBodyBytes = 4 * 1024 * 1024;

    private static readonly Dictionary<string, string[]> WebSocketFields = new(StringComparer.Ordinal)
    {
        [WebSocketEventTypes.DeviceCommand] = ["Type", "Id", "State"],
        [WebSocketEventTypes.Reservation] = ["Type", "Id", "State", "StartUtc", "EndUtc", "AssignedResourceId"],
        [WebSocketEventTypes.Resource] = ["Type", "Id", "State"],
        [WebSocketEventTypes.PriceUpdate] = ["Type", "Id", "StartUtc", "EndUtc", "RateId", "ResourceCategoryId"],
    };

    public static void MapIngest(this IEndpointRouteBuilder api)
    {
        api.MapPost("/enterprises/{enterpriseId}/events", async Task<Accepted<IngestReceipt>> (
            string enterpriseId, HttpRequest request, HttpResponse response, IngestService ingest, IngestBodyBudget budget) =>
        {
            var id = ParseId(enterpriseId, "enterprise");
            var key = request.ReadIdempotencyKey();
            if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                // A backstop only; our reader judges the body itself. Kestrel counts a chunked body's framing too, so at
                // our size it refused a chunked body of exactly the allowed size, which a Content-Length one passes.
                limit.MaxRequestBodySize = 2L * MaxIngestBodyBytes;
            }
            // A body without a length, or claiming more than may be sent, holds the largest share until it is refused.
            var share = request.ContentLength is { } length and <= MaxIngestBodyBytes ? length : MaxIngestBodyBytes;
            if (!budget.TryTake(share))
            {
                throw new ApiProblemException(StatusCodes.Status503ServiceUnavailable, "The server is busy.",
                    "Too many event bodies are being taken in at once (Ingest:MaxBufferedBytes); send this one again later.")
                {
                    CloseConnection = true, // its body is not read: no reading it only to drop it
                };
            }
            try
            {
                using (var body = await request.ReadLargeBodyAsync(share, MaxIngestBodyBytes))
                {
                    var outcome = await ingest.IngestAsync(ReadBatch(id, body.Raw), key, body.Raw.Span);
                    if (outcome.Replayed)
                    {
                        response.Headers[IdempotentPosts.ReplayedHeader] = "true";
                    }
                    return TypedResults.Accepted((string?)null, outcome.Receipt);
                }
            }
            finally
            {
                budget.Return(share);
            }
        }).Accepts<IngestRequest>("application/json").WithName(EndpointName).WithSummary("Post events of an enterprise").WithTags("Events")
            .ProducesProblem(413).ProducesProblem(415).ProducesProblem(422).ProducesProblem(503)
            .WithDescription(
                $"Accepts up to {IngestService.MaxEventsPerRequest} events of one enterprise, answered 202 once they are on disk. " +
                "While too many bodies are being taken in at once the request is refused with 503 and Retry-After. " +
                "General events are routed to the enterprise's Enabled integrations that subscribe to them, batched and sent as " +
                "General Webhooks; WebSocket events are pushed to connected sockets. With an Idempotency-Key header, a retry with " +
                $"the same body gets the same answer (and the header {IdempotentPosts.ReplayedHeader}: true) and adds nothing; the same key with " +
                "another body is refused with 422. Takes the admin key or a producer key.");
    }

    private static IngestBatch ReadBatch(Guid enterpriseId, ReadOnlyMemory<byte> body)
    {
        var (items, count) = RequestReading.SplitArrayField(body.Span, "Events", "events", IngestService.MaxEventsPerRequest);
        if (count == 0 || count > IngestService.MaxEventsPerRequest)
        {
            throw ApiProblemException.Invalid("Events", $"must hold from 1 to {IngestService.MaxEventsPerRequest} events; it holds {count}.");
        }
        var general = new List<IngestedGeneralEvent>();
        var webSocket = new List<WebSocketEvent>();
        // Each event is read into what the batch keeps (strings, GUIDs, its entity's bytes) before its document is disposed.
        RequestReading.ReadItems(body, items, "Events", (item, index) =>
        {
            var path = $"Events[{index}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw ApiProblemException.Invalid(path, "must be an object with a Discriminator (General event) or a Type (WebSocket event).");
            }
            var discriminator = Find(item, "Discriminator");
            var type = Find(item, "Type");
            switch ((discriminator, type))
            {
                case ({ } d, null):
                    general.Add(ReadGeneral(item, d, path));
                    break;
                case (null, { } t):
                    webSocket.Add(ReadWebSocket(item, t, path));
                    break;
                case (null, null):
                    throw ApiProblemException.Invalid(path, "needs a Discriminator (General event) or a Type (WebSocket event).");
                default:
                    throw ApiProblemException.Invalid(path, "has both a Discriminator and a Type; an event is one or the other.");
            }
        });
        return new IngestBatch(enterpriseId, general, webSocket);
    }

    private static IngestedGeneralEvent ReadGeneral(JsonElement item, JsonElement discriminatorElement, string path)
    {
        var discriminator = discriminatorElement.ValueKind == JsonValueKind.String ? discriminatorElement.GetString()! : null;
        if (discriminator is null || !GeneralDiscriminators.IsKnown(discriminator))
        {
            throw ApiProblemException.Invalid($"{path}.Discriminator",
                $"must be one of {string.Join(", ", GeneralDiscriminators.All)} (spelled exactly).");
        }
        Guid? id = null;
        JsonElement? entity = null;
        foreach (var property in item.EnumerateObject())
        {
            switch (property.Name.ToUpperInvariant())
            {
                case "DISCRIMINATOR":
                    break;
                case "VALUE":
                    id = ReadValueId(property.Value, $"{path}.Value");
                    break;
                case "ENTITY":
                    entity = property.Value.ValueKind == JsonValueKind.Null ? null : property.Value;
                    break;
                default:
                    throw ApiProblemException.Invalid($"{path}.{property.Name}", "is not a field of a General event (Discriminator, Value, Entity).");
            }
        }
        if (id is not { } entityId)
        {
            throw ApiProblemException.Invalid($"{path}.Value", "is required: {\"Id\": \"<entity id>\"}.");
        }
        return new IngestedGeneralEvent(discriminator, entityId, entity is { } e ? ReadSnapshot(e, discriminator, entityId, $"{path}.Entity") : null);
    }

    private static Guid ReadValueId(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw ApiProblemException.Invalid(path, "must be an object: {\"Id\": \"<entity id>\"}.");
        }
        Guid? id = null;
        foreach (var property in value.EnumerateObject())
        {
            if (!string.Equals(property.Name, "Id", StringComparison.OrdinalIgnoreCase))
            {
                throw ApiProblemException.Invalid($"{path}.{property.Name}", "is not a known field; Value holds only Id.");
            }
            id = property.Value.ValueKind == JsonValueKind.String && property.Value.TryGetGuid(out var parsed)
                ? parsed
                : throw ApiProblemException.Invalid($"{path}.Id", "must be an id in GUID form.");
        }
        return id ?? throw ApiProblemException.Invalid($"{path}.Id", "is required.");
    }

    /// <summary>The entity's latest state, checked against the shape 2021-01 sends, and kept normalised.</summary>
    private static byte[] ReadSnapshot(JsonElement entity, string discriminator, Guid id, string path)
    {
        if (entity.ValueKind != JsonValueKind.Object)
        {
            throw ApiProblemException.Invalid(path, "must be an object (or null).");
        }
        try
        {
            switch (discriminator)
            {
                case GeneralDiscriminators.ServiceOrderUpdated:
                    var reservation = entity.Deserialize(ContractsJsonContext.Default.ReservationEntity)!;
                    RequireSameId(reservation.Id, id, path);
                    return JsonSerializer.SerializeToUtf8Bytes(reservation, ContractsJsonContext.Default.ReservationEntity);
                case GeneralDiscriminators.ResourceUpdated:
                    var resource = entity.Deserialize(ContractsJsonContext.Default.ResourceEntity)!;
                    RequireSameId(resource.Id, id, path);
                    return JsonSerializer.SerializeToUtf8Bytes(resource, ContractsJsonContext.Default.ResourceEntity);
                default:
                    throw ApiProblemException.Invalid(path,
                        "is carried only by ServiceOrderUpdated (a Reservation) and ResourceUpdated (a Resource), the entities of the 2021-01 Entities block.");
            }
        }
        catch (JsonException ex)
        {
            throw Nested(ex, path);
        }
    }

    private static void RequireSameId(Guid entityId, Guid valueId, string path)
    {
        if (entityId != valueId)
        {
            throw ApiProblemException.Invalid($"{path}.Id", "must equal Value.Id.");
        }
    }

    private static WebSocketEvent ReadWebSocket(JsonElement item, JsonElement typeElement, string path)
    {
        var type = typeElement.ValueKind == JsonValueKind.String ? typeElement.GetString()! : "";
        if (!WebSocketFields.TryGetValue(type, out var fields))
        {
            throw ApiProblemException.Invalid($"{path}.Type", $"must be one of {string.Join(", ", WebSocketEventTypes.All)} (spelled exactly).");
        }
        foreach (var property in item.EnumerateObject())
        {
            if (!fields.Contains(property.Name, StringComparer.OrdinalIgnoreCase))
            {
                throw ApiProblemException.Invalid($"{path}.{property.Name}", $"is not a field of a {type} event ({string.Join(", ", fields)}).");
            }
        }
        try
        {
            return type switch
            {
                WebSocketEventTypes.DeviceCommand => Typed(item, ContractsJsonContext.Default.DeviceCommandEvent, path),
                WebSocketEventTypes.Reservation => Typed(item, ContractsJsonContext.Default.ReservationEvent, path),
                WebSocketEventTypes.Resource => Typed(item, ContractsJsonContext.Default.ResourceEvent, path),
                _ => Typed(item, ContractsJsonContext.Default.PriceUpdateEvent, path),
            };
        }
        catch (JsonException ex)
        {
            throw Nested(ex, path);
        }
    }

    private static T Typed<T>(JsonElement item, JsonTypeInfo<T> type, string path) where T : WebSocketEvent
    {
        var read = item.Deserialize(type)!;
        foreach (var (name, text) in read switch
                 {
                     DeviceCommandEvent c => [("State", c.State)],
                     ReservationEvent r => [("State", r.State)],
                     ResourceEvent r => [("State", r.State)],
                     _ => Array.Empty<(string, string)>(),
                 })
        {
            if (string.IsNullOrWhiteSpace(text) || text.Length > MaxNameLength)
            {
                throw ApiProblemException.Invalid($"{path}.{name}", $"is required: a state name of at most {MaxNameLength} characters.");
            }
        }
        return read;
    }

    /// <summary>A reading error inside an event, named by its place in the request.</summary>
    private static ApiProblemException Nested(JsonException ex, string path)
    {
        var inner = Describe(ex);
        var field = inner.Errors?.Keys.FirstOrDefault() ?? "body";
        var at = field == "body" ? path : $"{path}.{field}";
        var reason = inner.Errors?.Values.FirstOrDefault()?.FirstOrDefault() ?? "has the wrong type or form.";
        if (ex.Message.Contains("missing required properties", StringComparison.Ordinal))
        {
            reason = "misses required fields: " + ex.Message[(ex.Message.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim().TrimEnd('.');
            at = path;
        }
        return ApiProblemException.Invalid(at, reason);
    }

    private static JsonElement? Find(JsonElement item, string name)
    {
        foreach (var property in item.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }
        return null;
    }
}

/// <summary>
/// The ingest body, for OpenAPI: each event is a General event or a WebSocket event, as the contract writes them (the schema
/// is in Api/OpenApi/RequestSchemas.cs; the handler reads the body field by field).
/// </summary>
public sealed record IngestRequest(IReadOnlyList<JsonElement> Events);
