using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// Configuration section <c>Retention</c>: how long settled messages are kept. Their attempts go with them. Pending
/// messages are never deleted. Zero keeps that kind forever.
/// </summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Delivered (and Skipped) messages, from their completion (default 30 days).</summary>
    public TimeSpan DeliveredMessages { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Failed messages, from when they were given up (default 90 days): time to recover them.</summary>
    public TimeSpan FailedMessages { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How often the sweep runs (default one minute).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Messages one write looks at (default 10). Each write rides in a group of other writes, whose callers wait for it:
    /// ten add about a tenth of a millisecond to that group; a hundred, a millisecond, which showed in the p99 of commands.
    /// </summary>
    public int BatchSize { get; set; } = 10;

    /// <summary>
    /// The share of the time a sweep spends in writes (default 0.1), this one's and that of expired idempotency keys
    /// (<see cref="IdempotencyKeySweeper"/>): after each batch it pauses nine times as long as the batch took, so commands
    /// and deliveries keep the writer to themselves most of the time. 0.2 made the p99 of commands at 1,000/s while a
    /// million messages were swept 103–179 % of that without a sweep, 0.1 104–126 % (bench scenario 12, 30 s rounds).
    /// </summary>
    public double MaxWriterShare { get; set; } = 0.1;
}

public sealed class RetentionOptionsValidator : IValidateOptions<RetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, RetentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.DeliveredMessages < TimeSpan.Zero)
        {
            errors.Add("Retention:DeliveredMessages must not be negative (00:00:00 keeps them forever).");
        }
        if (options.FailedMessages < TimeSpan.Zero)
        {
            errors.Add("Retention:FailedMessages must not be negative (00:00:00 keeps them forever).");
        }
        if (options.Interval < TimeSpan.FromSeconds(1) || options.Interval > TimeSpan.FromDays(1))
        {
            errors.Add("Retention:Interval must be between 00:00:01 and 1.00:00:00.");
        }
        if (options.BatchSize is < 1 or > 10_000)
        {
            errors.Add("Retention:BatchSize must be between 1 and 10000.");
        }
        if (options.MaxWriterShare is not (> 0 and <= 1))
        {
            errors.Add("Retention:MaxWriterShare must be more than 0 and at most 1.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>
/// Deletes messages past retention every <see cref="RetentionOptions.Interval"/>, oldest first, one small batch per write
/// unit, as housekeeping (<see cref="GroupCommitWriter.ExecuteHousekeepingAsync{T}"/>): while other writes flow each batch
/// rides in a group that commits anyway, so no command waits behind a commit of the sweep's own. SQLite reuses the pages
/// freed for new rows, so under a steady load the file stops growing after one retention period.
/// </summary>
public sealed partial class RetentionSweeper(
    GroupCommitWriter writer, IOptions<RetentionOptions> options, TimeProvider time, ILogger<RetentionSweeper> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        return settings.DeliveredMessages == TimeSpan.Zero && settings.FailedMessages == TimeSpan.Zero
            ? Task.CompletedTask
            : PacedHousekeeping.RepeatAsync(settings.Interval, time, SweepAsync, ex => LogSweepFailed(logger, ex), stoppingToken);
    }

    /// <summary>One sweep through the outbox up to the retention frontier; returns the messages deleted.</summary>
    public async Task<long> SweepAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var cutoffs = new RetentionCutoffs(
            settings.DeliveredMessages == TimeSpan.Zero ? DateTimeOffset.MinValue : now - settings.DeliveredMessages,
            settings.FailedMessages == TimeSpan.Zero ? DateTimeOffset.MinValue : now - settings.FailedMessages);
        long after = 0, deleted = 0, examined = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var from = after;
            var (pass, took) = await PacedHousekeeping.RunAsync(writer, tx => tx.DeleteExpiredMessages(from, cutoffs, settings.BatchSize))
                .ConfigureAwait(false);
            deleted += pass.Deleted;
            examined += pass.Examined;
            after = pass.LastSeq;
            if (pass.Done)
            {
                break;
            }
            await PacedHousekeeping.PauseAsync(took, settings.MaxWriterShare, cancellationToken).ConfigureAwait(false);
        }
        if (deleted > 0)
        {
            LogSwept(logger, deleted, examined);
        }
        return deleted;
    }

    [LoggerMessage(EventId = LogEventIds.RetentionSwept, Level = LogLevel.Information,
        Message = "Retention deleted {Deleted} settled messages past their retention (of {Examined} looked at)")]
    private static partial void LogSwept(ILogger logger, long deleted, long examined);

    [LoggerMessage(EventId = LogEventIds.RetentionFailed, Level = LogLevel.Warning,
        Message = "The retention sweep failed; it runs again at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
