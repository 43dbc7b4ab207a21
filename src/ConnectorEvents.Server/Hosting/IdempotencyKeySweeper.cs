using ConnectorEvents.Core.Ingest;

namespace ConnectorEvents.Server.Hosting;

/// <summary>Forgets expired idempotency keys every ten minutes, so the table stays the size of one retention period.</summary>
public sealed partial class IdempotencyKeySweeper(IngestService ingest, TimeProvider time, ILogger<IdempotencyKeySweeper> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            using var timer = new PeriodicTimer(Interval, time);
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await ingest.ForgetExpiredKeysAsync().ConfigureAwait(false);
                }
#pragma warning disable CA1031 // a failed sweep is retried at the next tick; expired keys are ignored meanwhile
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    LogSweepFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping; also when the host is disposed after a failed start, without a stop
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forgetting expired idempotency keys failed; retrying at the next tick")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
