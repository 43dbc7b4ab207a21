using System.Diagnostics;
using System.Globalization;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Messages;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Storage.Sqlite;
using ConnectorEvents.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;

namespace ConnectorEvents.Bench;

/// <summary>One drain of scenario 9: how long the healthy clients' messages took while the others misbehaved.</summary>
public sealed record IsolationDrain(string Fault, double Seconds, long FaultyRequests)
{
    /// <summary>Healthy deliveries per second.</summary>
    public double Rate(long healthy) => healthy / Seconds;
}

public sealed record IsolationResult(int Backlog, long Healthy, int FaultyClients, IsolationDrain AllHealthy, IsolationDrain Hanging, IsolationDrain Failing)
{
    public double HangingRatio => AllHealthy.Seconds / Hanging.Seconds;
    public double FailingRatio => AllHealthy.Seconds / Failing.Seconds;
}

/// <param name="PeakRssMiB">The server process's peak resident memory (<c>VmHWM</c>), start-up and drain included.</param>
/// <param name="PeakAnonymousMiB">The peak of its anonymous resident memory (<c>RssAnon</c>: heaps, not mapped files), sampled every 50 ms.</param>
/// <param name="IdleRssMiB">Its resident memory just after it answered ready (lanes loading, deliveries starting).</param>
/// <param name="PeakLogMiB">The longest its SQLite log (<c>-wal</c> file) was during the drain, sampled every 50 ms.</param>
/// <param name="Listing">After the drain: the median time of a page of <c>GET /api/v1/messages</c> for each filter.</param>
/// <param name="ConsolePages">After the drain: the median time of each operator console page, signed in as Admin.</param>
public sealed record LargeBacklogResult(
    long Backlog, double WriteSeconds, double StartSeconds, double Seconds, double PeakRssMiB, double PeakAnonymousMiB, double IdleRssMiB,
    double PeakLogMiB, ListingTimes Listing, IReadOnlyList<ConsolePageTime> ConsolePages)
{
    public double Rate => Backlog / Seconds;
}

/// <summary>Median milliseconds of one console page, from the request to the last byte of its answer on loopback.</summary>
public sealed record ConsolePageTime(string Page, double Ms);

/// <summary>Median milliseconds of one page (50 messages) of the message listing, by filter.</summary>
/// <param name="QuietIntegration">An integration whose only message is older than the whole backlog.</param>
/// <param name="QuietClient">That integration's client, which has no other.</param>
/// <param name="BusyIntegration">One of the backlog's integrations: its creation message and its share of the backlog.</param>
/// <param name="BusyIntegrationPending">The same, only its pending messages: after the drain it has none, so all are read.</param>
/// <param name="BusyClient">One of the backlog's clients, with all its integrations' messages.</param>
/// <param name="None">No filter: the newest page.</param>
/// <param name="Failed">Only failed messages, of all clients: the failing integration's, all older than the backlog.</param>
/// <param name="Pending">Only pending messages, of all clients: after the drain there are none.</param>
public sealed record ListingTimes(
    double QuietIntegration, double QuietClient, double BusyIntegration, double BusyIntegrationPending, double BusyClient, double None,
    double Failed, double Pending);

public sealed partial class Scenarios
{
    // ---- 9. Isolation ----------------------------------------------------------------------------------------

    /// <summary>
    /// One backlog (as in scenario 2, <see cref="BenchSettings.IsolationBacklog"/> messages) is drained three times from
    /// copies of the same stopped data folder: every receiver healthy; <see cref="BenchSettings.FaultyClients"/> of the
    /// clients hanging past the delivery time-out; the same clients answering 500. Each drain is timed from server B's
    /// start until the last message of the healthy clients was answered; ratio = all-healthy time ÷ faulty time.
    /// </summary>
    public async Task<IsolationResult> IsolationAsync()
    {
        if (storage != StorageKind.Sqlite)
        {
            throw new InvalidOperationException("Scenario 9 copies a stopped SQLite data folder; it runs on sqlite only.");
        }
        var directory = NewDataDirectory();
        try
        {
            var built = await BuildBacklogAsync(directory, settings.IsolationBacklog).ConfigureAwait(false);
            SqliteConnection.ClearAllPools();
            var faulty = Enumerable.Range(0, settings.FaultyClients).Select(c => $"/c{c}").ToHashSet(StringComparer.Ordinal);
            var (allHealthy, healthy) = await IsolationDrainAsync(built, directory, "none", faulty, null).ConfigureAwait(false);
            Progress($"  {healthy:N0} of {built.Backlog:N0} messages belong to healthy clients");
            var (hanging, _) = await IsolationDrainAsync(built, directory, "hang", faulty, healthy).ConfigureAwait(false);
            var (failing, _) = await IsolationDrainAsync(built, directory, "500", faulty, healthy).ConfigureAwait(false);
            return new IsolationResult((int)built.Backlog, healthy, faulty.Count, allHealthy, hanging, failing);
        }
        finally
        {
            await DeleteDirectoryAsync(directory).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Drains a copy of the stopped data folder with the <paramref name="faulty"/> paths hanging ("hang"), failing ("500")
    /// or healthy ("none"); waits for <paramref name="healthyExpected"/> healthy answers, or (when null) for the whole backlog.
    /// </summary>
    private async Task<(IsolationDrain Drain, long Healthy)> IsolationDrainAsync(
        BuiltBacklog built, string directory, string fault, HashSet<string> faulty, long? healthyExpected)
    {
        var copy = NewDataDirectory();
        try
        {
            CopyDirectory(directory, copy);
            long healthy = 0;
            long faultyRequests = 0;
            long lastHealthy = 0;
            var hang = TimeSpan.FromSeconds(30);
            sink.Clear();
            sink.Respond = async (context, webhook) =>
            {
                if (!faulty.Contains(webhook.Path))
                {
                    Interlocked.Increment(ref healthy);
                    InterlockedMax(ref lastHealthy, Stopwatch.GetTimestamp());
                    return;
                }
                Interlocked.Increment(ref faultyRequests);
                if (fault == "hang")
                {
                    // Past the delivery time-out (5 s): the server gives up first and aborts the request.
                    try
                    {
                        await Task.Delay(hang, context.RequestAborted).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
                else if (fault == "500")
                {
                    context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                }
            };
            Progress($"  drain with {faulty.Count} clients' endpoints: {fault}");
            var started = Stopwatch.GetTimestamp();
            var b = await Deployment.ReopenAsync(built.Stopped, copy).ConfigureAwait(false);
            try
            {
                if (healthyExpected is { } expected)
                {
                    await WaitForAsync(() => Interlocked.Read(ref healthy), expected, "healthy deliveries").ConfigureAwait(false);
                }
                else
                {
                    await WaitForSinkAsync(built.Backlog, "backlog deliveries").ConfigureAwait(false);
                }
                // Until the healthy clients' last answer: in the all-healthy drain the other clients' messages may finish later.
                var seconds = Clock.Seconds(started, Interlocked.Read(ref lastHealthy));
                return (new IsolationDrain(fault, seconds, Interlocked.Read(ref faultyRequests)), Interlocked.Read(ref healthy));
            }
            finally
            {
                sink.Respond = null;
                await b.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            await DeleteDirectoryAsync(copy).ConfigureAwait(false);
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long seen;
        while (value > (seen = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    // ---- 10. A large backlog ---------------------------------------------------------------------------------

    /// <summary>
    /// <see cref="BenchSettings.LargeBacklog"/> pending messages over the 1,000 lanes, written straight into the SQLite file
    /// through the store (the statements the server uses, 50,000 per transaction) after server A created the clients and
    /// integrations (once per bench; each run starts from a copy). The server then starts as its own OS process on that
    /// folder; timed from its start until the sink has answered every message; its peak resident memory is read from <c>/proc</c>.
    /// </summary>
    public async Task<LargeBacklogResult> LargeBacklogAsync()
    {
        if (storage != StorageKind.Sqlite)
        {
            throw new InvalidOperationException("Scenario 10 writes the backlog into a SQLite file; it runs on sqlite only.");
        }
        // Written once per bench (a minute for 1,000,000 rows), then copied for each run.
        if (_largeBacklogTemplate is null || _largeBacklogTemplate.Messages != settings.LargeBacklog)
        {
            await DeleteLargeBacklogTemplateAsync().ConfigureAwait(false);
            var template = NewDataDirectory();
            _largeBacklogTemplate = await WriteLargeBacklogAsync(template).ConfigureAwait(false);
        }
        var directory = NewDataDirectory();
        try
        {
            CopyDirectory(_largeBacklogTemplate.Directory, directory);
            sink.Respond = null;
            sink.Record = false;
            sink.Clear();
            var started = Stopwatch.GetTimestamp();
            await using var server = await ServerProcess.StartAsync(directory, ServerProcess.FreePort()).ConfigureAwait(false);
            var ready = Stopwatch.GetTimestamp();
            long done;
            var idleRss = ReadStatusMiB(server.ProcessId, "VmRSS");
            // VmHWM is the peak of all resident pages; RssAnon, sampled, is the process's own memory (heap), without mapped files.
            var anonymous = new PeakSampler(() => ReadStatusMiB(server.ProcessId, "RssAnon"));
            var log = PeakSampler.SqliteLog(Path.Combine(directory, "connector-events.db"));
            await using (anonymous.ConfigureAwait(false))
            await using (log.ConfigureAwait(false))
            {
                done = await WaitForSinkAsync(settings.LargeBacklog, "backlog deliveries").ConfigureAwait(false);
            }
            var peak = ReadStatusMiB(server.ProcessId, "VmHWM");
            var listing = await TimeListingAsync(server, _largeBacklogTemplate).ConfigureAwait(false);
            var console = await TimeConsoleAsync(server, _largeBacklogTemplate).ConfigureAwait(false);
            await server.StopAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            return new LargeBacklogResult(settings.LargeBacklog, _largeBacklogTemplate.WriteSeconds, Clock.Seconds(started, ready),
                Clock.Seconds(started, done), peak, anonymous.Peak, idleRss, log.Peak, listing, console);
        }
        finally
        {
            await DeleteDirectoryAsync(directory).ConfigureAwait(false);
        }
    }

    /// <summary>Each filter's page, asked 21 times after a first ask that warms it up; the median of the 21.</summary>
    private static async Task<ListingTimes> TimeListingAsync(ServerProcess server, LargeBacklogTemplate template)
    {
        using var api = server.CreateApiClient();
        Task<double> MedianAsync(string query) => MedianPageMsAsync(() => api.GetAsync("/api/v1/messages?limit=50" + query), query);
        return new ListingTimes(
            await MedianAsync($"&integrationId={template.QuietIntegrationId}").ConfigureAwait(false),
            await MedianAsync($"&clientId={template.QuietClientId}").ConfigureAwait(false),
            await MedianAsync($"&integrationId={template.BusyIntegrationId}").ConfigureAwait(false),
            await MedianAsync($"&integrationId={template.BusyIntegrationId}&status=Pending").ConfigureAwait(false),
            await MedianAsync($"&clientId={template.BusyClientId}").ConfigureAwait(false),
            await MedianAsync("").ConfigureAwait(false),
            await MedianAsync("&status=Failed").ConfigureAwait(false),
            await MedianAsync("&status=Pending").ConfigureAwait(false));
    }

    /// <summary>
    /// Every console page, signed in with the admin key: each asked 21 times after a first ask that warms it up; the median of
    /// the 21. The messages page also with its filters: a status, a busy client and a channel, and a window that ends before
    /// the backlog (all 1,000,000 newer messages passed over).
    /// </summary>
    private static async Task<IReadOnlyList<ConsolePageTime>> TimeConsoleAsync(ServerProcess server, LargeBacklogTemplate template)
    {
        using var console = new ConsoleSessionClient(server.BaseUri);
        using (var page = await console.GetAsync("/console/sign-in").ConfigureAwait(false))
        {
            if (page.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return []; // Console:Enabled=false (CE_SERVER_ENV_Console__Enabled=false): the drain without it, to compare
            }
        }
        using (var signedIn = await console.SignInAsync(RunningServer.AdminKey).ConfigureAwait(false))
        {
            if (signedIn.StatusCode != System.Net.HttpStatusCode.Found)
            {
                throw new InvalidOperationException($"The console refused the sign-in: {signedIn.StatusCode}.");
            }
        }
        using var api = server.CreateApiClient();
        var newest = System.Text.Json.Nodes.JsonNode.Parse(await api.GetStringAsync(new Uri("/api/v1/messages?limit=1", UriKind.Relative)).ConfigureAwait(false))!;
        var before = template.BacklogWrittenUtc.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        var pages = new (string Name, string Path)[]
        {
            ("Overview", "/console"),
            ("Overview, its live part", "/console?handler=live"),
            ("Clients", "/console/clients"),
            ("A busy client", $"/console/clients/{template.BusyClientId}"),
            ("Integrations", "/console/integrations"),
            ("Integrations of a busy client", $"/console/integrations?client={template.BusyClientId}"),
            ("A busy integration", $"/console/integrations/{template.BusyIntegrationId}"),
            ("Messages", "/console/messages"),
            ("Messages, Failed", "/console/messages?status=Failed"),
            ("Messages of a busy client, Integration channel", $"/console/messages?client={template.BusyClientId}&channel=Integration"),
            ("Messages created before the backlog", $"/console/messages?until={before}"),
            ("A message", $"/console/messages/{newest["Messages"]![0]!["Id"]}"),
            ("Live", "/console/live"),
            ("Cluster", "/console/cluster"),
        };
        var times = new List<ConsolePageTime>();
        foreach (var (name, path) in pages)
        {
            times.Add(new ConsolePageTime(name, await MedianPageMsAsync(() => console.GetAsync(path), path).ConfigureAwait(false)));
        }
        return times;
    }

    /// <summary>A page asked 22 times, the first to warm it up; the median milliseconds of the other 21, each to its last byte.</summary>
    private static async Task<double> MedianPageMsAsync(Func<Task<HttpResponseMessage>> get, string what)
    {
        var samples = new List<double>();
        for (var i = 0; i <= 21; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await get().ConfigureAwait(false);
            if (response.StatusCode != System.Net.HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"{what} answered {response.StatusCode}.");
            }
            await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            if (i > 0)
            {
                samples.Add(Clock.Seconds(started, Stopwatch.GetTimestamp()) * 1000);
            }
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }

    private sealed record LargeBacklogTemplate(string Directory, int Messages, double WriteSeconds,
        Guid QuietIntegrationId, Guid QuietClientId, Guid BusyIntegrationId, Guid BusyClientId, DateTimeOffset BacklogWrittenUtc);

    /// <summary>Failed messages written before the backlog: more than the SQLite listing reads and sorts for a filter.</summary>
    public const int OldFailedMessages = 2_000;

    private static LargeBacklogTemplate? _largeBacklogTemplate;

    public static async Task DeleteLargeBacklogTemplateAsync()
    {
        if (_largeBacklogTemplate is { } template)
        {
            _largeBacklogTemplate = null;
            await DeleteDirectoryAsync(template.Directory).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Server A creates the clients and integrations, and one more client without a URL with one integration (the quiet
    /// one, for the listing), and one more without a URL whose integration's messages all failed; and stops. Those failed
    /// messages and then the backlog go into its file.
    /// </summary>
    private async Task<LargeBacklogTemplate> WriteLargeBacklogAsync(string directory)
    {
        sink.Respond = null;
        sink.Record = false;
        sink.Clear();
        var a = await Deployment.CreateAsync(settings, sink, storage, directory).ConfigureAwait(false);
        Guid quietIntegration, quietClient, failingIntegration, failingClient;
        try
        {
            await WaitForSinkAsync(settings.Integrations, "IntegrationCreated deliveries").ConfigureAwait(false);
            (var enterprise, quietClient, _) = await a.Server.SeedAsync(null, "Quiet").ConfigureAwait(false);
            quietIntegration = await a.Server.CreateIntegrationAsync(enterprise, quietClient).ConfigureAwait(false);
            (enterprise, failingClient, _) = await a.Server.SeedAsync(null, "Failing").ConfigureAwait(false);
            failingIntegration = await a.Server.CreateIntegrationAsync(enterprise, failingClient).ConfigureAwait(false);
        }
        finally
        {
            await a.DisposeAsync().ConfigureAwait(false);
        }
        SqliteConnection.ClearAllPools();
        Progress($"  writing {settings.LargeBacklog:N0} pending messages into the store (once per bench)");
        var writing = Stopwatch.GetTimestamp();
        var writtenUtc = DateTimeOffset.UtcNow;
        WriteBacklog(Path.Combine(directory, "connector-events.db"), a, settings.LargeBacklog, settings.IntegrationsPerClient,
            (failingClient, failingIntegration));
        SqliteConnection.ClearAllPools();
        return new LargeBacklogTemplate(directory, settings.LargeBacklog, Clock.Seconds(writing, Stopwatch.GetTimestamp()),
            quietIntegration, quietClient, a.IntegrationIds[0], a.ClientIds[0], writtenUtc);
    }

    private static void WriteBacklog(string databasePath, Deployment deployment, int messages, int integrationsPerClient,
        (Guid Client, Guid Integration) failing)
    {
        var body = SampleBody();
        var now = DateTimeOffset.UtcNow;
        using var store = new SqliteConnectorStore(databasePath, TestSecrets.Protector());
        using (var transaction = store.BeginWrite())
        {
            var settledThrough = 0L;
            for (var n = 0; n < OldFailedMessages; n++)
            {
                (var seq, settledThrough) = transaction.InsertMessage(new MessageRecord(0, MessageIds.New(), WebhookChannel.Integration,
                    failing.Client, failing.Integration, IntegrationActions.Created, body, MessageStatus.Pending, null, 0, 0, null, now, null));
                transaction.UpdateProgress(new MessageProgress(seq, MessageStatus.Failed, "Given up after 8 attempts.", 8, null, now));
            }
            // As the dispatcher would have, once it gave them up.
            transaction.SettleLane(new DeliveryLane(failing.Integration, WebhookChannel.Integration), settledThrough);
            transaction.Commit();
        }
        const int PerTransaction = 50_000;
        for (var written = 0; written < messages;)
        {
            using var transaction = store.BeginWrite();
            for (var n = 0; n < PerTransaction && written < messages; n++, written++)
            {
                var lane = written % deployment.IntegrationIds.Length;
                transaction.InsertMessage(new MessageRecord(0, MessageIds.New(), WebhookChannel.Integration,
                    deployment.ClientIds[lane / integrationsPerClient], deployment.IntegrationIds[lane], IntegrationActions.Created, body,
                    MessageStatus.Pending, null, 0, 0, null, now, null));
            }
            transaction.Commit();
        }
    }

    /// <summary>A <c>/proc/{pid}/status</c> memory line (kB) in MiB.</summary>
    private static double ReadStatusMiB(int processId, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{processId}/status"))
        {
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
            {
                var kb = long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kb / 1024.0;
            }
        }
        throw new InvalidOperationException($"/proc/{processId}/status has no {key} line.");
    }
}
