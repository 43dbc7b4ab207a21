using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using ConnectorEvents.Core.Delivery;
using Microsoft.Net.Http.Headers;

namespace ConnectorEvents.Server.Api;

/// <summary>Reads and checks what a caller sends, turning every flaw into a precise <see cref="ApiProblemException"/>.</summary>
public static partial class RequestReading
{
    public const int MaxBodyBytes = 64 * 1024;
    public const int MaxNameLength = 255;
    public const int MaxUrlLength = 2048;

    public static async Task<T> ReadJsonAsync<T>(this HttpRequest request, JsonTypeInfo<T> type) where T : class
    {
        using var body = await request.ReadBodyAsync().ConfigureAwait(false);
        try
        {
            return body.Document.RootElement.Deserialize(type)
                ?? throw new ApiProblemException(400, "The request is invalid.", "The body must be a JSON object, not null.");
        }
        catch (JsonException ex)
        {
            throw Describe(ex);
        }
    }

    /// <summary>
    /// The body as a JSON document, after the checks every write shares: type, size, syntax. Its bytes are in a buffer
    /// rented from the shared pool, given back when the body is disposed: a large body costs no new array on the
    /// large-object heap each time.
    /// </summary>
    public static async Task<RequestBody> ReadBodyAsync(this HttpRequest request, int maxBytes = MaxBodyBytes)
    {
        CheckHeaders(request, maxBytes);
        var (buffer, length) = await ReadAllAsync(request, maxBytes).ConfigureAwait(false);
        try
        {
            return new RequestBody(Parse(buffer.AsMemory(0, length)), buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>The body into a rented buffer: one of its declared length, else one that doubles (up to the limit) as it fills.</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadAllAsync(HttpRequest request, int maxBytes)
    {
        var aborted = request.HttpContext.RequestAborted;
        var buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is { } declared and > 0 ? (int)declared : 16 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= maxBytes)
                    {
                        // Full at the limit: one byte more is one too many.
                        var probe = new byte[1];
                        if (await request.Body.ReadAsync(probe, aborted).ConfigureAwait(false) > 0)
                        {
                            throw TooLarge(maxBytes);
                        }
                        break;
                    }
                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBytes));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, maxBytes + 1) - length), aborted)
                    .ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                length += read;
                if (length > maxBytes)
                {
                    throw TooLarge(maxBytes);
                }
            }
            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>The checks every body gets: not empty, UTF-8, JSON of at most 16 levels, an object, no lone surrogate, no field twice.</summary>
    private static JsonDocument Parse(ReadOnlyMemory<byte> raw)
    {
        CheckText(raw.Span);
        JsonDocument document;
        try
        {
            // Repeated fields are found after (JsonDocumentOptions.AllowDuplicateProperties = false compares names exactly and
            // says neither which name nor where), in the same pass that finds 'Name' beside 'name'.
            document = JsonDocument.Parse(raw, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw InvalidJson(ex);
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw NotAnObject();
        }
        if (FindLoneSurrogate(raw.Span, document.RootElement, "body") is { } refusal)
        {
            document.Dispose();
            throw refusal;
        }
        if (FindRepeatedField(document.RootElement) is { } repeated)
        {
            document.Dispose();
            throw repeated;
        }
        return document;
    }

    /// <summary>What the headers say before any byte is read: JSON in UTF-8 (else 415), no longer than the limit (else 413).</summary>
    private static void CheckHeaders(HttpRequest request, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (RefusedMediaType(request.ContentType) is { } refusal)
        {
            throw new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type.", refusal);
        }
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }
    }

    /// <summary>Not empty, and UTF-8: the parser does not check the text inside strings, and reading such a string later threw (a 500).</summary>
    private static void CheckText(ReadOnlySpan<byte> raw)
    {
        if (raw.Length == 0)
        {
            throw new ApiProblemException(400, "The request is invalid.", "The body is empty; a JSON object is required.");
        }
        if (!Utf8.IsValid(raw))
        {
            throw new ApiProblemException(400, "The body is not valid JSON.", "The body is not valid UTF-8 text.");
        }
    }

    private static ApiProblemException InvalidJson(JsonException ex) => new(400, "The body is not valid JSON.",
        $"Invalid JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}.");

    private static ApiProblemException NotAnObject() => new(400, "The request is invalid.", "The body must be a JSON object.");

    private const string LoneSurrogate = "holds an escaped lone surrogate (\\uD800-\\uDFFF), which is not valid Unicode text.";

    /// <summary>The refusal of the first text in <paramref name="element"/> (read from <paramref name="raw"/>) that is not valid Unicode, if any.</summary>
    private static ApiProblemException? FindLoneSurrogate(ReadOnlySpan<byte> raw, JsonElement element, string path) =>
        // Only an escape can spell a lone surrogate (\ud800) once the bytes are valid UTF-8; most bodies have none.
        raw.IndexOf("\\u"u8) >= 0 && FindInvalidText(element, path) is { } field ? ApiProblemException.Invalid(field, LoneSurrogate) : null;

    /// <summary>The place of the first string or field name that cannot be read as text, if any.</summary>
    private static string? FindInvalidText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return $"{path} (a field name)";
                    }
                    if (FindInvalidText(property.Value, path == "body" ? name : $"{path}.{name}") is { } inner)
                    {
                        return inner;
                    }
                }
                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindInvalidText(item, $"{path}[{index++}]") is { } inner)
                    {
                        return inner;
                    }
                }
                return null;
            case JsonValueKind.String:
                try
                {
                    _ = element.GetString();
                    return null;
                }
                catch (InvalidOperationException)
                {
                    return path;
                }
            default:
                return null;
        }
    }

    /// <summary>Why a body of this Content-Type is not read, or null: it must be JSON, and JSON is read as UTF-8 only.</summary>
    private static string? RefusedMediaType(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media)
            || !(media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || media.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
        {
            return "Send the body as JSON with 'Content-Type: application/json'.";
        }
        foreach (var parameter in media.Parameters)
        {
            // RFC 8259 defines no charset for JSON and requires UTF-8 between systems; a body said to be in another would be misread.
            if (parameter.Name.Equals("charset", StringComparison.OrdinalIgnoreCase)
                && !HeaderUtilities.RemoveQuotes(parameter.Value).Equals("utf-8", StringComparison.OrdinalIgnoreCase))
            {
                return "Send the body as UTF-8 JSON: 'Content-Type: application/json', with no charset or 'charset=utf-8'.";
            }
        }
        return null;
    }

    // The rest of the body is not read only to be dropped: the connection closes after the answer.
    private static ApiProblemException TooLarge(int maxBytes) => new(StatusCodes.Status413PayloadTooLarge, "The body is too large.",
        $"A request body here may hold at most {maxBytes / 1024} KiB.") { CloseConnection = true };

    /// <summary>Names the field and the reason, not the .NET type behind it.</summary>
    public static ApiProblemException Describe(JsonException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var message = ex.Message;
        var field = FieldOf(ex.Path);
        if (message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            var start = message.IndexOf('\'', StringComparison.Ordinal);
            var end = start < 0 ? -1 : message.IndexOf('\'', start + 1);
            var unknown = end > start ? message[(start + 1)..end] : field;
            var at = field.Length == 0 ? unknown : field.EndsWith(unknown, StringComparison.Ordinal) ? field : $"{field}.{unknown}";
            return ApiProblemException.Invalid(at, "is not a known field.");
        }
        var expected = message switch
        {
            _ when message.Contains("System.Guid", StringComparison.Ordinal) => "must be an id in GUID form, e.g. 8865aa96-f62d-4f9b-a912-ab2100f60f42.",
            _ when message.Contains("System.Boolean", StringComparison.Ordinal) => "must be true or false.",
            _ when message.Contains("System.String", StringComparison.Ordinal) => "must be a string.",
            _ when message.Contains("System.Int", StringComparison.Ordinal) => "must be a whole number.",
            _ => "has the wrong type or form.",
        };
        return ApiProblemException.Invalid(field.Length == 0 ? "body" : field, expected);
    }

    private static string FieldOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    public static string RequireName(string? value, string field = "Name")
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw ApiProblemException.Invalid(field, "is required and must not be blank.");
        }
        var trimmed = value.Trim();
        if (trimmed.Length > MaxNameLength)
        {
            throw ApiProblemException.Invalid(field, $"must be at most {MaxNameLength} characters long.");
        }
        if (trimmed.Any(char.IsControl))
        {
            throw ApiProblemException.Invalid(field, "must not contain control characters.");
        }
        return trimmed;
    }

    /// <summary>An absolute http(s) URL; an IP literal the delivery guard would refuse is refused here already.</summary>
    public static string? CheckWebhookUrl(string? value, string field, NetworkPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (value is null)
        {
            return null;
        }
        if (value.Length > MaxUrlLength)
        {
            throw ApiProblemException.Invalid(field, $"must be at most {MaxUrlLength} characters long.");
        }
        // Checked before parsing: System.Uri drops tabs and line breaks anywhere and spaces at either end, so the URL stored
        // and shown would not be the one called. Nothing is trimmed either: a URL is used exactly as sent, or refused.
        if (FindHiddenCharacter(value) is { } hidden)
        {
            throw ApiProblemException.Invalid(field, "must not contain spaces, line breaks, control or invisible formatting characters " +
                $"(U+{hidden.CodePoint:X4} at character {hidden.Position + 1}); percent-encode one that belongs in the URL.");
        }
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            throw ApiProblemException.Invalid(field, "must be an absolute http or https URL.");
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw ApiProblemException.Invalid(field, "must not carry a user name or password; use ?Token=… instead.");
        }
        if (!string.IsNullOrEmpty(uri.Fragment))
        {
            throw ApiProblemException.Invalid(field, "must not have a #fragment.");
        }
        if (IPAddress.TryParse(uri.IdnHost, out var address) && !policy.IsAllowed(address))
        {
            throw ApiProblemException.Invalid(field,
                "points at a private, loopback or link-local address, which deliveries refuse (see Delivery:AllowedNetworks).");
        }
        return value;
    }

    /// <summary>The first whitespace, control (C0, DEL, C1) or format character (bidi controls, zero-width ones, BOM), if any.</summary>
    private static (int Position, int CodePoint)? FindHiddenCharacter(string value)
    {
        var position = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            // White space covers U+2028 and U+2029, the line and paragraph separators, and the no-break spaces.
            if (Rune.IsWhiteSpace(rune) || Rune.IsControl(rune) || Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format)
            {
                return (position, rune.Value);
            }
            position += rune.Utf16SequenceLength;
        }
        return null;
    }

    public static Guid ParseId(string value, string what)
    {
        if (!Guid.TryParse(value, out var id))
        {
            throw ApiProblemException.NotFound(what, value);
        }
        return id;
    }

    public static Guid? QueryId(string? value, string name)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        return Guid.TryParse(value, out var id) ? id : throw ApiProblemException.Invalid(name, "must be an id in GUID form.");
    }

    public static TEnum? QueryEnum<TEnum>(string? value, string name) where TEnum : struct, Enum
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        // A name, in any case, and nothing else: Enum.TryParse would also take " 1", "+1" and "Reader, Admin".
        return Enum.GetNames<TEnum>().FirstOrDefault(n => n.Equals(value, StringComparison.OrdinalIgnoreCase)) is { } known
            ? Enum.Parse<TEnum>(known)
            : throw ApiProblemException.Invalid(name, $"must be one of {string.Join(", ", Enum.GetNames<TEnum>())}.");
    }

    public static int QueryLimit(string? value, int fallback = 100, int max = 500)
    {
        if (string.IsNullOrEmpty(value))
        {
            return fallback;
        }
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit >= 1 && limit <= max
            ? limit
            : throw ApiProblemException.Invalid("limit", $"must be a whole number from 1 to {max}.");
    }

    public static long? QueryCursor(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var cursor) && cursor > 0
            ? cursor
            : throw ApiProblemException.Invalid("cursor", "is not a cursor this API returned.");
    }

    private static readonly string[] QueryTimeForms =
        ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", "yyyy-MM-dd'T'HH:mm'Z'", "yyyy-MM-dd'T'HH:mmzzz"];

    /// <summary>An ISO 8601 time with its offset (2026-12-07T10:00:00Z); a time without one is refused, not guessed.</summary>
    public static DateTimeOffset? QueryTime(string? value, string name)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        // Exact forms: a general parse took a date alone, or a date and time with a space, in the server's own time zone.
        return DateTimeOffset.TryParseExact(value, QueryTimeForms, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw ApiProblemException.Invalid(name, "must be an ISO 8601 time with its offset, such as 2026-12-07T10:00:00Z.");
    }
}
