using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ConnectorEvents.Core.Messages;

/// <summary>
/// Message ids, sent as <c>webhook-id</c>: UUIDv7 in hex, time-ordered, so they sort like the outbox. Within one process
/// they strictly increase: the 12 bits after the millisecond count up within a millisecond (RFC 9562, method 1), where
/// <see cref="Guid.CreateVersion7()"/> fills them at random and two ids of one millisecond may sort either way.
/// </summary>
public static class MessageIds
{
    private static readonly MessageIdGenerator Shared = new();

    public static string New() => Shared.New(DateTimeOffset.UtcNow);
}

/// <summary>The state behind <see cref="MessageIds"/>: the last millisecond and its counter.</summary>
internal sealed class MessageIdGenerator
{
    private readonly Lock _gate = new();
    private long _lastMilliseconds;
    private int _counter;

    public string New(DateTimeOffset now)
    {
        var milliseconds = now.ToUnixTimeMilliseconds();
        int counter;
        lock (_gate)
        {
            if (milliseconds > _lastMilliseconds)
            {
                _lastMilliseconds = milliseconds;
                _counter = RandomNumberGenerator.GetInt32(0x800); // starts in the lower half, so a busy millisecond has room
            }
            else if (++_counter > 0xFFF)
            {
                // 4,096 ids in one millisecond, or the clock went back: run ahead of it rather than repeat an order.
                _lastMilliseconds++;
                _counter = 0;
            }
            (milliseconds, counter) = (_lastMilliseconds, _counter);
        }
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes[8..]);
        Span<byte> time = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(time, milliseconds);
        time[2..].CopyTo(bytes); // the low 48 bits
        bytes[6] = (byte)(0x70 | (counter >> 8)); // version 7
        bytes[7] = (byte)counter;
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F)); // variant 10
        return "msg_" + Convert.ToHexStringLower(bytes);
    }
}
