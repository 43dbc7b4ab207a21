using System.Diagnostics;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// The sweeps' way through the writer: small units of housekeeping (<see cref="GroupCommitWriter.ExecuteHousekeepingAsync{T}"/>),
/// each followed by a pause that keeps them to <see cref="RetentionOptions.MaxWriterShare"/> of the writer's time.
/// </summary>
internal static class PacedHousekeeping
{
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
