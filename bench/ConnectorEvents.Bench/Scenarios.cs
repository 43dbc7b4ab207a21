using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using ConnectorEvents.Contracts;
using ConnectorEvents.Storage.Sqlite;
using ConnectorEvents.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;

namespace ConnectorEvents.Bench;

public sealed record CeilingResult(int Posts, int Failed, int Concurrency, double Seconds, double CpuSeconds)
{
    public double Rate => Posts / Seconds;
    public double CpuMicrosecondsEach => CpuSeconds * 1e6 / Posts;
}

public sealed record WriterDelta(long Commits, long Units)
{
    public double UnitsPerCommit => Commits == 0 ? 0 : Units / (double)Commits;

    public static WriterDelta Between((long Commits, long Units) before, (long Commits, long Units) after) =>
        new(after.Commits - before.Commits, after.Units - before.Units);
}

/// <param name="PeakLogMiB">The longest the SQLite log (<c>-wal</c> file) was while the backlog was built and while it
/// drained, sampled every 50 ms; null on PostgreSQL.</param>
/// <param name="Seconds">From server B's start returning (the host started, partitions held) to the last delivery.</param>
/// <param name="DeliveredDuringStart">Deliveries the sink had answered when B's start returned: not counted in the rate.</param>
public sealed record DrainResult(
    int Backlog, int CommandsAccepted, double BuildSeconds, double StartSeconds, double Seconds, long Extra, WriterDelta? Writer,
    double CpuSeconds, (double Build, double Drain)? PeakLogMiB, long DeliveredDuringStart = 0)
{
    public double Rate => (Backlog - DeliveredDuringStart) / Seconds;
    public double CpuMicrosecondsEach => CpuSeconds * 1e6 / Backlog;
}

public sealed record SustainedResult(int Accepted, int Failed, double ApiSeconds, double Seconds, WriterDelta? Writer, double CpuSeconds)
{
    public double CpuMicrosecondsEach => CpuSeconds * 1e6 / Accepted;
    public double Rate => Accepted / Seconds;
    public double ApiRate => Accepted / ApiSeconds;
}

/// <summary>Command → POST latency at one offered rate.</summary>
public sealed record LatencyResult(
    int Rate, int Scheduled, int Accepted, int Failed, int Matched, double AchievedRate, double DeliveredRate,
    Percentiles FromSend, Percentiles FromSchedule, Percentiles PacerLag);

/// <summary>p50/p90/p99/max in milliseconds.</summary>
public sealed record Percentiles(double P50, double P90, double P99, double Max)
{
    public static Percentiles Of(List<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return new Percentiles(double.NaN, double.NaN, double.NaN, double.NaN);
        }
        values.Sort();
        return new Percentiles(Rank(values, 0.50), Rank(values, 0.90), Rank(values, 0.99), values[^1]);
    }

    // Nearest rank: the smallest value with at least p of the values at or below it.
    private static double Rank(List<double> sorted, double p) => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1)];
}

/// <summary>CPU time this process used since <see cref="Start"/>, all threads (server, load generator and sink alike).</summary>
public readonly struct CpuClock
{
    private readonly TimeSpan _start;

    private CpuClock(TimeSpan start) => _start = start;

    public static CpuClock Start() => new(Now);

    public double Seconds => (Now - _start).TotalSeconds;

    private static TimeSpan Now
    {
        get
        {
            using var process = Process.GetCurrentProcess();
            return process.TotalProcessorTime;
        }
    }
}

/// <summary>
/// The measurements on one storage configuration. Each starts fresh servers on a fresh data folder (and, for PostgreSQL, a
/// fresh database) and deletes both after. With two server processes the writer counters (in-process only) are not reported.
/// </summary>
public sealed partial class Scenarios(BenchSettings settings, WebhookSink sink, StorageKind storage = StorageKind.Sqlite)
{
    private static readonly MediaTypeHeaderValue Json = MediaTypeHeaderValue.Parse("application/json; charset=utf-8");

    private static readonly Func<HttpContext, ReceivedWebhook, Task> Gone = (context, _) =>
    {
        context.Response.StatusCode = StatusCodes.Status410Gone;
        return Task.CompletedTask;
    };

    /// <summary>A realistic IntegrationCreated body, as the server writes it.</summary>
    public static byte[] SampleBody()
    {
        var enterpriseId = Guid.NewGuid();
        var integrationId = Guid.NewGuid();
        return IntegrationWebhookWriter.Created(new IntegrationCreatedData(
            new EnterpriseRef(enterpriseId, "Grand Hotel Prague Old Town"),
            new ServiceRef(Guid.NewGuid(), "Accommodation"),
            new Requestor("Jane Rivera", "jane.rivera@grandhotel.example"),
            "C66EF7B239D24632943D115EDE9CB810-EA00F8FD8294692C940F6B5A8F9453D",
            new DateTimeOffset(2025, 8, 14, 9, 31, 12, TimeSpan.Zero),
            true,
            new IntegrationRef(integrationId, "Revenue Management Connector")));
    }

    /// <summary>An <c>HttpClient</c> as a team would set one up to POST to many receivers: pooled keep-alive connections, no limit per server.</summary>
    public static HttpClient CreatePostClient() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        MaxConnectionsPerServer = int.MaxValue,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    // ---- 1. Ceiling --------------------------------------------------------------------------------------------

    public async Task<CeilingResult> CeilingAsync()
    {
        sink.Respond = null;
        sink.Record = false;
        var body = SampleBody();
        var urls = Enumerable.Range(0, settings.Clients).Select(c => new Uri(Deployment.ClientUrl(sink, c))).ToArray();
        using var http = CreatePostClient();

        async Task<(int Posts, int Failed)> LoopAsync(int total)
        {
            var issued = 0;
            var failed = 0;
            var loops = Enumerable.Range(0, settings.CeilingConcurrency).Select(loop => Task.Run(async () =>
            {
                int n;
                while ((n = Interlocked.Increment(ref issued)) <= total)
                {
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = Json;
                    using var response = await http.PostAsync(urls[n % urls.Length], content).ConfigureAwait(false);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            })).ToArray();
            await Task.WhenAll(loops).ConfigureAwait(false);
            return (total, failed);
        }

        // Warm-up: connections, and time for tiered compilation to settle on optimised code.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromSeconds(settings.Quick ? 1 : 3))
        {
            await LoopAsync(2_000).ConfigureAwait(false);
        }
        sink.Clear();
        var started = Stopwatch.GetTimestamp();
        var cpu = CpuClock.Start();
        var (posts, failedPosts) = await LoopAsync(settings.CeilingPosts).ConfigureAwait(false);
        var seconds = Clock.Seconds(started, Stopwatch.GetTimestamp());
        var cpuSeconds = cpu.Seconds;
        if (sink.Count != posts)
        {
            throw new InvalidOperationException($"The sink counted {sink.Count} posts of {posts}.");
        }
        return new CeilingResult(posts, failedPosts, settings.CeilingConcurrency, seconds, cpuSeconds);
    }

    // ---- 2. Backlog drain --------------------------------------------------------------------------------------

    /// <summary>
    /// Server A builds a backlog while every receiver has answered 410 Gone (which parks the client's messages, undelivered
    /// and unattempted); A stops; the receivers come back (the clients' URLs re-enabled in the database, as an operator's
    /// PATCH would); server B starts on the same data folder. Timed from B's start to the backlog's last delivery.
    /// </summary>
    public async Task<DrainResult> DrainAsync()
    {
        var directory = NewDataDirectory();
        try
        {
            var built = await BuildBacklogAsync(directory, settings.BacklogMessages).ConfigureAwait(false);
            Progress($"  server A stopped with {built.Backlog:N0} pending messages; starting server B");
            sink.Respond = null;
            sink.Clear();
            var log = SqliteLogSampler(directory);
            var cpu = CpuClock.Start();
            var started = Stopwatch.GetTimestamp();
            var b = await Deployment.ReopenAsync(built.Stopped, directory).ConfigureAwait(false);
            try
            {
                var ready = Stopwatch.GetTimestamp();
                var deliveredDuringStart = sink.Count;
                if (deliveredDuringStart >= built.Backlog)
                {
                    // Not a rate of zero: nothing was left to time. Reported as a failed measurement, with this reason.
                    throw new InvalidOperationException(
                        $"All {built.Backlog:N0} messages were delivered during server B's start: a larger backlog is needed to time the drain.");
                }
                long done;
                await using (log.ConfigureAwait(false))
                {
                    done = await WaitForSinkAsync(built.Backlog, "backlog deliveries").ConfigureAwait(false);
                }
                var cpuSeconds = cpu.Seconds;
                await b.Writer.FlushAsync().ConfigureAwait(false);
                var writer = b.WriterCoversAll ? WriterDelta.Between((0, 0), b.Writer.Counters) : null;
                // Start-up apart: PostgreSQL's start (connections, migrations check, partition leases) is not the drain.
                return new DrainResult((int)built.Backlog, built.Accepted, built.BuildSeconds, Clock.Seconds(started, ready),
                    Clock.Seconds(ready, done), built.Extra, writer, cpuSeconds,
                    built.PeakLogMiB is { } buildLog ? (buildLog, log.Peak) : null, deliveredDuringStart);
            }
            finally
            {
                await b.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            await DeleteDirectoryAsync(directory).ConfigureAwait(false);
        }
    }

    /// <summary>A backlog left in a data folder by a stopped server A, its receivers back.</summary>
    private sealed record BuiltBacklog(Deployment Stopped, long Backlog, int Accepted, double BuildSeconds, long Extra, double? PeakLogMiB);

    /// <summary>Samples the SQLite log in <paramref name="directory"/>; on PostgreSQL it reads nothing (and reports 0).</summary>
    private PeakSampler SqliteLogSampler(string directory) => storage == StorageKind.Sqlite
        ? PeakSampler.SqliteLog(Path.Combine(directory, "connector-events.db"))
        : new PeakSampler(() => 0);

    /// <summary>Server A's part of the drain: <paramref name="messages"/> commands whose webhooks stay pending, then A stops.</summary>
    private async Task<BuiltBacklog> BuildBacklogAsync(string directory, int messages)
    {
        sink.Respond = null;
        sink.Record = false;
        sink.Clear();
        var a = await Deployment.CreateAsync(settings, sink, storage, directory).ConfigureAwait(false);
        CommandTally tally;
        long extra;
        double? peakLog;
        try
        {
            await WaitForSinkAsync(settings.Integrations, "IntegrationCreated deliveries").ConfigureAwait(false);

            // Every receiver goes away with 410 Gone: the first message of each client disables its URL.
            sink.Respond = Gone;
            sink.Clear();
            await Parallel.ForEachAsync(Enumerable.Range(0, settings.Clients), async (c, _) =>
            {
                var index = c * settings.IntegrationsPerClient;
                if (await a.SendAsync(a.TogglePath(index)).ConfigureAwait(false))
                {
                    a.Enabled[index] = !a.Enabled[index];
                }
            }).ConfigureAwait(false);
            await WaitForSinkAsync(settings.Clients, "410 answers").ConfigureAwait(false);
            await WaitUntilClientsDisabledAsync(a).ConfigureAwait(false);

            Progress($"  building a backlog of {messages:N0} messages over the API");
            var log = SqliteLogSampler(directory);
            await using (log.ConfigureAwait(false))
            {
                tally = await a.ToggleAsync(messages, settings.ApiCallers, done => Progress($"    {done:N0} commands")).ConfigureAwait(false);
                await a.Writer.FlushAsync().ConfigureAwait(false);
            }
            peakLog = storage == StorageKind.Sqlite ? log.Peak : null;
            extra = sink.Count - settings.Clients; // messages that raced the 410 and were given up; not in the backlog
        }
        finally
        {
            await a.DisposeAsync().ConfigureAwait(false);
        }
        var backlog = ServerSet.ConnectionStringFor(directory) is { } postgres
            ? await ReopenEndpointsAsync(postgres).ConfigureAwait(false)
            : ReopenEndpoints(Path.Combine(directory, "connector-events.db"));
        return new BuiltBacklog(a, backlog, tally.Accepted, tally.Seconds, extra, peakLog);
    }

    private static async Task WaitUntilClientsDisabledAsync(Deployment deployment)
    {
        var deadline = Stopwatch.GetTimestamp() + (30 * Stopwatch.Frequency);
        foreach (var clientId in deployment.ClientIds)
        {
            while (true)
            {
                var client = await deployment.Server.GetAsync($"/api/v1/clients/{clientId}").ConfigureAwait(false);
                if (!(bool)client["IntegrationWebhookEnabled"]!)
                {
                    break;
                }
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    throw new TimeoutException($"Client {clientId} was not disabled by its 410 answer.");
                }
                await Task.Delay(10).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Clears the 410 marks (what <c>PATCH /clients/{id}</c> with the same URL does) and counts the backlog.</summary>
    private static long ReopenEndpoints(string databasePath)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        connection.Open();
        using (var update = connection.CreateCommand())
        {
            update.CommandText = "UPDATE clients SET integration_webhook_disabled_utc = NULL, integration_webhook_disabled_reason = NULL";
            update.ExecuteNonQuery();
        }
        using var store = new SqliteConnectorStore(databasePath, TestSecrets.Protector());
        return CountPending(store);
    }

    /// <summary>Counted through the store, which alone knows where a message's state lies (its latest outcome, or its row).</summary>
    private static long CountPending(Core.Storage.IConnectorStore store) =>
        store.ListLanesWithPending().Sum(lane => (long)store.LoadPending(lane, 0, int.MaxValue).Count);

    /// <summary><see cref="ReopenEndpoints"/> on a PostgreSQL database.</summary>
    private static async Task<long> ReopenEndpointsAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using (var update = connection.CreateCommand())
        {
            update.CommandText = "UPDATE clients SET integration_webhook_disabled_utc = NULL, integration_webhook_disabled_reason = NULL";
            await update.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        using var store = new Storage.Postgres.PostgresConnectorStore(connectionString, "bench-count", TestSecrets.Protector());
        return CountPending(store);
    }

    // ---- 3. Sustained commands → deliveries --------------------------------------------------------------------

    public Task<SustainedResult> SustainedAsync() => WithDeploymentAsync(async d =>
    {
        await WarmUpAsync(d).ConfigureAwait(false);
        await d.Writer.FlushAsync().ConfigureAwait(false);
        var before = d.Writer.Counters;
        sink.Clear();
        Progress($"  {settings.SustainedCommands:N0} commands from {settings.ApiCallers} callers");
        var cpu = CpuClock.Start();
        var tally = await d.ToggleAsync(settings.SustainedCommands, settings.ApiCallers,
            done => Progress($"    {done:N0} commands")).ConfigureAwait(false);
        var done = await WaitForSinkAsync(tally.Accepted, "deliveries").ConfigureAwait(false);
        var cpuSeconds = cpu.Seconds;
        await d.Writer.FlushAsync().ConfigureAwait(false);
        var writer = d.WriterCoversAll ? WriterDelta.Between(before, d.Writer.Counters) : null;
        return new SustainedResult(tally.Accepted, tally.Failed, tally.Seconds, Clock.Seconds(tally.FirstSendTimestamp, done), writer, cpuSeconds);
    });

    /// <summary>IntegrationCreated deliveries, then one disable and one enable per integration, all delivered.</summary>
    private async Task WarmUpAsync(Deployment d)
    {
        await WaitForSinkAsync(settings.Integrations, "IntegrationCreated deliveries").ConfigureAwait(false);
        var warm = await d.RoundAsync(enable: false, settings.ApiCallers).ConfigureAwait(false);
        warm += await d.RoundAsync(enable: true, settings.ApiCallers).ConfigureAwait(false);
        await WaitForSinkAsync(settings.Integrations + warm, "warm-up deliveries").ConfigureAwait(false);
    }

    // ---- 4. Latency at steady rates ----------------------------------------------------------------------------

    /// <summary>
    /// At each of <see cref="BenchSettings.LatencyRates"/> in turn, on one deployment: an open-loop pacer sends command k at
    /// start + k/rate, whatever the answers to earlier ones do, to integration k mod N (each integration alternately disabled
    /// and enabled). The sink stamps each arrival; the n-th webhook of an integration belongs to its n-th accepted command
    /// (FIFO per integration). Every webhook of one rate is delivered before the next rate starts.
    /// </summary>
    public Task<IReadOnlyList<LatencyResult>> LatencyAsync() => WithDeploymentAsync(async d =>
    {
        await WarmUpAsync(d).ConfigureAwait(false);
        // Commands each integration was sent so far: all start Enabled, so an even count means "disable next".
        var sentTo = new int[d.IntegrationIds.Length];
        var results = new List<LatencyResult>();
        foreach (var rate in settings.LatencyRates)
        {
            results.Add(await LatencyAtAsync(d, rate, sentTo).ConfigureAwait(false));
        }
        return (IReadOnlyList<LatencyResult>)results;
    });

    private async Task<LatencyResult> LatencyAtAsync(Deployment d, int rate, int[] sentTo)
    {
        sink.Clear();
        sink.Record = true;
        var total = settings.LatencyEventsAt(rate);
        var integrations = d.IntegrationIds.Length;
        var due = new long[total];
        var sent = new long[total];
        var ok = new bool[total];
        var enables = new bool[total];
        var answers = new Task[total];
        Progress($"  {total:N0} commands at {rate:N0}/s");

        async Task SendAsync(int k, string path)
        {
            sent[k] = Stopwatch.GetTimestamp();
            ok[k] = await d.SendAsync(path).ConfigureAwait(false);
        }

        await Pace(total, rate, (k, dueAt) =>
        {
            due[k] = dueAt;
            var index = k % integrations;
            enables[k] = sentTo[index]++ % 2 == 1;
            answers[k] = SendAsync(k, d.CommandPath(index, enables[k]));
        }).ConfigureAwait(false);
        await Task.WhenAll(answers).ConfigureAwait(false);
        var accepted = ok.Count(x => x);
        var lastArrival = await WaitForSinkAsync(accepted, "deliveries").ConfigureAwait(false);
        sink.Record = false;

        // Arrivals per integration in arrival order.
        var position = new Dictionary<Guid, int>(integrations);
        for (var i = 0; i < integrations; i++)
        {
            position[d.IntegrationIds[i]] = i;
        }
        var arrivals = Enumerable.Range(0, integrations).Select(_ => new Queue<(string Action, long At)>()).ToArray();
        foreach (var webhook in sink.Received)
        {
            using var json = JsonDocument.Parse(webhook.Body);
            var action = json.RootElement.GetProperty("Action").GetString()!;
            var id = json.RootElement.GetProperty("Data").GetProperty("Integration").GetProperty("Id").GetGuid();
            arrivals[position[id]].Enqueue((action, webhook.ReceivedTimestamp));
        }
        var fromSend = new List<double>(total);
        var fromSchedule = new List<double>(total);
        var lag = new List<double>(total);
        for (var k = 0; k < total; k++)
        {
            lag.Add(Clock.Milliseconds(due[k], sent[k]));
            if (!ok[k])
            {
                continue;
            }
            var expected = enables[k] ? IntegrationActions.Enabled : IntegrationActions.Disabled;
            if (arrivals[k % integrations].TryDequeue(out var arrival) && arrival.Action == expected)
            {
                fromSend.Add(Clock.Milliseconds(sent[k], arrival.At));
                fromSchedule.Add(Clock.Milliseconds(due[k], arrival.At));
            }
        }
        var first = sent.Min();
        var achieved = (total - 1) / Clock.Seconds(first, sent.Max());
        return new LatencyResult(rate, total, accepted, total - accepted, fromSend.Count, achieved, accepted / Clock.Seconds(first, lastArrival),
            Percentiles.Of(fromSend), Percentiles.Of(fromSchedule), Percentiles.Of(lag));
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    /// <summary>Runs a scenario on a fresh deployment over a fresh data folder, with a counting sink; removes both after.</summary>
    private async Task<T> WithDeploymentAsync<T>(Func<Deployment, Task<T>> scenario)
    {
        var directory = NewDataDirectory();
        try
        {
            sink.Respond = null;
            sink.Record = false;
            sink.Clear();
            var d = await Deployment.CreateAsync(settings, sink, storage, directory).ConfigureAwait(false);
            try
            {
                return await scenario(d).ConfigureAwait(false);
            }
            finally
            {
                sink.Record = false;
                sink.Clear();
                await d.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            await DeleteDirectoryAsync(directory).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until the sink has answered <paramref name="count"/> requests; the timestamp when it saw that.</summary>
    private Task<long> WaitForSinkAsync(long count, string what) => WaitForAsync(() => sink.Count, count, what);

    /// <summary>
    /// Waits until <paramref name="read"/> reaches <paramref name="count"/>, reporting progress every 5 s; fails when it
    /// stops moving for 30 s. Returns the timestamp when it saw the count reached.
    /// </summary>
    private static async Task<long> WaitForAsync(Func<long> read, long count, string what)
    {
        var last = read();
        var lastChange = Stopwatch.GetTimestamp();
        var lastReport = lastChange;
        while (true)
        {
            var seen = read();
            var now = Stopwatch.GetTimestamp();
            if (seen >= count)
            {
                return now;
            }
            if (seen != last)
            {
                last = seen;
                lastChange = now;
            }
            else if (Clock.Seconds(lastChange, now) > 30)
            {
                throw new TimeoutException($"Waiting for {count:N0} {what}: stuck at {seen:N0}.");
            }
            if (Clock.Seconds(lastReport, now) >= 5)
            {
                Progress($"    {seen:N0} of {count:N0} {what}");
                lastReport = now;
            }
            await Task.Delay(1).ConfigureAwait(false);
        }
    }

    private static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "ce-bench-" + Guid.NewGuid().ToString("N"));

    private static async Task DeleteDirectoryAsync(string directory)
    {
        await ServerSet.DropDatabaseAsync(directory).ConfigureAwait(false);
        SqliteConnection.ClearAllPools();
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException ex)
        {
            Progress($"  could not delete {directory}: {ex.Message}");
        }
    }

    public static void Progress(string line) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");
}
