using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConnectorEvents.Cli;

/// <summary>JSON as people read it: indented, non-ASCII left as it is. No reflection: documents and nodes only.</summary>
internal static class JsonText
{
    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The body indented, or null when it is not JSON.</summary>
    public static string? Pretty(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return Write(document.RootElement.WriteTo, Indented);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string Pretty(JsonNode node) => Write(writer => node.WriteTo(writer), Indented);

    /// <summary>The node as compact UTF-8, as a sender would write it.</summary>
    public static byte[] Utf8(JsonNode node) => WriteUtf8(writer => node.WriteTo(writer), Compact);

    /// <summary>Each line of <paramref name="text"/> with <paramref name="indent"/> in front.</summary>
    public static IEnumerable<string> Indent(string text, string indent = "  ") =>
        text.ReplaceLineEndings("\n").Split('\n').Select(line => indent + line);

    private static string Write(Action<Utf8JsonWriter> write, JsonWriterOptions options) => Encoding.UTF8.GetString(WriteUtf8(write, options));

    private static byte[] WriteUtf8(Action<Utf8JsonWriter> write, JsonWriterOptions options)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, options))
        {
            write(writer);
        }
        return buffer.ToArray();
    }
}
