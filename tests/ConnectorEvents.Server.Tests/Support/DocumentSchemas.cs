using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace ConnectorEvents.Server.Tests.Support;

/// <summary>
/// Validates JSON bodies against schemas of an OpenAPI 3.1 document with JsonSchema.Net (draft 2020-12, formats checked):
/// the document's components are given to each schema as <c>$defs</c>, so its <c>$ref</c>s resolve.
/// </summary>
public sealed class DocumentSchemas(JsonNode document)
{
    private readonly string _definitions = (document["components"]?["schemas"]?.ToJsonString() ?? "{}").Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);

    /// <summary>Null when <paramref name="body"/> is valid, else what is wrong with it.</summary>
    public string? Problems(JsonNode schema, JsonNode? body)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var wrapper = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["allOf"] = new JsonArray(JsonNode.Parse(schema.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal))),
            ["$defs"] = JsonNode.Parse(_definitions),
        };
        // A base URI of its own each time: JsonSchema.Net keeps built schemas in a registry by URI.
        var built = JsonSchema.FromText(wrapper.ToJsonString(), baseUri: new Uri($"https://schemas.test/{Guid.NewGuid():N}"));
        using var instance = JsonDocument.Parse(body?.ToJsonString() ?? "null");
        var results = built.Evaluate(instance.RootElement, new EvaluationOptions { RequireFormatValidation = true, OutputFormat = OutputFormat.List });
        if (results.IsValid)
        {
            return null;
        }
        return string.Join("; ", (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).Take(5));
    }
}
