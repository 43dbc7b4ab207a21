using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using ConnectorEvents.Testing;

namespace ConnectorEvents.Bench;

public sealed record IngestResult(int Events, int Requests, int Failed, double IngestSeconds, double DeliveredSeconds, long Messages, double CpuSeconds)
{
    public double Rate => Events / IngestSeconds;
    public double DeliveredRate => Events / DeliveredSeconds;
    public double EventsPerMessage => Messages == 0 ? 0 : Events / (double)Messages;
    public double CpuMicrosecondsEach => CpuSeconds * 1e6 / Events;
}

/// <summary>Ingest → General POST latency at one offered rate, with the events and messages delivered per second.</summary>
public sealed record GeneralLatencyResult(
    int Rate, int Scheduled, int Accepted, int Matched, double AchievedRate, long Messages, double DeliveredSeconds, Percentiles FromSend)
{
    public double EventsPerSecond => Matched / DeliveredSeconds;
    public double MessagesPerSecond => Messages / DeliveredSeconds;
}

/// <summary>
/// The General Webhook scenarios: <see cref="BenchSettings.GeneralEnterprises"/> enterprises, each with one client
/// (sink path <c>/g{i}</c>) and one Enabled integration subscribed to everything.
/// </summary>
public sealed partial class Scenarios
{
    private static readonly byte[] DiscriminatorKey = Encoding.UTF8.GetBytes("\"Discriminator\"");

    /// <summary>The servers and one ingest client per server process.</summary>
    private sealed record GeneralDeployment(ServerSet Servers, HttpClient[] Producers, Guid[] Enterprises) : IAsyncDisposable
    {
        /// <summary>The producer for request <paramref name="n"/>: each enterprise's requests alternate over the processes.</summary>
        public HttpClient Producer(int n) => Producers[(n / Enterprises.Length) % Producers.Length];

        public async ValueTask DisposeAsync()
        {
            foreach (var producer in Producers)
            {
                producer.Dispose();
            }
            await Servers.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<GeneralDeployment> CreateGeneralAsync(string directory)
    {
        var servers = await Deployment.StartServerAsync(storage, directory).ConfigureAwait(false);
        var server = servers.Primary;
        var enterprises = new Guid[settings.GeneralEnterprises];
        for (var i = 0; i < enterprises.Length; i++)
        {
            var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = $"General Bench {i}" }).ConfigureAwait(false);
            var client = await server.PostAsync("/api/v1/clients", new { Name = $"General Bench {i}", GeneralWebhookUrl = sink.Url($"/g{i}?Token=bench") })
                .ConfigureAwait(false);
            enterprises[i] = Guid.Parse((string)enterprise["Id"]!);
            await server.CreateIntegrationAsync(enterprises[i], Guid.Parse((string)client["Id"]!)).ConfigureAwait(false);
        }
        return new GeneralDeployment(servers, servers.BaseUris.Select(CreateProducer).ToArray(), enterprises);
    }

    /// <summary>An HTTP client for the ingest API with the admin key, pooled connections, many at once.</summary>
    private static HttpClient CreateProducer(Uri baseUri)
    {
        var producer = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, MaxConnectionsPerServer = 512 })
        {
            BaseAddress = baseUri,
            Timeout = TimeSpan.FromSeconds(60),
        };
        producer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RunningServer.AdminKey);
        return producer;
    }

    /// <summary>Every <c>"Id":"…"</c> GUID in a body, in order (General events and WebSocket frames alike).</summary>
    private static IEnumerable<Guid> IdsIn(string text)
    {
        var from = 0;
        while ((from = text.IndexOf("\"Id\":\"", from, StringComparison.Ordinal)) >= 0)
        {
            from += 6;
            if (from + 36 <= text.Length && Guid.TryParse(text.AsSpan(from, 36), out var id))
            {
                yield return id;
            }
        }
    }

    private static byte[] IngestBody(IEnumerable<Guid> ids)
    {
        var s = new StringBuilder("{\"Events\":[");
        var first = true;
        foreach (var id in ids)
        {
            s.Append(first ? "" : ",").Append("{\"Discriminator\":\"PaymentUpdated\",\"Value\":{\"Id\":\"").Append(id).Append("\"}}");
            first = false;
        }
        return Encoding.UTF8.GetBytes(s.Append("]}").ToString());
    }

    private static async Task<bool> PostEventsAsync(HttpClient producer, Guid enterpriseId, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = Json;
        using var response = await producer.PostAsync($"/api/v1/enterprises/{enterpriseId}/events", content).ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }

    private static int CountEvents(ReadOnlySpan<byte> body)
    {
        var count = 0;
        int at;
        while ((at = body.IndexOf(DiscriminatorKey)) >= 0)
        {
            count++;
            body = body[(at + DiscriminatorKey.Length)..];
        }
        return count;
    }

    // ---- 5. Durable ingest --------------------------------------------------------------------------------------

    /// <summary>
    /// <see cref="BenchSettings.IngestCallers"/> producers post batches of <see cref="BenchSettings.IngestBatch"/> General events
    /// round-robin over the enterprises, each answered only once on disk; delivery runs meanwhile. Ingest rate = events ÷ time
    /// from the first post to the last answer; the sink counts the events of every General message until all have arrived.
    /// </summary>
    public async Task<IngestResult> IngestAsync()
    {
        var directory = NewDataDirectory();
        try
        {
            long delivered = 0;
            sink.Record = false;
            sink.Respond = null;
            sink.Clear();
            await using var d = await CreateGeneralAsync(directory).ConfigureAwait(false);
            var requests = settings.IngestEvents / settings.IngestBatch;
            var bodies = Enumerable.Range(0, Math.Min(requests, 64))
                .Select(_ => IngestBody(Enumerable.Range(0, settings.IngestBatch).Select(_ => Guid.NewGuid()))).ToArray();
            // Warm-up: one batch per enterprise, delivered.
            foreach (var enterprise in d.Enterprises)
            {
                await PostEventsAsync(d.Producers[0], enterprise, bodies[0]).ConfigureAwait(false);
            }
            await WaitForSinkAsync(d.Enterprises.Length * (long)Math.Ceiling(settings.IngestBatch / 250.0), "warm-up General messages")
                .ConfigureAwait(false);
            sink.Clear();
            sink.Inspect = body => Interlocked.Add(ref delivered, CountEvents(body));
            Progress($"  {settings.IngestEvents:N0} events in batches of {settings.IngestBatch} from {settings.IngestCallers} producers");
            var cpu = CpuClock.Start();
            var issued = -1;
            var failed = 0;
            var first = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, settings.IngestCallers).Select(_ => Task.Run(async () =>
            {
                int n;
                while ((n = Interlocked.Increment(ref issued)) < requests)
                {
                    if (!await PostEventsAsync(d.Producer(n), d.Enterprises[n % d.Enterprises.Length], bodies[n % bodies.Length]).ConfigureAwait(false))
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            }))).ConfigureAwait(false);
            var ingested = Stopwatch.GetTimestamp();
            var accepted = (requests - failed) * settings.IngestBatch;
            var deadline = Stopwatch.GetTimestamp() + (60 * Stopwatch.Frequency);
            while (Interlocked.Read(ref delivered) < accepted)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    throw new TimeoutException($"{Interlocked.Read(ref delivered):N0} of {accepted:N0} ingested events were delivered.");
                }
                await Task.Delay(1).ConfigureAwait(false);
            }
            var done = Stopwatch.GetTimestamp();
            var cpuSeconds = cpu.Seconds;
            return new IngestResult(accepted, requests, failed, Clock.Seconds(first, ingested), Clock.Seconds(first, done), sink.Count, cpuSeconds);
        }
        finally
        {
            sink.Inspect = null;
            await DeleteDirectoryAsync(directory).ConfigureAwait(false);
        }
    }

    // ---- 6. Latency ingest → General POST --------------------------------------------------------------------

    /// <summary>
    /// At each of <see cref="BenchSettings.LatencyRates"/> in turn, on one deployment: an open-loop pacer posts one General
    /// event (a fresh entity id) every 1/rate s, round-robin over the enterprises; the sink stamps the arrival of each id.
    /// Latency = arrival of the message holding the event − the post of the event.
    /// </summary>
    public async Task<IReadOnlyList<GeneralLatencyResult>> GeneralLatencyAsync()
    {
        var directory = NewDataDirectory();
        try
        {
            sink.Record = false;
            sink.Clear();
            await using var d = await CreateGeneralAsync(directory).ConfigureAwait(false);
            var arrivals = new ConcurrentDictionary<Guid, long>();
            sink.Inspect = body =>
            {
                var at = Stopwatch.GetTimestamp();
                foreach (var id in IdsIn(Encoding.UTF8.GetString(body)))
                {
                    arrivals.TryAdd(id, at);
                }
            };
            foreach (var enterprise in d.Enterprises)
            {
                await PostEventsAsync(d.Producers[0], enterprise, IngestBody([Guid.NewGuid()])).ConfigureAwait(false);
            }
            await WaitForSinkAsync(d.Enterprises.Length, "warm-up General messages").ConfigureAwait(false);
            var results = new List<GeneralLatencyResult>();
            foreach (var rate in settings.LatencyRates)
            {
                arrivals.Clear();
                results.Add(await GeneralLatencyAtAsync(d, rate, arrivals).ConfigureAwait(false));
            }
            return results;
        }
        finally
        {
            sink.Inspect = null;
            await DeleteDirectoryAsync(directory).ConfigureAwait(false);
        }
    }

    private async Task<GeneralLatencyResult> GeneralLatencyAtAsync(GeneralDeployment d, int rate, ConcurrentDictionary<Guid, long> arrivals)
    {
        var messagesBefore = sink.Count;
        var total = settings.LatencyEventsAt(rate);
        var ids = Enumerable.Range(0, total).Select(_ => Guid.NewGuid()).ToArray();
        var bodies = ids.Select(id => IngestBody([id])).ToArray();
        Progress($"  {total:N0} events at {rate:N0}/s, one per request");
        var (sent, ok) = await PaceRequestsAsync(total, rate,
            k => PostEventsAsync(d.Producer(k), d.Enterprises[k % d.Enterprises.Length], bodies[k])).ConfigureAwait(false);
        var accepted = ok.Count(x => x);
        var deadline = Stopwatch.GetTimestamp() + (60 * Stopwatch.Frequency);
        while (arrivals.Count < accepted && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(5).ConfigureAwait(false);
        }
        var latencies = new List<double>(total);
        var last = sent.Max();
        for (var k = 0; k < total; k++)
        {
            if (ok[k] && arrivals.TryGetValue(ids[k], out var at))
            {
                latencies.Add(Clock.Milliseconds(sent[k], at));
                last = Math.Max(last, at);
            }
        }
        var first = sent.Min();
        var achieved = (total - 1) / Clock.Seconds(first, sent.Max());
        return new GeneralLatencyResult(rate, total, accepted, latencies.Count, achieved, sink.Count - messagesBefore,
            Clock.Seconds(first, last), Percentiles.Of(latencies));
    }

    /// <summary>
    /// Sends request k = 0 … total−1 at start + k/rate (see <see cref="Pace"/>) without waiting for earlier answers; returns
    /// when every answer is in, with the timestamp each request was sent at and whether it was accepted.
    /// </summary>
    private static async Task<(long[] Sent, bool[] Accepted)> PaceRequestsAsync(int total, int rate, Func<int, Task<bool>> send)
    {
        var sent = new long[total];
        var accepted = new bool[total];
        var answers = new Task[total];
        async Task SendAsync(int k)
        {
            sent[k] = Stopwatch.GetTimestamp();
            accepted[k] = await send(k).ConfigureAwait(false);
        }
        await Pace(total, rate, (k, _) => answers[k] = SendAsync(k)).ConfigureAwait(false);
        await Task.WhenAll(answers).ConfigureAwait(false);
        return (sent, accepted);
    }

    /// <summary>
    /// Calls <paramref name="send"/> with k and its due timestamp for k = 0 … total−1 at start + k/rate on a dedicated thread;
    /// a late tick never shifts the schedule: everything due goes out at once.
    /// </summary>
    private static Task Pace(int total, int rate, Action<int, long> send)
    {
        var interval = Stopwatch.Frequency / (double)rate;
        var pacer = new Thread(() =>
        {
            var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100;
            for (var k = 0; k < total;)
            {
                var now = Stopwatch.GetTimestamp();
                long due;
                while (k < total && (due = start + (long)(k * interval)) <= now)
                {
                    send(k, due);
                    k++;
                }
                Thread.Sleep(1);
            }
        })
        { IsBackground = true, Name = "bench pacer" };
        pacer.Start();
        return Task.Run(pacer.Join);
    }
}
