using System.Buffers;
using System.Text.Json;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// A request's body, checked and parsed, in a buffer rented from the shared pool: disposing it disposes the document and
/// gives the buffer back. Nothing read from <see cref="Document"/> or <see cref="Raw"/> may be kept past that.
/// </summary>
public sealed class RequestBody(JsonDocument document, ReadOnlyMemory<byte> raw, byte[] rented) : IDisposable
{
    private byte[]? _rented = rented;

    public JsonDocument Document { get; } = document;

    public ReadOnlyMemory<byte> Raw { get; } = raw;

    public void Dispose()
    {
        Document.Dispose();
        if (Interlocked.Exchange(ref _rented, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
