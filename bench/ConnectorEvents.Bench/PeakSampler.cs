namespace ConnectorEvents.Bench;

/// <summary>Reads a figure every 50 ms in the background and keeps its highest value until disposed.</summary>
public sealed class PeakSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _sampling;
    private double _peak;

    public PeakSampler(Func<double> read)
    {
        _sampling = Task.Run(async () =>
        {
            while (!_stopping.IsCancellationRequested)
            {
                _peak = Math.Max(_peak, read());
                await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
            }
        });
    }

    /// <summary>The highest value read so far (the last read included once disposed).</summary>
    public double Peak => Volatile.Read(ref _peak);

    /// <summary>The length in MiB of SQLite's log beside <paramref name="databasePath"/> (0 while there is none).</summary>
    public static PeakSampler SqliteLog(string databasePath) => new(() =>
    {
        var log = new FileInfo(databasePath + "-wal");
        return log.Exists ? log.Length / (1024.0 * 1024.0) : 0;
    });

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sampling.ConfigureAwait(false);
        _stopping.Dispose();
    }
}
