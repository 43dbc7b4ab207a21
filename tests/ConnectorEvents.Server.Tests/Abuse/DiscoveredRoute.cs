using System.Text.Json.Nodes;

namespace ConnectorEvents.Server.Tests.Abuse;

/// <summary>What a JSON field holds, as far as choosing a wrong type for it goes.</summary>
public enum FieldKind
{
    Text,
    Id,
    Boolean,
    Number,
    List,
    Record,
    Any,
}

/// <summary>A body field from the OpenAPI schema; <see cref="Fields"/> for an object, or for the items of an array.</summary>
public sealed record BodyField(string Name, FieldKind Kind, IReadOnlyList<BodyField> Fields);

/// <summary>One operation of the server's OpenAPI document.</summary>
public sealed record DiscoveredRoute(
    string Method,
    string Template,
    string OperationId,
    IReadOnlyList<string> QueryParameters,
    IReadOnlyList<string> BodyMediaTypes,
    IReadOnlyList<BodyField> BodyFields)
{
    public bool HasBody => BodyMediaTypes.Count > 0;

    public bool UnderApi => Template.StartsWith("/api/", StringComparison.Ordinal);

    public override string ToString() => $"{Method} {Template}";

    /// <summary>Every path and method of <c>/openapi/v1.json</c>, with the query parameters and the body's fields.</summary>
    public static IReadOnlyList<DiscoveredRoute> Parse(JsonNode openApi)
    {
        var schemas = openApi["components"]?["schemas"]?.AsObject();
        var routes = new List<DiscoveredRoute>();
        foreach (var (template, item) in openApi["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                if (method is not ("get" or "post" or "put" or "patch" or "delete"))
                {
                    continue;
                }
                var parameters = (operation!["parameters"]?.AsArray() ?? []).Concat(item["parameters"]?.AsArray() ?? [])
                    .Where(p => (string?)p!["in"] == "query").Select(p => (string)p!["name"]!).ToList();
                var content = operation["requestBody"]?["content"]?.AsObject();
                var mediaTypes = content?.Select(c => c.Key).ToList() ?? [];
                var schema = content?.FirstOrDefault().Value?["schema"];
                var fields = schema is null ? [] : FieldsOf(schema, schemas, 0);
                routes.Add(new DiscoveredRoute(method.ToUpperInvariant(), template, (string?)operation["operationId"] ?? "",
                    parameters, mediaTypes, fields));
            }
        }
        return routes;
    }

    private static JsonNode? Resolve(JsonNode schema, JsonObject? schemas)
    {
        if ((string?)schema["$ref"] is { } reference)
        {
            return schemas?[reference.Split('/')[^1]];
        }
        // A nullable reference is written as oneOf/anyOf [null, $ref].
        foreach (var combinator in new[] { "oneOf", "anyOf", "allOf" })
        {
            if (schema[combinator] is JsonArray options
                && options.FirstOrDefault(o => o!["$ref"] is not null || o["properties"] is not null || TypesOf(o) is ["array"]) is { } option)
            {
                return Resolve(option!, schemas);
            }
        }
        return schema;
    }

    private static string[] TypesOf(JsonNode? schema) => schema?["type"] switch
    {
        JsonArray many => many.Select(t => (string)t!).Where(t => t != "null").ToArray(),
        JsonValue one => [(string)one!],
        _ => [],
    };

    private static List<BodyField> FieldsOf(JsonNode schema, JsonObject? schemas, int depth)
    {
        var resolved = Resolve(schema, schemas);
        if (depth > 3 || resolved?["properties"] is not JsonObject properties)
        {
            return [];
        }
        return properties.Select(p => FieldOf(p.Key, p.Value!, schemas, depth)).ToList();
    }

    private static BodyField FieldOf(string name, JsonNode schema, JsonObject? schemas, int depth)
    {
        var resolved = Resolve(schema, schemas)!;
        var types = TypesOf(resolved);
        if (resolved["properties"] is not null)
        {
            return new BodyField(name, FieldKind.Record, FieldsOf(resolved, schemas, depth + 1));
        }
        return types.FirstOrDefault() switch
        {
            "string" when (string?)resolved["format"] == "uuid" => new BodyField(name, FieldKind.Id, []),
            "string" => new BodyField(name, FieldKind.Text, []),
            "boolean" => new BodyField(name, FieldKind.Boolean, []),
            "integer" or "number" => new BodyField(name, FieldKind.Number, []),
            "array" => new BodyField(name, FieldKind.List, resolved["items"] is { } items ? FieldsOf(items, schemas, depth + 1) : []),
            "object" => new BodyField(name, FieldKind.Record, []),
            _ => new BodyField(name, FieldKind.Any, []),
        };
    }
}
