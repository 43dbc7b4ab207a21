using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using ConnectorEvents.Testing;
using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Npgsql;

namespace ConnectorEvents.Bench;

/// <summary>The Hangfire storages the peer scenario runs on.</summary>
public enum PeerStorage
{
    /// <summary>Hangfire.InMemory: not durable, the most Hangfire can do; set beside our SQLite figures.</summary>
    InMemory,

    /// <summary>Hangfire.PostgreSql on a fresh database of the bench's durable cluster; set beside our postgres figures.</summary>
    Postgres,
}

/// <summary>Jobs delivered in a throughput measurement: enqueueing time and time to the sink's last post.</summary>
/// <param name="DeliveredBefore">Delivered before the timed part began (during a host's start), not counted in the rate.</param>
public sealed record PeerThroughput(int Jobs, double EnqueueSeconds, double Seconds, long DeliveredBefore = 0)
{
    public double Rate => (Jobs - DeliveredBefore) / Seconds;
    public double EnqueueRate => Jobs / EnqueueSeconds;
}

/// <summary>
/// Latency enqueue → POST at a steady rate, in milliseconds; <see cref="Rate"/> is below <see cref="OurRate"/> (scenario 4's)
/// when Hangfire could not carry ours.
/// </summary>
public sealed record PeerLatency(
    int Scheduled, int Enqueued, int Matched, int Rate, int OurRate, double AchievedRate,
    Percentiles FromEnqueue, Percentiles FromSchedule, Percentiles PacerLag);

/// <summary>Scenario 8 on one Hangfire storage.</summary>
public sealed record PeerStorageResult(
    PeerStorage Storage, int Workers, double StartSeconds, PeerThroughput Drain, PeerThroughput Sustained, PeerLatency Latency,
    int DefaultWorkers, PeerLatency DefaultWorkersLatency)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"drain {Drain.Rate:N0}/s, sustained {Sustained.Rate:N0}/s, latency p50 {Latency.FromEnqueue.P50:0.0} ms, p99 {Latency.FromEnqueue.P99:0.0} ms; "
        + $"with {DefaultWorkers} workers p50 {DefaultWorkersLatency.FromEnqueue.P50:0.0} ms, p99 {DefaultWorkersLatency.FromEnqueue.P99:0.0} ms");
}

/// <summary>Scenario 8 of one run: both Hangfire storages and Wolverine; a peer that failed is null, with its error in <see cref="Errors"/>.</summary>
public sealed class PeerRun(int number)
{
    public int Number { get; } = number;
    public PeerStorageResult? InMemory { get; set; }
    public PeerStorageResult? Postgres { get; set; }

    /// <summary>Wolverine with its PostgreSQL store, on a fresh database of the same cluster; set beside our postgres figures.</summary>
    public WolverineResult? Wolverine { get; set; }
    public List<string> Errors { get; } = [];
}

/// <summary>
/// The job a .NET team would write for one webhook: one shared <see cref="HttpClient"/>, a Standard Webhooks signature
/// computed per job, and an exception on a non-2xx answer so that Hangfire's automatic retry takes it again.
/// </summary>
public sealed class PeerWebhookJob(HttpClient http, Uri[] urls, byte[][] keys)
{
    private static readonly MediaTypeHeaderValue Json = MediaTypeHeaderValue.Parse("application/json; charset=utf-8");

    /// <summary>Called by Hangfire's workers; the arguments are what the enqueuer serialised into the job.</summary>
    public async Task PostAsync(int client, string messageId, string payload)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        ArgumentNullException.ThrowIfNull(payload);
        var body = Encoding.UTF8.GetBytes(payload);
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, urls[client]) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = Json;
        request.Headers.TryAddWithoutValidation("webhook-id", messageId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("webhook-signature", Sign(keys[client], messageId, timestamp, body));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The receiver answered {(int)response.StatusCode}.", null, response.StatusCode);
        }
    }

    /// <summary>Standard Webhooks: <c>v1,</c> + base64 HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c>.</summary>
    private static string Sign(byte[] key, string id, string timestamp, byte[] body)
    {
        var prefix = Encoding.UTF8.GetByteCount(id) + 1 + timestamp.Length + 1;
        var content = new byte[prefix + body.Length];
        var written = Encoding.UTF8.GetBytes($"{id}.{timestamp}.", content);
        body.CopyTo(content, written);
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, content));
    }
}

/// <summary>Hands Hangfire's workers the one job instance, with its shared client, instead of creating one per job.</summary>
internal sealed class PeerActivator(PeerWebhookJob job) : JobActivator
{
    public override object ActivateJob(Type jobType) =>
        jobType == typeof(PeerWebhookJob) ? job : base.ActivateJob(jobType);
}

public sealed partial class Scenarios
{
    /// <summary>
    /// Scenario 8 on <paramref name="kind"/>: the same webhooks as scenarios 2–4, each one a Hangfire job that POSTs it with
    /// <see cref="PeerWebhookJob"/>. An untimed warm-up, then (a) a backlog enqueued with no server and drained by a fresh
    /// <see cref="BackgroundJobServer"/>; (b) on that server, <see cref="BenchSettings.ApiCallers"/> enqueuers as fast as they
    /// can; (c) an open-loop pacer at <see cref="BenchSettings.PeerLatencyRate"/> (or half the rate of (b), if lower), latency = sink
    /// arrival − enqueue call; (d) (c) again on a server with Hangfire's default worker count.
    /// </summary>
    public async Task<PeerStorageResult> HangfirePeerAsync(PeerStorage kind)
    {
        sink.Respond = null;
        sink.Record = false;
        sink.Clear();
        var jobs = kind == PeerStorage.Postgres ? settings.PeerPostgresJobs : settings.PeerInMemoryJobs;
        var rate = settings.PeerLatencyRate(kind == PeerStorage.Postgres ? StorageKind.Postgres : StorageKind.Sqlite);
        var payload = Encoding.UTF8.GetString(SampleBody());
        var urls = Enumerable.Range(0, settings.Clients).Select(c => new Uri(Deployment.ClientUrl(sink, c))).ToArray();
        var keys = Enumerable.Range(0, settings.Clients).Select(_ => RandomNumberGenerator.GetBytes(32)).ToArray();
        using var http = CreatePostClient();
        var job = new PeerWebhookJob(http, urls, keys);
        var activator = new PeerActivator(job);
        BackgroundJobServerOptions Options(int workers) => new()
        {
            WorkerCount = workers,
            Activator = activator,
            ServerName = "bench-peer",
            ShutdownTimeout = TimeSpan.FromSeconds(10),
        };
        var options = Options(settings.PeerWorkers);
        // What a server gets when WorkerCount is not set: min(5 × cores, 20).
        var defaultWorkers = new BackgroundJobServerOptions().WorkerCount;

        string? database = null;
        JobStorage? storage = null;
        try
        {
            if (kind == PeerStorage.Postgres)
            {
                database = await PostgresServer.CreateDatabaseAsync().ConfigureAwait(false);
                // 100 workers and 64 enqueuers each hold a pooled connection at times; Npgsql's default pool is 100.
                var connectionString = new NpgsqlConnectionStringBuilder(database) { MaxPoolSize = 200 }.ConnectionString;
                var storageOptions = new PostgreSqlStorageOptions
                {
                    PrepareSchemaIfNecessary = true,
                    // LISTEN/NOTIFY wakes idle workers on an enqueue; without it they poll every 15 s by default, which is
                    // not what a team that cares about latency would ship. The poll stays as a fallback.
                    EnableLongPolling = true,
                    QueuePollInterval = TimeSpan.FromSeconds(1),
                };
                storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, storageOptions), storageOptions);
            }
            else
            {
                storage = new InMemoryStorage(new InMemoryStorageOptions());
            }
            var client = new BackgroundJobClient(storage);
            var sequence = 0;

            void Enqueue()
            {
                var n = Interlocked.Increment(ref sequence);
                client.Enqueue<PeerWebhookJob>(j => j.PostAsync(n % settings.Clients, "msg_" + n.ToString(CultureInfo.InvariantCulture), payload));
            }

            // Warm-up (untimed): JIT, the connection pools and Hangfire's own start-up.
            using (var warmServer = new BackgroundJobServer(options, storage))
            {
                var warmJobs = Math.Min(jobs / 10, 500);
                await EnqueueManyAsync(warmJobs, Enqueue).ConfigureAwait(false);
                await WaitForSinkAsync(warmJobs, "Hangfire warm-up deliveries").ConfigureAwait(false);
            }
            sink.Clear();

            // (a) Backlog drain.
            Progress($"  Hangfire {kind}: enqueueing a backlog of {jobs:N0} jobs with no server");
            var enqueueSeconds = await EnqueueManyAsync(jobs, Enqueue).ConfigureAwait(false);
            var started = Stopwatch.GetTimestamp();
            BackgroundJobServer? server = new(options, storage);
            try
            {
                var startSeconds = Clock.Seconds(started, Stopwatch.GetTimestamp());
                var drained = await WaitForSinkAsync(jobs, "Hangfire backlog deliveries").ConfigureAwait(false);
                var drain = new PeerThroughput(jobs, enqueueSeconds, Clock.Seconds(started, drained));

                // (b) Sustained: enqueuers as fast as they can while the server runs.
                sink.Clear();
                Progress($"  Hangfire {kind}: {jobs:N0} jobs from {settings.ApiCallers} enqueuers while the server runs");
                var first = Stopwatch.GetTimestamp();
                var sustainedEnqueue = await EnqueueManyAsync(jobs, Enqueue).ConfigureAwait(false);
                var delivered = await WaitForSinkAsync(jobs, "Hangfire deliveries").ConfigureAwait(false);
                var sustained = new PeerThroughput(jobs, sustainedEnqueue, Clock.Seconds(first, delivered));

                // (c) Latency at a steady rate. Above what the storage delivers, its queue grows for as long as the pacer runs and
                // the figure says only how long that was: then the rate is half the sustained delivery rate just measured.
                var carried = Math.Max(10, (int)(sustained.Rate / 2));
                if (carried < rate)
                {
                    Progress($"  Hangfire {kind} delivered {sustained.Rate:N0}/s sustained, so it cannot carry {rate:N0}/s: latency at {carried:N0}/s");
                }
                var latency = await PeerLatencyAsync(client, Math.Min(rate, carried), rate, payload).ConfigureAwait(false);
                server.Dispose();
                server = null;

                // (d) The same latency with Hangfire's default worker count: on PostgreSQL 100 workers contend for the queue.
                Progress($"  Hangfire {kind}: latency again with the default {defaultWorkers} workers");
                server = new BackgroundJobServer(Options(defaultWorkers), storage);
                var defaultLatency = await PeerLatencyAsync(client, Math.Min(rate, carried), rate, payload).ConfigureAwait(false);
                return new PeerStorageResult(kind, settings.PeerWorkers, startSeconds, drain, sustained, latency, defaultWorkers, defaultLatency);
            }
            finally
            {
                server?.Dispose();
            }
        }
        finally
        {
            sink.Record = false;
            sink.Clear();
            // Hangfire.InMemory runs a dispatcher thread of its own.
            (storage as IDisposable)?.Dispose();
            if (database is not null)
            {
                await ServerSet.DropDatabaseByConnectionStringAsync(database).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Enqueues <paramref name="count"/> jobs from <see cref="BenchSettings.ApiCallers"/> threads; the seconds it took.</summary>
    private async Task<double> EnqueueManyAsync(int count, Action enqueue)
    {
        var issued = 0;
        var started = Stopwatch.GetTimestamp();
        // Hangfire's client is synchronous: each caller gets its own thread rather than blocking pool threads.
        var callers = Enumerable.Range(0, settings.ApiCallers).Select(_ => Task.Factory.StartNew(() =>
        {
            while (Interlocked.Increment(ref issued) <= count)
            {
                enqueue();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        await Task.WhenAll(callers).ConfigureAwait(false);
        return Clock.Seconds(started, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// Open loop as in scenario 4: enqueue k is due at start + k/rate, whatever earlier ones do. Hangfire's client is
    /// synchronous, so the pacer hands each due job to <see cref="BenchSettings.ApiCallers"/> dedicated enqueuer threads (on
    /// the thread pool the blocked enqueues starved the jobs' own HTTP continuations). Each job is stamped just before its
    /// <c>Enqueue</c> and matched to its POST by the <c>webhook-id</c> the sink recorded.
    /// </summary>
    private async Task<PeerLatency> PeerLatencyAsync(BackgroundJobClient client, int rate, int ourRate, string payload)
    {
        sink.Clear();
        sink.Record = true;
        var total = (int)(rate * settings.PeerLatencyDuration.TotalSeconds);
        var due = new long[total];
        var sent = new long[total];
        var ok = new bool[total];
        var interval = Stopwatch.Frequency / (double)rate;
        Progress($"  Hangfire: {total:N0} jobs at {rate:N0}/s for {settings.PeerLatencyDuration.TotalSeconds:0} s");

        using var ready = new BlockingCollection<int>();
        var enqueuers = Enumerable.Range(0, settings.ApiCallers).Select(_ => Task.Factory.StartNew(() =>
        {
            foreach (var k in ready.GetConsumingEnumerable())
            {
                sent[k] = Stopwatch.GetTimestamp();
                try
                {
                    client.Enqueue<PeerWebhookJob>(j => j.PostAsync(k % settings.Clients, "lat_" + k.ToString(CultureInfo.InvariantCulture), payload));
                    ok[k] = true;
                }
                catch (BackgroundJobClientException ex)
                {
                    // Counted as not enqueued, as a refused command is in scenario 4.
                    Progress($"  Hangfire enqueue {k} failed: {ex.InnerException?.Message ?? ex.Message}");
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        await RunPacerAsync(total, interval, due, ready.Add, "bench peer pacer").ConfigureAwait(false);
        ready.CompleteAdding();
        await Task.WhenAll(enqueuers).ConfigureAwait(false);
        var enqueued = ok.Count(x => x);
        await WaitForSinkAsync(enqueued, "Hangfire latency deliveries").ConfigureAwait(false);
        sink.Record = false;

        return MatchLatency(total, due, sent, ok, enqueued, rate, ourRate);
    }

    /// <summary>
    /// An open-loop pacer on a thread of its own: item k is due at start + k × <paramref name="interval"/> (timestamp ticks),
    /// stamped in <paramref name="due"/>, and <paramref name="onDue"/> takes it then, whatever earlier ones are doing.
    /// </summary>
    private static Task RunPacerAsync(int total, double interval, long[] due, Action<int> onDue, string name)
    {
        var pacer = new Thread(() =>
        {
            var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100;
            for (var k = 0; k < total;)
            {
                var now = Stopwatch.GetTimestamp();
                while (k < total && start + (long)(k * interval) <= now)
                {
                    due[k] = start + (long)(k * interval);
                    onDue(k);
                    k++;
                }
                Thread.Sleep(1);
            }
        })
        { IsBackground = true, Name = name };
        pacer.Start();
        return Task.Run(pacer.Join);
    }

    /// <summary>
    /// Matches each of the <paramref name="total"/> jobs (<c>lat_{k}</c>) to the sink's first arrival of its <c>webhook-id</c>:
    /// latency from the enqueue stamp and from the scheduled time, and the pacer's lateness.
    /// </summary>
    private PeerLatency MatchLatency(int total, long[] due, long[] sent, bool[] ok, int enqueued, int rate, int ourRate)
    {
        var arrived = new long[total];
        foreach (var webhook in sink.Received)
        {
            if (webhook.MessageId.StartsWith("lat_", StringComparison.Ordinal)
                && int.TryParse(webhook.MessageId.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k < total
                && arrived[k] == 0)
            {
                arrived[k] = webhook.ReceivedTimestamp;
            }
        }
        var fromEnqueue = new List<double>(total);
        var fromSchedule = new List<double>(total);
        var lag = new List<double>(total);
        for (var k = 0; k < total; k++)
        {
            lag.Add(Clock.Milliseconds(due[k], sent[k]));
            if (ok[k] && arrived[k] != 0)
            {
                fromEnqueue.Add(Clock.Milliseconds(sent[k], arrived[k]));
                fromSchedule.Add(Clock.Milliseconds(due[k], arrived[k]));
            }
        }
        var achieved = (total - 1) / Clock.Seconds(sent.Min(), sent.Max());
        return new PeerLatency(total, enqueued, fromEnqueue.Count, rate, ourRate, achieved,
            Percentiles.Of(fromEnqueue), Percentiles.Of(fromSchedule), Percentiles.Of(lag));
    }
}
