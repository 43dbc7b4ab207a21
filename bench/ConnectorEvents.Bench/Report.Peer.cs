using System.Globalization;
using System.Text;

namespace ConnectorEvents.Bench;

public static partial class Report
{
    /// <summary>Scenario 8: the Hangfire peer beside our figures of the same runs.</summary>
    public static string WritePeer(BenchSettings settings, IReadOnlyList<StorageRuns> sets, IReadOnlyList<PeerRun> peers)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(sets);
        ArgumentNullException.ThrowIfNull(peers);
        var s = new StringBuilder();
        var sqlite = sets.FirstOrDefault(x => x.Storage == StorageKind.Sqlite);
        var postgres = sets.FirstOrDefault(x => x.Storage == StorageKind.Postgres);

        // Ours of the same run as the peer figure; ratios are taken per run, then the median, as for the ceiling.
        static RunResult? Ours(StorageRuns? set, int run) => set?.Runs.FirstOrDefault(r => r.Number == run);
        static string Times(double? value) => value is { } v ? v.ToString(v < 1 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + "×" : "n/a";
        void Row(string measurement, string unit, Func<PeerStorageResult, double> peer, Func<RunResult, int, double?> ours, bool lowerIsBetter)
        {
            string Cells(Func<PeerRun, PeerStorageResult?> pick, StorageRuns? set)
            {
                var hangfire = Median(peers.Select(p => pick(p) is { } r ? peer(r) : (double?)null));
                var rate = set is null ? 0 : settings.PeerLatencyRate(set.Storage);
                var mine = unit == "/s" ? rate : Median(peers.Select(p => Ours(set, p.Number) is { } r ? ours(r, rate) : null));
                var ratio = Median(peers.Select(p => pick(p) is { } r && Ours(set, p.Number) is { } o && ours(o, rate) is { } m
                    ? (lowerIsBetter ? peer(r) / m : m / peer(r)) : (double?)null));
                string Format(double? v) => unit == "ms" ? Ms(v) : v is null ? "n/a" : unit == "/s" ? $"{Rate(v)}/s" : $"{Rate(v)} {unit}";
                return $"{Format(hangfire)} | {Format(mine)} | {(unit == "/s" ? "" : Times(ratio))}";
            }
            s.AppendLine($"| {measurement} | {Cells(p => p.InMemory, sqlite)} | {Cells(p => p.Postgres, postgres)} |");
        }

        s.AppendLine("## Peer: Hangfire, one HttpClient job per webhook");
        s.AppendLine();
        s.AppendLine("What a .NET team would otherwise build: a Hangfire job per webhook that POSTs it. Each cell: the median of the runs; "
            + "the ratio is the median of the per-run ratios (Hangfire and ours from the same run). Throughput ratios are "
            + "**ours ÷ Hangfire**, latency ratios **Hangfire ÷ ours**, so above 1× ours is better in both.");
        s.AppendLine();
        s.AppendLine("| measurement | Hangfire.InMemory (not durable) | ours, sqlite | ratio | Hangfire.PostgreSql | ours, postgres | ratio |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        s.AppendLine($"| sizes: Hangfire jobs per drain and per sustained run / ours: backlog, sustained commands | {settings.PeerInMemoryJobs:N0} "
            + $"| {PeerSizes(sqlite)} | | {settings.PeerPostgresJobs:N0} | {PeerSizes(postgres)} | |");
        Row("8a / 2. Backlog drain", "deliveries/s", r => r.Drain.Rate, (r, _) => r.Drain?.Rate, lowerIsBetter: false);
        Row($"8b / 3. Sustained, {settings.ApiCallers} enqueuers / API callers", "deliveries/s", r => r.Sustained.Rate, (r, _) => r.Sustained?.Rate, lowerIsBetter: false);
        Row("8c / 4. Steady rate of the latency measurement", "/s", r => r.Latency.Rate, (_, _) => null, lowerIsBetter: false);
        Row("8c / 4. Latency enqueue / command → POST at that rate, p50", "ms", r => r.Latency.FromEnqueue.P50, (r, rate) => r.LatencyAt(rate)?.FromSend.P50, lowerIsBetter: true);
        Row("8c / 4. … p99", "ms", r => r.Latency.FromEnqueue.P99, (r, rate) => r.LatencyAt(rate)?.FromSend.P99, lowerIsBetter: true);
        var defaults = peers.Select(p => p.InMemory?.DefaultWorkers ?? p.Postgres?.DefaultWorkers).FirstOrDefault(w => w is not null);
        Row($"8d / 4. The same with Hangfire's default {defaults} workers, p50", "ms", r => r.DefaultWorkersLatency.FromEnqueue.P50, (r, rate) => r.LatencyAt(rate)?.FromSend.P50, lowerIsBetter: true);
        Row("8d / 4. … p99", "ms", r => r.DefaultWorkersLatency.FromEnqueue.P99, (r, rate) => r.LatencyAt(rate)?.FromSend.P99, lowerIsBetter: true);
        s.AppendLine();
        if (sqlite is null || postgres is null)
        {
            s.AppendLine("*Ours* is n/a for a storage configuration that was not in `--storage`, or a scenario not in `--only`.");
            s.AppendLine();
        }

        s.AppendLine("### Method");
        s.AppendLine();
        s.AppendLine(($"Hangfire.Core 1.8.25 in the bench process, against the same sink, after our scenarios of the run (never beside our server). "
            + $"The job, `PeerWebhookJob.PostAsync(client, messageId, payload)`, carries the same {Scenarios.SampleBody().Length}-byte "
            + "`IntegrationCreated` body as a job argument (so the storage holds it, as ours does), POSTs it to the sink's client path "
            + $"`/c{{client}}?Token=…` ({settings.Clients} clients, round-robin) with `Content-Type` and the Standard Webhooks headers "
            + "`webhook-id`, `webhook-timestamp` and `webhook-signature` (HMAC-SHA256 computed in the job, one key per client), through one "
            + "shared `HttpClient` (the ceiling's `SocketsHttpHandler` settings, 30 s time-out), and throws on a non-2xx answer so that "
            + $"Hangfire's default automatic retry takes the job again. `BackgroundJobServer` with **{settings.PeerWorkers} workers** "
            + "(the ceiling's concurrency; both storages took it, though on PostgreSQL that many workers contend for the queue "
            + "and lengthen its latency, hence 8d), the default queue, a job activator that hands out the one job "
            + "instance. Jobs are enqueued with `BackgroundJobClient.Enqueue`, from "
            + $"{settings.ApiCallers} dedicated threads (the client is synchronous)."));
        s.AppendLine();
        s.AppendLine(("- **Storages.** *Hangfire.PostgreSql* 1.21.1 on a fresh database of the bench's PostgreSQL cluster (the same durable "
            + "cluster as ours: `fsync=on`, `synchronous_commit=on`), schema prepared by the storage, `EnableLongPolling=true` "
            + "(LISTEN/NOTIFY wakes idle workers on an enqueue) with a 1 s `QueuePollInterval` as fallback (the default is 15 s), "
            + "Npgsql pool of 200 connections; compared with our `postgres`. *Hangfire.InMemory* 1.0.0 with its default options: "
            + "nothing is durable, so it is the upper bound of Hangfire itself; set beside our `sqlite`, which is durable (fsync)."));
        s.AppendLine(("- **Warm-up.** On each storage, a server delivers a tenth of the job count (at most 500) first, untimed, and is stopped."));
        s.AppendLine(("- **8a Backlog drain.** The jobs are enqueued with no server running; then a fresh `BackgroundJobServer` starts; timed "
            + "from its constructor until the sink has answered every job → deliveries/s (compare our scenario 2)."));
        s.AppendLine(($"- **8b Sustained.** On that running server, {settings.ApiCallers} enqueuers enqueue as fast as they can; timed from the "
            + "first enqueue until the sink has answered every job → deliveries/s (compare our scenario 3, where each command is an "
            + "HTTP call to our API; here an enqueue is an in-process call, which flatters Hangfire)."));
        s.AppendLine(($"- **8c Latency.** On that server an open-loop pacer enqueues job k at start + k/rate for "
            + $"{settings.PeerLatencyDuration.TotalSeconds:0} s, each on the thread pool, never waiting; at {settings.PeerLatencyRate(StorageKind.Sqlite):N0}/s beside "
            + $"sqlite and {settings.PeerLatencyRate(StorageKind.Postgres):N0}/s beside postgres (ours: scenario 4 at the same load), unless that is more than half the "
            + "sustained delivery rate just measured (8b): above what the storage delivers its queue grows for as long as the pacer runs, "
            + "and the latency would only say how long that was; then Hangfire runs at half its 8b rate (the rate row shows which) while "
            + "ours keeps the full load, a comparison that favours Hangfire. Hangfire's client is synchronous, so the pacer hands each "
            + $"due job to {settings.ApiCallers} dedicated enqueuer threads; each job is stamped just before its `Enqueue`, the sink stamps "
            + "the arrival, matched by `webhook-id`. Latency = arrival − enqueue (compare scenario 4's command → POST); below also "
            + "arrival − scheduled time, which adds any wait for a free enqueuer."));
        s.AppendLine(("- **8d Latency, default workers.** The server of 8a–8c stops; one with Hangfire's default worker count "
            + "(min(5 × cores, 20)) starts on the same storage, and 8c is repeated at the same rate: what a team that left "
            + "`WorkerCount` alone would see."));
        s.AppendLine();
        s.AppendLine("### Peer: all runs");
        s.AppendLine();
        s.AppendLine("| run | storage | workers | drain: jobs (enqueued/s) | server start | seconds | deliveries/s | sustained: jobs (enqueued/s) "
            + "| seconds | deliveries/s | latency: jobs at rate (ours) | matched | achieved | p50 | p90 | p99 | max | p50 / p99 from schedule | pacer lateness p99 | default workers: p50 / p99 / max |");
        s.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var run in peers)
        {
            foreach (var (name, r) in new[] { ("Hangfire.InMemory", run.InMemory), ("Hangfire.PostgreSql", run.Postgres) })
            {
                s.AppendLine(r is null
                    ? $"| {run.Number} | {name} | failed | | | | | | | | | | | | | | | | | |"
                    : ($"| {run.Number} | {name} | {r.Workers} | {r.Drain.Jobs:N0} ({r.Drain.EnqueueRate:N0}/s) | {r.StartSeconds * 1000:N0} ms "
                        + $"| {r.Drain.Seconds:0.00} | {r.Drain.Rate:N0} | {r.Sustained.Jobs:N0} ({r.Sustained.EnqueueRate:N0}/s) "
                        + $"| {r.Sustained.Seconds:0.00} | {r.Sustained.Rate:N0} | {r.Latency.Scheduled:N0} at {r.Latency.Rate:N0}/s ({r.Latency.OurRate:N0}/s) "
                        + $"| {r.Latency.Matched:N0} | {r.Latency.AchievedRate:N0}/s | {r.Latency.FromEnqueue.P50:0.00} | {r.Latency.FromEnqueue.P90:0.00} "
                        + $"| {r.Latency.FromEnqueue.P99:0.00} | {r.Latency.FromEnqueue.Max:0.0} "
                        + $"| {r.Latency.FromSchedule.P50:0.00} / {r.Latency.FromSchedule.P99:0.00} | {r.Latency.PacerLag.P99:0.00} "
                        + $"| {r.DefaultWorkers}: {r.DefaultWorkersLatency.FromEnqueue.P50:0.00} / {r.DefaultWorkersLatency.FromEnqueue.P99:0.00} / {r.DefaultWorkersLatency.FromEnqueue.Max:0.0} |"));
            }
        }
        var errors = peers.SelectMany(p => p.Errors.Select(e => $"run {p.Number}: {e}")).ToList();
        if (errors.Count > 0)
        {
            s.AppendLine();
            s.AppendLine("**Failures (peer):**");
            s.AppendLine();
            foreach (var error in errors)
            {
                s.AppendLine($"- {error.ReplaceLineEndings(" ")}");
            }
        }
        return s.ToString().TrimEnd() + Environment.NewLine;
    }

    private static string PeerSizes(StorageRuns? set) => set is null ? "n/a"
        : string.Create(CultureInfo.InvariantCulture, $"{set.Settings.BacklogMessages:N0} / {set.Settings.SustainedCommands:N0}");
}
