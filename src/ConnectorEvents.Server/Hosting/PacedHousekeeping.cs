using System.Diagnostics;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// The sweeps' way through the writer: small units of housekeeping (<see cref="GroupCommitWriter.ExecuteHousekeepingAsync{T}"/>),
/// each followed by a pause that keeps them to <see cref="RetentionOptions.MaxWriterShare"/> of the writer's time.
/// </summary>
internal static class PacedHousekeeping
{
    /// <summary>
    /// Runs <paramref name="sweep"/> every <paramref name="interval"/> until the host stops; a sweep that fails goes to
    /// <paramref name="failed"/> and is tried again at the next tick (nothing is lost by keeping rows a little longer).
    /// </summary>
    public static async Task RepeatAsync(
        TimeSpan interval, TimeProvider time, Func<CancellationToken, Task> sweep, Action<Exception> failed, CancellationToken stoppingToken)
    {
        try
        {
            using var timer = new PeriodicTimer(interval, time);
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await sweep(stoppingToken).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // any failure: retried at the next tick
                catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
                {
                    failed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping; also when the host is disposed after a failed start, without a stop
        }
    }

    /// <summary>Runs one unit; returns its result and how long it held the writer.</summary>
    public static async Task<(T Result, TimeSpan Took)> RunAsync<T>(GroupCommitWriter writer, Func<IWriteTransaction, T> work)
    {
        var took = TimeSpan.Zero;
        var result = await writer.ExecuteHousekeepingAsync(tx =>
        {
            var started = Stopwatch.GetTimestamp();
            var outcome = work(tx);
            took = Stopwatch.GetElapsedTime(started);
            return outcome;
        }).ConfigureAwait(false);
        return (result, took);
    }

    /// <summary>
    /// The pause after a unit, by wall clock (not the TimeProvider's: it is about the writer's real load), from the unit's
    /// own time in the writer: that is what it added to the group it rode in (waiting for one is no load).
    /// </summary>
    public static Task PauseAsync(TimeSpan took, double maxWriterShare, CancellationToken cancellationToken) =>
        Task.Delay(took * ((1 - maxWriterShare) / maxWriterShare), cancellationToken);
}
