using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace ConnectorEvents.Server.Api.OpenApi;

/// <summary>
/// Short builders for the JSON Schemas written by hand: request bodies the server reads field by field (its readers
/// accept what no record type says), and the contract's webhook bodies. Each builds a fresh object, so a schema can be
/// placed in several parents.
/// </summary>
internal static class Schemas
{
    public static OpenApiSchema Text(string? description = null) => new() { Type = JsonSchemaType.String, Description = description };

    /// <summary>A name as <see cref="RequestReading.RequireName"/> takes it: some text that is not only spaces.</summary>
    public static OpenApiSchema Name(string description = "Not blank; at most 255 characters once trimmed; no control characters.") =>
        new() { Type = JsonSchemaType.String, Pattern = @"\S", Description = description };

    public static OpenApiSchema Id(string? description = null) =>
        new() { Type = JsonSchemaType.String, Format = "uuid", Description = description };

    public static OpenApiSchema Instant(string? description = null) =>
        new() { Type = JsonSchemaType.String, Format = "date-time", Description = description };

    public static OpenApiSchema Boolean(string? description = null) => new() { Type = JsonSchemaType.Boolean, Description = description };

    public static OpenApiSchema Url(string description) =>
        new() { Type = JsonSchemaType.String, Format = "uri", MaxLength = RequestReading.MaxUrlLength, Description = description };

    public static OpenApiSchema OneOf(IEnumerable<string> values, string? description = null) =>
        new() { Type = JsonSchemaType.String, Enum = values.Select(v => (JsonNode)JsonValue.Create(v)).ToList(), Description = description };

    public static OpenApiSchema Const(string value) => new() { Type = JsonSchemaType.String, Const = value, Enum = [JsonValue.Create(value)] };

    public static OpenApiSchema ListOf(IOpenApiSchema items, string? description = null) =>
        new() { Type = JsonSchemaType.Array, Items = items, Description = description };

    public static OpenApiSchemaReference Ref(string component, OpenApiDocument document) => new(component, document);

    /// <summary>The same schema that also takes null (an enum gets null among its values, as JSON Schema needs).</summary>
    public static OpenApiSchema OrNull(OpenApiSchema schema)
    {
        schema.Type |= JsonSchemaType.Null;
        schema.Enum?.Add(null!);
        return schema;
    }

    /// <summary>A reference that also takes null.</summary>
    public static OpenApiSchema OrNull(IOpenApiSchema reference) =>
        new() { OneOf = [new OpenApiSchema { Type = JsonSchemaType.Null }, reference] };

    /// <summary>An object with exactly these properties (others are refused); <paramref name="required"/> must be present.</summary>
    public static OpenApiSchema Closed(string? description, string[] required, params (string Name, IOpenApiSchema Schema)[] properties) =>
        Object(description, required, properties, closed: true);

    /// <summary>An object with these properties; a receiver should ignore others it may meet later.</summary>
    public static OpenApiSchema Open(string? description, string[] required, params (string Name, IOpenApiSchema Schema)[] properties) =>
        Object(description, required, properties, closed: false);

    private static OpenApiSchema Object(string? description, string[] required, (string Name, IOpenApiSchema Schema)[] properties, bool closed)
    {
        var schema = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = description,
            Properties = properties.ToDictionary(p => p.Name, p => p.Schema, StringComparer.Ordinal),
            Required = new HashSet<string>(required, StringComparer.Ordinal),
        };
        if (closed)
        {
            schema.AdditionalPropertiesAllowed = false;
        }
        return schema;
    }

    /// <summary>Puts <paramref name="schema"/> under <c>components/schemas/<paramref name="name"/></c>, replacing a generated one.</summary>
    public static void Set(OpenApiDocument document, string name, IOpenApiSchema schema)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
        document.Components.Schemas[name] = schema;
    }
}
