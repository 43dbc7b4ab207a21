using System.Buffers;
using System.Text.Json;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// A request's body, checked and parsed, in a buffer rented from the shared pool: disposing it disposes the document and
/// gives the buffer back. Nothing read from <see cref="Document"/> or <see cref="Raw"/> may be kept past that.
/// </summary>
public sealed class RequestBody(JsonDocument document, byte[] rented, int length) : IDisposable
{
    private byte[]? _rented = rented;

    public JsonDocument Document { get; } = document;

    public ReadOnlyMemory<byte> Raw => _rented.AsMemory(0, length);

    public void Dispose()
    {
        Document.Dispose();
        if (_rented is { } buffer)
        {
            _rented = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
