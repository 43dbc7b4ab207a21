using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using ConnectorEvents.Testing;
using JasperFx.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Postgresql;
using Wolverine.RDBMS;
using Wolverine.Runtime;
using Wolverine.Transports;

namespace ConnectorEvents.Bench;

/// <summary>One webhook as a Wolverine message: the client it goes to, its <c>webhook-id</c> and the body (held by the inbox).</summary>
public sealed record WolverineWebhook(int Client, string MessageId, string Payload);

/// <summary>The Wolverine handler: the same signed POST as the Hangfire job, through the one shared job instance.</summary>
public static class WolverineWebhookHandler
{
    /// <summary>Called by Wolverine's generated adapter; a non-2xx answer throws, and the retry policy takes the message again.</summary>
    public static Task Handle(WolverineWebhook message, PeerWebhookJob job)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(job);
        return job.PostAsync(message.Client, message.MessageId, message.Payload);
    }
}

/// <summary>Scenario 8 on Wolverine: start of the host, drain (8a), sustained through the HTTP endpoint (8b), latency (8c).</summary>
/// <param name="Drain">Null when the backlog did not all arrive; then <paramref name="DrainFailure"/> says how far it got.</param>
public sealed record WolverineResult(
    int Workers, double StartSeconds, PeerThroughput? Drain, string? DrainFailure, PeerThroughput Sustained, PeerLatency Latency)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"drain {(Drain is null ? "failed" : Drain.Rate.ToString("N0", CultureInfo.InvariantCulture) + "/s")}, sustained {Sustained.Rate:N0}/s (API {Sustained.EnqueueRate:N0}/s), "
        + $"latency at {Latency.Rate:N0}/s p50 {Latency.FromEnqueue.P50:0.0} ms, p99 {Latency.FromEnqueue.P99:0.0} ms");
}

public sealed partial class Scenarios
{
    /// <summary>The durable local queue the webhooks go through (Wolverine lower-cases local queue names).</summary>
    internal const string WolverineQueue = "webhooks";

    /// <summary>
    /// Scenario 8 on Wolverine 6 with its PostgreSQL message store: a generic host (<see cref="WebApplication"/>) with
    /// <c>UseWolverine</c>, a durable local queue and <see cref="WolverineWebhookHandler"/>, and a minimal-API endpoint that
    /// writes one business row and sends the message in the same Npgsql transaction, enlisted in Wolverine's outbox.
    /// (a) As scenario 2: host A persists a backlog with the queue's listener paused and stops, host B starts on it and its
    /// durability agent takes it up; on host B, (b) callers post to the endpoint as fast as they can, and (c) an open-loop
    /// pacer posts at scenario 4's <see cref="BenchSettings.LatencyRate"/>, or half of (b)'s rate if that is lower.
    /// </summary>
    public async Task<WolverineResult> WolverinePeerAsync()
    {
        sink.Respond = null;
        sink.Record = false;
        sink.Clear();
        var jobs = settings.WolverineJobs;
        var rate = settings.LatencyRate;
        var payload = Encoding.UTF8.GetString(SampleBody());
        var urls = Enumerable.Range(0, settings.Clients).Select(c => new Uri(Deployment.ClientUrl(sink, c))).ToArray();
        var keys = Enumerable.Range(0, settings.Clients).Select(_ => RandomNumberGenerator.GetBytes(32)).ToArray();
        using var http = CreatePostClient();
        var job = new PeerWebhookJob(http, urls, keys);

        var database = await PostgresServer.CreateDatabaseAsync().ConfigureAwait(false);
        try
        {
            // 100 handlers and 64 callers each hold a pooled connection at times; Npgsql's default pool is 100.
            var connectionString = new NpgsqlConnectionStringBuilder(database) { MaxPoolSize = 200 }.ConnectionString;
            await using var business = NpgsqlDataSource.Create(connectionString);
            await using (var create = business.CreateCommand(
                "CREATE TABLE bench_orders (id text PRIMARY KEY, client integer NOT NULL, created timestamptz NOT NULL DEFAULT now())"))
            {
                await create.ExecuteNonQueryAsync().ConfigureAwait(false);
            }

            double enqueueSeconds;
            // (a) Backlog drain, as scenario 2 does it: host A (warmed up) persists the backlog with the queue's listener paused
            // and stops; host B starts on the same database and takes the backlog up at its start.
            var app = BuildWolverineHost(connectionString, business, job);
            await using (app.ConfigureAwait(false))
            {
                await app.StartAsync().ConfigureAwait(false);
                using var api = ApiOf(app);
                var circuit = app.Services.GetRequiredService<IWolverineRuntime>().Endpoints.FindListenerCircuit(new Uri("local://" + WolverineQueue))
                    ?? throw new InvalidOperationException("Wolverine has no listener for the local queue.");
                // Warm-up (untimed): JIT, Wolverine's code generation of the handler adapter (Roslyn), the pools.
                var warmJobs = Math.Min(jobs / 10, 500);
                await PostOrdersAsync(api, warmJobs, "warm_").ConfigureAwait(false);
                await WaitForSinkAsync(warmJobs, "Wolverine warm-up deliveries").ConfigureAwait(false);
                sink.Clear();
                await circuit.PauseAsync(TimeSpan.FromHours(1)).ConfigureAwait(false);
                Progress($"  Wolverine: a backlog of {jobs:N0} messages through host A's endpoint with the queue's listener paused");
                enqueueSeconds = await PostOrdersAsync(api, jobs, "msg_").ConfigureAwait(false);
                await app.StopAsync().ConfigureAwait(false);
            }
            if (sink.Count > 0)
            {
                throw new InvalidOperationException($"{sink.Count} messages were delivered while the listener was paused.");
            }

            Progress("  Wolverine: host A stopped with the backlog; starting host B");
            var starting = Stopwatch.GetTimestamp();
            app = BuildWolverineHost(connectionString, business, job);
            await using (app.ConfigureAwait(false))
            {
                await app.StartAsync().ConfigureAwait(false);
                var ready = Stopwatch.GetTimestamp();
                var startSeconds = Clock.Seconds(starting, ready);
                var deliveredDuringStart = sink.Count;
                using var api = ApiOf(app);
                PeerThroughput? drain = null;
                string? drainFailure = null;
                try
                {
                    var drained = await WaitForSinkAsync(jobs, "Wolverine backlog deliveries").ConfigureAwait(false);
                    // As scenario 2 counts ours: what was delivered after the start, over the time after it.
                    drain = new PeerThroughput(jobs, enqueueSeconds, Clock.Seconds(ready, drained), deliveredDuringStart);
                }
                catch (TimeoutException ex)
                {
                    // Reported, not hidden: the inbox's rows by status and owner.
                    drainFailure = $"{ex.Message} Inbox: {await WolverineInboxAsync(database).ConfigureAwait(false)}.";
                    Progress($"  Wolverine drain failed: {drainFailure}");
                }

                // (b) Sustained: callers post to the endpoint as fast as they can while the listener runs.
                sink.Clear();
                Progress($"  Wolverine: {jobs:N0} messages from {settings.ApiCallers} HTTP callers while the listener runs");
                var first = Stopwatch.GetTimestamp();
                var apiSeconds = await PostOrdersAsync(api, jobs, "sus_").ConfigureAwait(false);
                var delivered = await WaitForSinkAsync(jobs, "Wolverine deliveries").ConfigureAwait(false);
                var sustained = new PeerThroughput(jobs, apiSeconds, Clock.Seconds(first, delivered));

                // (c) Latency at a steady rate; as for Hangfire, at most half the sustained delivery rate just measured.
                var carried = Math.Max(10, (int)(sustained.Rate / 2));
                if (carried < rate)
                {
                    Progress($"  Wolverine delivered {sustained.Rate:N0}/s sustained, so it cannot carry {rate:N0}/s: latency at {carried:N0}/s");
                }
                var latency = await WolverineLatencyAsync(api, Math.Min(rate, carried), rate, payload).ConfigureAwait(false);
                await app.StopAsync().ConfigureAwait(false);
                return new WolverineResult(settings.PeerWorkers, startSeconds, drain, drainFailure, sustained, latency);
            }
        }
        finally
        {
            sink.Record = false;
            sink.Clear();
            await ServerSet.DropDatabaseByConnectionStringAsync(database).ConfigureAwait(false);
        }

        async Task<double> PostOrdersAsync(HttpClient api, int count, string prefix)
        {
            var issued = 0;
            var started = Stopwatch.GetTimestamp();
            var callers = Enumerable.Range(0, settings.ApiCallers).Select(_ => Task.Run(async () =>
            {
                int n;
                while ((n = Interlocked.Increment(ref issued)) <= count)
                {
                    await PostOrderAsync(api, prefix + n.ToString(CultureInfo.InvariantCulture), n % settings.Clients, payload).ConfigureAwait(false);
                }
            })).ToArray();
            await Task.WhenAll(callers).ConfigureAwait(false);
            return Clock.Seconds(started, Stopwatch.GetTimestamp());
        }
    }

    private static HttpClient ApiOf(WebApplication host)
    {
        var api = CreatePostClient();
        api.BaseAddress = new Uri(host.Urls.First());
        return api;
    }

    /// <summary>The inbox rows by status and owner (0 = any node), for a drain that stalled.</summary>
    private static async Task<string> WolverineInboxAsync(string database)
    {
        await using var source = NpgsqlDataSource.Create(database);
        await using var query = source.CreateCommand(
            "SELECT status || ' owned by ' || CASE owner_id WHEN 0 THEN 'any node' ELSE 'this node' END || ': ' || count(*) "
            + "FROM wolverine.wolverine_incoming_envelopes GROUP BY status, owner_id ORDER BY 1");
        await using var reader = await query.ExecuteReaderAsync().ConfigureAwait(false);
        var rows = new List<string>();
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            rows.Add(reader.GetString(0));
        }
        return string.Join(", ", rows);
    }

    /// <summary>One business command: the endpoint answers 2xx once the row and the message are committed.</summary>
    private static async Task PostOrderAsync(HttpClient api, string id, int client, string payload)
    {
        using var content = new StringContent(payload, Encoding.UTF8, "application/json");
        var uri = new Uri(string.Create(CultureInfo.InvariantCulture, $"/orders?id={id}&client={client}"), UriKind.Relative);
        using var response = await api.PostAsync(uri, content).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The host: Kestrel on a free loopback port, Wolverine with the PostgreSQL store, the durable local queue, the endpoint.</summary>
    private WebApplication BuildWolverineHost(string connectionString, NpgsqlDataSource business, PeerWebhookJob job)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Warnings and errors only, on standard error: the report goes to standard output.
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton(job);
        builder.Host.UseWolverine(opts =>
        {
            opts.ApplicationAssembly = typeof(WolverineWebhookHandler).Assembly;
            opts.Discovery.DisableConventionalDiscovery().IncludeType(typeof(WolverineWebhookHandler));
            // One process, no cluster: no leader election; the durability agent runs here from the start.
            opts.Durability.Mode = DurabilityMode.Solo;
            // The inbox recovery poll (default 5 s), as Hangfire's queue poll is set to 1 s.
            opts.Durability.ScheduledJobPollingTime = TimeSpan.FromSeconds(1);
            opts.PersistMessagesWithPostgresql(connectionString, "wolverine");
            opts.PublishMessage<WolverineWebhook>().ToLocalQueue(WolverineQueue);
            // As many handlers in flight as Hangfire's workers (the ceiling's concurrency); the default is the core count.
            opts.LocalQueue(WolverineQueue).UseDurableInbox().MaximumParallelMessages(settings.PeerWorkers);
            // A failed POST: retried after 50 ms, 250 ms, 1 s, then every 5 s for up to 20 attempts in all.
            opts.OnException<HttpRequestException>().Or<TaskCanceledException>()
                .RetryWithCooldown(50.Milliseconds(), 250.Milliseconds(), 1.Seconds())
                .Then.ScheduleRetry(Enumerable.Repeat(5.Seconds(), 16).ToArray());
        });
        var app = builder.Build();
        var runtime = app.Services.GetRequiredService<IWolverineRuntime>();
        app.MapPost("/orders", (RequestDelegate)(context => OrderAsync(context, runtime, business)));
        return app;
    }

    /// <summary>
    /// The endpoint: an Npgsql transaction holding one business INSERT and the message, Wolverine's outbox enlisted in it
    /// (<see cref="MessageContext.EnlistInOutboxAsync"/> with a <see cref="DatabaseEnvelopeTransaction"/>); commit, then flush
    /// (the committed envelope is handed to the local queue's handlers).
    /// </summary>
    private static async Task OrderAsync(HttpContext context, IWolverineRuntime runtime, NpgsqlDataSource business)
    {
        var id = context.Request.Query["id"].ToString();
        var client = int.Parse(context.Request.Query["client"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture);
        string payload;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            payload = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        }

        await using var connection = await business.OpenConnectionAsync(context.RequestAborted).ConfigureAwait(false);
        var transaction = await connection.BeginTransactionAsync(context.RequestAborted).ConfigureAwait(false);
        // The envelope transaction owns the Npgsql transaction and disposes it.
        using var outbox = new DatabaseEnvelopeTransaction((IMessageDatabase)runtime.Storage, transaction);
        var bus = new MessageContext(runtime);
        await bus.EnlistInOutboxAsync(outbox).ConfigureAwait(false);
        await using (var insert = new NpgsqlCommand("INSERT INTO bench_orders (id, client) VALUES ($1, $2)", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = id });
            insert.Parameters.Add(new NpgsqlParameter { Value = client });
            await insert.ExecuteNonQueryAsync(context.RequestAborted).ConfigureAwait(false);
        }
        await bus.SendAsync(new WolverineWebhook(client, id, payload)).ConfigureAwait(false);
        await transaction.CommitAsync(context.RequestAborted).ConfigureAwait(false);
        await bus.FlushOutgoingMessagesAsync().ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    /// <summary>
    /// Open loop as in scenario 4 and the Hangfire peer: request k is due at start + k/rate and is posted to the endpoint on
    /// the thread pool, never waiting for earlier ones; stamped just before the POST, matched to the sink's arrival by
    /// <c>webhook-id</c>.
    /// </summary>
    private async Task<PeerLatency> WolverineLatencyAsync(HttpClient api, int rate, int ourRate, string payload)
    {
        sink.Clear();
        sink.Record = true;
        var total = (int)(rate * settings.PeerLatencyDuration.TotalSeconds);
        var due = new long[total];
        var sent = new long[total];
        var ok = new bool[total];
        var calls = new Task[total];
        var interval = Stopwatch.Frequency / (double)rate;
        Progress($"  Wolverine: {total:N0} messages at {rate:N0}/s for {settings.PeerLatencyDuration.TotalSeconds:0} s");

        async Task CallAsync(int k)
        {
            sent[k] = Stopwatch.GetTimestamp();
            try
            {
                await PostOrderAsync(api, "lat_" + k.ToString(CultureInfo.InvariantCulture), k % settings.Clients, payload).ConfigureAwait(false);
                ok[k] = true;
            }
            catch (HttpRequestException ex)
            {
                // Counted as not enqueued, as a refused command is in scenario 4.
                Progress($"  Wolverine endpoint call {k} failed: {ex.Message}");
            }
        }

        await RunPacerAsync(total, interval, due, k => calls[k] = Task.Run(() => CallAsync(k)), "bench Wolverine pacer").ConfigureAwait(false);
        await Task.WhenAll(calls).ConfigureAwait(false);
        var enqueued = ok.Count(x => x);
        await WaitForSinkAsync(enqueued, "Wolverine latency deliveries").ConfigureAwait(false);
        sink.Record = false;
        return MatchLatency(total, due, sent, ok, enqueued, rate, ourRate);
    }
}
