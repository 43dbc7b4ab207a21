using ConnectorEvents.Core.Ingest;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// The bytes of ingest bodies being read, parsed and written at once, bounded by <see cref="IngestOptions.MaxBufferedBytes"/>.
/// A request takes its share before its body is read and gives it back once answered; a request that does not fit is
/// refused at once (503), so a flood of large bodies costs the server a bounded amount of memory, not one buffer each.
/// </summary>
public sealed class IngestBodyBudget(IOptions<IngestOptions> options)
{
    private readonly long _max = options.Value.MaxBufferedBytes;
    private long _held;

    /// <summary>Bytes taken by the requests under way.</summary>
    public long HeldBytes => Interlocked.Read(ref _held);

    /// <summary>
    /// Takes <paramref name="bytes"/> when they fit, or when nothing is held (so one request of any allowed size always
    /// goes through); false otherwise. Give back what was taken with <see cref="Return"/>.
    /// </summary>
    public bool TryTake(long bytes)
    {
        var held = Interlocked.Read(ref _held);
        while (true)
        {
            if (held > 0 && held + bytes > _max)
            {
                return false;
            }
            var seen = Interlocked.CompareExchange(ref _held, held + bytes, held);
            if (seen == held)
            {
                return true;
            }
            held = seen;
        }
    }

    public void Return(long bytes) => Interlocked.Add(ref _held, -bytes);
}
