using System.Buffers;
using System.Text.Json;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// Large bodies (ingest, up to 4 MiB) are read into native memory and parsed a few items of their array at a time: a document
/// of the whole body would rent a second buffer twice its size (the parser's index of every token, rounded up to a power
/// of two) on the large-object heap. The checks are those of <see cref="ReadBodyAsync"/>, in the same words.
/// </summary>
public static partial class RequestReading
{
    /// <summary>
    /// The body, after the checks of type, size and text, in a buffer of <paramref name="capacity"/> bytes (what the caller
    /// has budgeted for it). Parse it with <see cref="SplitArrayField"/> and <see cref="ReadItems"/>.
    /// </summary>
    public static async Task<LargeRequestBody> ReadLargeBodyAsync(this HttpRequest request, long capacity, int maxBytes)
    {
        CheckHeaders(request, maxBytes);
        // One byte more than may be kept, so a body that goes on past it is seen without reading it into a second buffer.
        var buffer = new NativeBodyBuffer((int)Math.Min(capacity, maxBytes) + 1);
        try
        {
            var memory = buffer.Memory;
            var length = 0;
            while (length < memory.Length)
            {
                var read = await request.Body.ReadAsync(memory[length..], request.HttpContext.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                length += read;
            }
            if (length == memory.Length)
            {
                throw TooLarge(maxBytes);
            }
            CheckText(memory.Span[..length]);
            return new LargeRequestBody(buffer, length);
        }
        catch
        {
            ((IDisposable)buffer).Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks a body that must be <c>{"<paramref name="field"/>": [item, …]}</c> whole (JSON syntax, depth, the object,
    /// its field names) and returns how many items it holds and where the first <paramref name="keepAtMost"/> lie, without
    /// parsing any item into a document (a 4 MiB body of two million tiny items keeps no list of two million).
    /// </summary>
    public static (List<Range> Items, int Count) SplitArrayField(ReadOnlySpan<byte> body, string field, string itemsAre, int keepAtMost)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 16 });
        var items = new List<Range>();
        var count = 0;
        string? found = null;
        var isArray = false;
        string? unknown = null;
        ApiProblemException? problem = null; // told once the whole body is known to be JSON, as a document's parse would
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                ReadToEnd(ref reader);
                throw NotAnObject();
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = NameOf(ref reader, ref problem);
                reader.Read();
                if (!string.Equals(name, field, StringComparison.OrdinalIgnoreCase))
                {
                    unknown ??= name;
                    reader.Skip();
                    continue;
                }
                if (found is not null)
                {
                    problem ??= Refusal(new Repetition(found, name, []));
                }
                found ??= name;
                isArray = reader.TokenType == JsonTokenType.StartArray;
                while (isArray && reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    if (count++ < keepAtMost)
                    {
                        items.Add(start..(int)reader.BytesConsumed);
                    }
                }
                if (!isArray)
                {
                    reader.Skip();
                }
            }
            ReadToEnd(ref reader);
        }
        catch (JsonException ex)
        {
            throw InvalidJson(ex);
        }
        if (problem is not null)
        {
            throw problem;
        }
        if (unknown is not null)
        {
            throw ApiProblemException.Invalid(unknown, "is not a known field.");
        }
        return isArray ? (items, count) : throw ApiProblemException.Invalid(field, $"is required and must be an array of {itemsAre}.");
    }

    /// <summary>Items are parsed in documents of about this many bytes: small enough to keep each document's buffers off the large-object heap.</summary>
    private const int ItemChunkBytes = 32 * 1024;

    /// <summary>
    /// Hands each item of <paramref name="body"/> (found by <see cref="SplitArrayField"/>) to <paramref name="read"/> with its
    /// index, in order, after the checks the whole body gets elsewhere: no lone surrogate, no field twice. Neighbouring items
    /// are parsed together, up to <see cref="ItemChunkBytes"/> (a document per item cost small events 7 % of their ingest
    /// rate). An element must not be kept once <paramref name="read"/> returns.
    /// </summary>
    public static void ReadItems(ReadOnlyMemory<byte> body, List<Range> items, string field, Action<JsonElement, int> read)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(read);
        var next = 0;
        while (next < items.Count)
        {
            // The bytes from the first item of the chunk to its last, commas between, are an array once bracketed.
            var first = next;
            var start = items[first].Start.Value;
            var end = items[first].End.Value;
            while (next + 1 < items.Count && items[next + 1].End.Value - start <= ItemChunkBytes)
            {
                end = items[++next].End.Value;
            }
            next++;
            var length = end - start + 2;
            var chunk = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                chunk[0] = (byte)'[';
                body.Span[start..end].CopyTo(chunk.AsSpan(1));
                chunk[length - 1] = (byte)']';
                using var document = JsonDocument.Parse(chunk.AsMemory(0, length), new JsonDocumentOptions { MaxDepth = 16 });
                // Only an escape can spell a lone surrogate once the bytes are valid UTF-8; most chunks have none.
                var escaped = chunk.AsSpan(0, length).IndexOf("\\u"u8) >= 0;
                var index = first;
                foreach (var item in document.RootElement.EnumerateArray())
                {
                    if (escaped && FindInvalidText(item, $"{field}[{index}]") is { } invalid)
                    {
                        throw ApiProblemException.Invalid(invalid, LoneSurrogate);
                    }
                    if (RepeatedIn(item) is { } repeated)
                    {
                        repeated.Trail.Add(index);
                        repeated.Trail.Add(field);
                        throw Refusal(repeated);
                    }
                    read(item, index++);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
        }
    }

    private static string NameOf(ref Utf8JsonReader reader, ref ApiProblemException? problem)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            problem ??= ApiProblemException.Invalid("body (a field name)", LoneSurrogate);
            return "";
        }
    }

    /// <summary>Nothing but white space may follow the object; the reader says where something else does.</summary>
    private static void ReadToEnd(ref Utf8JsonReader reader)
    {
        while (reader.Read())
        {
        }
    }
}

/// <summary>A large body in native memory (<see cref="RequestReading.ReadLargeBodyAsync"/>); disposing it frees the memory.</summary>
public sealed class LargeRequestBody : IDisposable
{
    private readonly NativeBodyBuffer _buffer;

    internal LargeRequestBody(NativeBodyBuffer buffer, int length)
    {
        _buffer = buffer;
        Raw = buffer.Memory[..length];
    }

    public ReadOnlyMemory<byte> Raw { get; }

    public void Dispose() => ((IDisposable)_buffer).Dispose();
}
