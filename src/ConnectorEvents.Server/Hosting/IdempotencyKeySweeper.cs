using ConnectorEvents.Core.Ingest;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// Forgets expired idempotency keys every ten minutes, so the tables stay the size of one retention period. In small paced
/// units like the retention sweep: ten minutes of keyed ingest at 1,000 requests a second is 600,000 keys, which one
/// delete would have held the writer, and every command behind it, for as long as it took.
/// </summary>
public sealed partial class IdempotencyKeySweeper(
    GroupCommitWriter writer, IOptions<IngestOptions> ingest, IOptions<RetentionOptions> retention, TimeProvider time,
    ILogger<IdempotencyKeySweeper> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    /// <summary>Keys of each kind one unit forgets: two small rows and their two index entries each, about as much as ten messages.</summary>
    internal const int KeysPerUnit = 20;

    // Expired keys are ignored by lookups meanwhile, so a failed sweep only keeps rows longer.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PacedHousekeeping.RepeatAsync(Interval, time, SweepAsync, ex => LogSweepFailed(logger, ex), stoppingToken);

    /// <summary>Forgets every key past its retention, unit by unit; returns how many.</summary>
    public async Task<long> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - ingest.Value.IdempotencyKeyRetention;
        long forgotten = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var (count, took) = await PacedHousekeeping.RunAsync(writer, tx => tx.DeleteIngestsBefore(cutoff, KeysPerUnit)).ConfigureAwait(false);
            if (count == 0)
            {
                break;
            }
            forgotten += count;
            await PacedHousekeeping.PauseAsync(took, retention.Value.MaxWriterShare, cancellationToken).ConfigureAwait(false);
        }
        return forgotten;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forgetting expired idempotency keys failed; retrying at the next tick")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
