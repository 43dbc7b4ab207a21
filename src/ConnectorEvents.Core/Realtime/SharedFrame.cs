namespace ConnectorEvents.Core.Realtime;

/// <summary>
/// One serialized frame, shared by every socket it goes to (it is encoded once per publish and subscription), with a
/// count of who holds it: the publisher while it hands the frame out, and each socket that has it queued or in flight.
/// Its bytes count once towards the hub's total, from its creation until the last holder lets go.
/// </summary>
internal sealed class SharedFrame
{
    private readonly Action<long> _held;
    private int _holders = 1;

    /// <summary>A frame held by its publisher; <paramref name="held"/> hears of its bytes when it is made and when it is let go.</summary>
    public SharedFrame(byte[] bytes, Action<long> held)
    {
        Bytes = bytes;
        _held = held;
        held(bytes.Length);
    }

    public byte[] Bytes { get; }

    public int Length => Bytes.Length;

    /// <summary>One more holder; call only while holding it (the publisher does, while it hands the frame out).</summary>
    public void Hold() => Interlocked.Increment(ref _holders);

    /// <summary>A holder lets go; the last one takes the frame's bytes off the total.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            _held(-Bytes.Length);
        }
    }
}
