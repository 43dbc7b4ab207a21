using System.Text;
using System.Text.Json;
using Xunit;

namespace ConnectorEvents.Contracts.Tests;

internal static class JsonText
{
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>
    /// The example without insignificant whitespace; names, order and values untouched. Trailing commas are
    /// dropped because one documented example (seed 003's General message) has one.
    /// </summary>
    public static string Minify(string json)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true });
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            document.WriteTo(writer);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Compares as text so a failure shows where the bytes part.</summary>
    public static void AssertBytes(string expected, byte[]? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected, Encoding.UTF8.GetString(actual));
    }
}
