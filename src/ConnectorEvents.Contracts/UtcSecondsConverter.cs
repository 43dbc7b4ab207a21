using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConnectorEvents.Contracts;

/// <summary>
/// Writes instants the way the contract does, <c>2019-12-13T14:42:52Z</c>: UTC, whole seconds, a <c>Z</c>.
/// Reads any ISO 8601 instant, so receivers accept fractions and offsets too.
/// </summary>
public sealed class UtcSecondsConverter : JsonConverter<DateTimeOffset>
{
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss'Z'";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        if (text is null || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
        {
            throw new JsonException("Expected an ISO 8601 UTC timestamp such as 2019-12-13T14:42:52Z.");
        }
        return value;
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Span<char> buffer = stackalloc char[20];
        value.UtcDateTime.TryFormat(buffer, out var written, Format, CultureInfo.InvariantCulture);
        writer.WriteStringValue(buffer[..written]);
    }

    public static string ToText(DateTimeOffset value) =>
        value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);
}
