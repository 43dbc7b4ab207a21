using System.Buffers;
using System.Runtime.InteropServices;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// A large request body's bytes outside the managed heap, freed when disposed. Why not the shared array pool: a flood of
/// 4 MiB bodies allocated a new large-object array for most of them (the pool keeps arrays per thread, and a flood brings
/// new threads), and each such burst started a full collection that paused every thread, the readiness probe's too.
/// Native memory costs the collector nothing, and the process holds only what the ingest budget counts.
/// Nothing may use a span or memory of it after <see cref="IDisposable.Dispose"/>.
/// </summary>
internal sealed unsafe class NativeBodyBuffer : MemoryManager<byte>
{
    private readonly int _length;
    private byte* _bytes;

    public NativeBodyBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        _length = length;
        _bytes = (byte*)NativeMemory.Alloc((nuint)length);
    }

    public override Span<byte> GetSpan() =>
        _bytes == null ? throw new ObjectDisposedException(nameof(NativeBodyBuffer)) : new Span<byte>(_bytes, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_length, nameof(elementIndex));
        return _bytes == null ? throw new ObjectDisposedException(nameof(NativeBodyBuffer)) : new MemoryHandle(_bytes + elementIndex);
    }

    public override void Unpin()
    {
        // Never moves: nothing to undo.
    }

    protected override void Dispose(bool disposing)
    {
        if (_bytes != null)
        {
            NativeMemory.Free(_bytes);
            _bytes = null;
        }
    }
}
