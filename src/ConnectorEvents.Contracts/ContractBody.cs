using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace ConnectorEvents.Contracts;

/// <summary>Parsing steps every reader shares, each failing with a <see cref="ContractReadException"/> that says why.</summary>
internal static class ContractBody
{
    // The 2021-01 documentation's General example ends its Events array with a comma; tolerate what the docs show.
    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowTrailingCommas = true };

    /// <summary>The body's top-level object, detached from the parse buffers so readings can keep raw parts.</summary>
    public static JsonElement ParseObject(ReadOnlyMemory<byte> body)
    {
        // Some senders prefix UTF-8 text with a byte-order mark, which JSON parsers refuse.
        if (body.Span.StartsWith("\uFEFF"u8))
        {
            body = body[3..];
        }
        if (body.IsEmpty)
        {
            throw new ContractReadException("The body is empty; expected a JSON object.");
        }
        // JsonDocument checks string contents only when they are read, and then throws InvalidOperationException.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            throw new ContractReadException("The body is not valid UTF-8.");
        }
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body, DocumentOptions);
            root = document.RootElement.Clone();
        }
        catch (JsonException error)
        {
            throw new ContractReadException($"The body is not valid JSON: {error.Message}", error);
        }
        return root.ValueKind == JsonValueKind.Object
            ? root
            : throw new ContractReadException($"The body must be a JSON object; it is {Describe(root.ValueKind)}.");
    }

    /// <summary>Typed view of <paramref name="element"/>; <paramref name="what"/> names it in the error.</summary>
    public static T Deserialize<T>(JsonElement element, JsonTypeInfo<T> typeInfo, string what)
    {
        try
        {
            return element.Deserialize(typeInfo) ?? throw new ContractReadException($"{what} is null.");
        }
        catch (JsonException error)
        {
            throw new ContractReadException($"{what} is not as the contract describes it: {error.Message}", error);
        }
    }

    /// <summary>Whether the object has the property, matched the way the serializers match (case-insensitively).</summary>
    public static bool HasProperty(JsonElement objectElement, string name) =>
        objectElement.ValueKind == JsonValueKind.Object
        && objectElement.EnumerateObject().Any(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        JsonValueKind.Object => "an object",
        _ => "missing",
    };
}
