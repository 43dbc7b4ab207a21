using System.Diagnostics;
using ConnectorEvents.Testing;
using Microsoft.Data.Sqlite;

namespace ConnectorEvents.Bench;

/// <param name="WithoutSweep">Command → POST latency at the steady rate on the same file where nothing had expired.</param>
/// <param name="WhileDeleting">The same, at the same point after the server's start, while the sweep deleted the expired messages.</param>
/// <param name="After">The same once nothing was left to delete.</param>
/// <param name="SweepSeconds">From the server's start until the last expired message was gone.</param>
/// <param name="FileMiB">The SQLite file (its log apart) after each retention period of steady load.</param>
public sealed record RetentionResult(
    int Expired, double SweepSeconds, LatencyResult WithoutSweep, LatencyResult WhileDeleting, LatencyResult After, TimeSpan Period,
    IReadOnlyList<double> FileMiB)
{
    /// <summary>p99 while deleting ÷ p99 without a sweep: at most 1.10 is the goal.</summary>
    public double P99Ratio => WhileDeleting.FromSend.P99 / WithoutSweep.FromSend.P99;

    /// <summary>The file after ten periods ÷ after five: 1.00 when it stopped growing.</summary>
    public double GrowthRatio => FileMiB[^1] / FileMiB[(FileMiB.Count / 2) - 1];

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Expired:N0} expired deleted in {SweepSeconds:0.0} s; p99 at {WhileDeleting.Rate:N0}/s {WhileDeleting.FromSend.P99:0.0} ms while deleting, "
        + $"{WithoutSweep.FromSend.P99:0.0} ms without a sweep ({P99Ratio:P0}), {After.FromSend.P99:0.0} ms after it; file after each {Period.TotalSeconds:0} s period: {string.Join(", ", FileMiB.Select(f => f.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))} MiB ({GrowthRatio:P0} at 10 vs 5)");
}

public sealed partial class Scenarios
{
    // ---- 12. Retention at work (SQLite) -------------------------------------------------------------------------

    /// <summary>
    /// (a) An outbox holding <see cref="BenchSettings.RetentionExpired"/> delivered messages 100 days old (written straight into
    /// the file before the server starts, oldest first, as years of traffic would leave them): the server starts, the sweep
    /// deletes them while commands arrive at the steady rate, and the latency of that load is compared with the same load on
    /// a copy of the file, started the same way, where nothing has expired (a retention of 1,000 days). Each is the second
    /// round at the rate after its server's start (the first is not reported: a fresh server's first is slower), so both
    /// servers are equally warm; the same load once the sweep is done is reported beside them. (b) A retention of
    /// <see cref="BenchSettings.RetentionPeriod"/> under the steady rate for ten periods: the file's size after each.
    /// </summary>
    public async Task<RetentionResult> RetentionAsync()
    {
        var rate = settings.SteadyRate;
        var directory = NewDataDirectory();
        var periodSettings = settings with { LatencyDuration = settings.RetentionPeriod, LatencyEventsMax = int.MaxValue };
        try
        {
            // (a) The expired messages, then a deployment on the same file with the sweep every second.
            await (await Deployment.StartServerAsync(storage, directory).ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            var path = Path.Combine(directory, "connector-events.db");
            WriteExpiredMessages(path, settings.RetentionExpired);
            var withoutSweep = await WithoutSweepAsync(directory, rate).ConfigureAwait(false);
            ServerSet.ExtraSettings = new Dictionary<string, string?> { ["Retention:Interval"] = "00:00:01" };
            var started = Stopwatch.GetTimestamp();
            Deployment d;
            try
            {
                d = await Deployment.CreateAsync(settings, sink, storage, directory).ConfigureAwait(false);
            }
            finally
            {
                ServerSet.ExtraSettings = null;
            }
            LatencyResult whileDeleting, after;
            double sweepSeconds;
            await using (d.ConfigureAwait(false))
            {
                var sentTo = new int[d.IntegrationIds.Length];
                whileDeleting = await SecondRoundAsync(d, rate, sentTo).ConfigureAwait(false);
                if (Exists(path))
                {
                    Progress("  the sweep was still deleting when that round ended");
                }
                else
                {
                    throw new InvalidOperationException("The sweep finished before the round measured while deleting did; raise RetentionExpired.");
                }
                var swept = await WaitUntilSweptAsync(path).ConfigureAwait(false);
                sweepSeconds = Clock.Seconds(started, swept);
                after = await LatencyAtAsync(d, rate, sentTo).ConfigureAwait(false);
                Progress($"  expired messages deleted {sweepSeconds:0.0} s after the start");
            }
            // (b) Ten retention periods of steady load, on a server whose messages expire after one.
            return new RetentionResult(settings.RetentionExpired, sweepSeconds, withoutSweep, whileDeleting, after, settings.RetentionPeriod,
                await FileSizesAsync(periodSettings, rate).ConfigureAwait(false));
        }
        finally
        {
            ServerSet.ExtraSettings = null;
            await DeleteDirectoryAsync(directory).ConfigureAwait(false);
        }
    }

    /// <summary>The control of (a): a copy of the data folder, every message kept 1,000 days (so a pass ends at its first); the second round at the rate.</summary>
    private async Task<LatencyResult> WithoutSweepAsync(string directory, int rate)
    {
        var copy = NewDataDirectory();
        CopyDirectory(directory, copy);
        ServerSet.ExtraSettings = new Dictionary<string, string?>
        {
            ["Retention:Interval"] = "00:00:01",
            ["Retention:DeliveredMessages"] = "1000.00:00:00",
            ["Retention:FailedMessages"] = "1000.00:00:00",
        };
        try
        {
            var d = await Deployment.CreateAsync(settings, sink, storage, copy).ConfigureAwait(false);
            await using (d.ConfigureAwait(false))
            {
                return await SecondRoundAsync(d, rate, new int[d.IntegrationIds.Length]).ConfigureAwait(false);
            }
        }
        finally
        {
            ServerSet.ExtraSettings = null;
            await DeleteDirectoryAsync(copy).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A fresh server's warm-up, then two rounds at the rate; the second, <see cref="BenchSettings.RetentionRound"/> long,
    /// is returned. The first is not: a fresh server's first is slower (JIT), with or without a sweep.
    /// </summary>
    private async Task<LatencyResult> SecondRoundAsync(Deployment d, int rate, int[] sentTo)
    {
        await WarmUpAsync(d).ConfigureAwait(false);
        await LatencyAtAsync(d, rate, sentTo).ConfigureAwait(false);
        var compared = new Scenarios(settings with { LatencyDuration = settings.RetentionRound, LatencyEventsMax = int.MaxValue }, sink, storage);
        var round = await compared.LatencyAtAsync(d, rate, sentTo).ConfigureAwait(false);
        Progress($"  the compared round: {round.FromSend}");
        return round;
    }

    private async Task<IReadOnlyList<double>> FileSizesAsync(BenchSettings periodSettings, int rate)
    {
        var directory = NewDataDirectory();
        var retention = settings.RetentionPeriod.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        ServerSet.ExtraSettings = new Dictionary<string, string?>
        {
            ["Retention:DeliveredMessages"] = retention, ["Retention:Interval"] = "00:00:01",
        };
        try
        {
            var d = await Deployment.CreateAsync(settings, sink, storage, directory).ConfigureAwait(false);
            await using (d.ConfigureAwait(false))
            {
                await WarmUpAsync(d).ConfigureAwait(false);
                var periods = new Scenarios(periodSettings, sink, storage);
                var sentTo = new int[d.IntegrationIds.Length];
                var sizes = new List<double>();
                for (var period = 1; period <= 10; period++)
                {
                    await periods.LatencyAtAsync(d, rate, sentTo).ConfigureAwait(false);
                    var file = Path.Combine(directory, "connector-events.db");
                    sizes.Add(new FileInfo(file).Length / 1048576.0);
                    Progress($"  period {period}: file {sizes[^1]:0.0} MiB, its log {new FileInfo(file + "-wal").Length / 1048576.0:0.0} MiB, "
                        + $"{CountMessages(file):N0} messages");
                }
                return sizes;
            }
        }
        finally
        {
            ServerSet.ExtraSettings = null;
            await DeleteDirectoryAsync(directory).ConfigureAwait(false);
        }
    }

    /// <summary>Delivered messages created and completed 100 days ago, seq 1 to <paramref name="count"/>, 300-byte bodies.</summary>
    private static void WriteExpiredMessages(string databasePath, int count)
    {
        var old = DateTimeOffset.UtcNow.AddDays(-100).ToUnixTimeMilliseconds();
        using (var connection = new SqliteConnection($"Data Source={databasePath}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                PRAGMA journal_mode=WAL;
                BEGIN;
                WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $count)
                INSERT INTO messages (seq, id, channel, client_id, integration_id, event_type, body, status, queue_seq, attempt_count,
                    created_utc, completed_utc)
                SELECT x, 'msg_expired_' || x, 'Integration', 'expired', 'expired', 'IntegrationEnabled', zeroblob(300), 'Delivered', x, 1,
                    $old, $old FROM n;
                COMMIT;
                PRAGMA wal_checkpoint(TRUNCATE);
                """;
            command.Parameters.AddWithValue("$count", count);
            command.Parameters.AddWithValue("$old", old);
            command.CommandTimeout = 600;
            command.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();
    }

    private static long CountMessages(string databasePath)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM messages";
        return (long)command.ExecuteScalar()!;
    }

    private static bool Exists(string databasePath)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM messages WHERE client_id = 'expired')";
        return (long)command.ExecuteScalar()! == 1;
    }

    /// <summary>Waits until no expired message is left in the file; returns when that was seen.</summary>
    private static async Task<long> WaitUntilSweptAsync(string databasePath)
    {
        var limit = Stopwatch.StartNew();
        while (Exists(databasePath))
        {
            if (limit.Elapsed > TimeSpan.FromMinutes(10))
            {
                throw new TimeoutException("The expired messages were not deleted within 10 minutes.");
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        return Stopwatch.GetTimestamp();
    }
}
