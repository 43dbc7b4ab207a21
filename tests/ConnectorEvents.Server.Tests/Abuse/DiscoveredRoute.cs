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

    /// <summary>Each path parameter, with the collection segment before it (<c>clients</c> for <c>/clients/{id}</c>).</summary>
    public IEnumerable<(string Name, string Kind)> PathParameters =>
        Template.Split('/').Select((s, i) => (s, i)).Where(p => p.s.StartsWith('{'))
            .Select(p => (p.s.Trim('{', '}'), Template.Split('/')[p.i - 1]));

    /// <summary>The path with real ids (or <paramref name="value"/> for <paramref name="name"/>); null when a parameter is not understood.</summary>
    public string? PathWith(AbuseIds ids, string? name = null, string? value = null)
    {
        var path = Template;
        foreach (var (parameter, kind) in PathParameters)
        {
            var real = kind switch
            {
                "enterprises" => ids.EnterpriseId.ToString(),
                "clients" or "signing-keys" => ids.ClientId.ToString(),
                "integrations" => ids.IntegrationId.ToString(),
                "messages" => ids.MessageId,
                "api-keys" => ids.ApiKeyId.ToString(),
                _ => null,
            };
            if (real is null)
            {
                return null;
            }
            path = path.Replace("{" + parameter + "}", parameter == name ? value : real, StringComparison.Ordinal);
        }
        return path;
    }

    /// <summary>
    /// The server's routes from its OpenAPI document, plus the WebSocket endpoint, which it may not list. Fails when one the
    /// suite knows is missing, or when a body is not described in <see cref="AbuseCases.Bodies"/>: a discovery that finds
    /// little would let every loop over the routes pass by testing nothing.
    /// </summary>
    public static async Task<IReadOnlyList<DiscoveredRoute>> DiscoverAsync(HttpClient http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(http);
        var openApi = JsonNode.Parse(await http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), ct).ConfigureAwait(false))!;
        var routes = Parse(openApi).ToList();
        var missing = AbuseCases.KnownOperations.Where(o => o != "ConnectWebSocket" && routes.All(r => r.OperationId != o)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException("OpenAPI does not list " + string.Join(", ", missing));
        }
        var undescribed = routes.Where(r => r.HasBody && !AbuseCases.Bodies.ContainsKey(r.OperationId)).ToList();
        if (undescribed.Count > 0)
        {
            throw new InvalidOperationException("Describe the body of " + string.Join(", ", undescribed) + " in AbuseCases.Bodies.");
        }
        if (routes.All(r => r.Template != "/ws/connector"))
        {
            routes.Add(new DiscoveredRoute("GET", "/ws/connector", "ConnectWebSocket", [], [], []));
        }
        return routes;
    }

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
