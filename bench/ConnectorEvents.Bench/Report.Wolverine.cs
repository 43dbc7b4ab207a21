using System.Globalization;
using System.Text;

namespace ConnectorEvents.Bench;

public static partial class Report
{
    /// <summary>The target of ours ÷ Wolverine on drain and sustained throughput (postgres, same run).</summary>
    public const double WolverineTarget = 3.0;

    /// <summary>Scenario 8 on Wolverine: its figures beside ours on postgres (scenarios 2, 3 and 4 of the same runs).</summary>
    public static string WriteWolverinePeer(BenchSettings settings, IReadOnlyList<StorageRuns> sets, IReadOnlyList<PeerRun> peers)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(sets);
        ArgumentNullException.ThrowIfNull(peers);
        var s = new StringBuilder();
        var postgres = sets.FirstOrDefault(x => x.Storage == StorageKind.Postgres);
        var rate = settings.LatencyRate; // scenario 4's target load, at which Wolverine's latency is measured too
        RunResult? Ours(int run) => postgres?.Runs.FirstOrDefault(r => r.Number == run);
        static string Times(double? value) => value is { } v ? v.ToString(v < 1 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + "×" : "n/a";

        // As for Hangfire: each cell the median of the runs, the ratio the median of the per-run ratios.
        void Row(string measurement, string unit, Func<WolverineResult, double?> peer, Func<RunResult, double?> ours, bool lowerIsBetter, string target)
        {
            var wolverine = Median(peers.Select(p => p.Wolverine is { } r ? peer(r) : null));
            var mine = Median(peers.Select(p => Ours(p.Number) is { } o ? ours(o) : null));
            var ratio = Median(peers.Select(p => p.Wolverine is { } r && peer(r) is { } w && Ours(p.Number) is { } o && ours(o) is { } m
                ? (lowerIsBetter ? w / m : m / w) : (double?)null));
            string Format(double? v) => unit == "ms" ? Ms(v) : v is null ? "n/a" : $"{Rate(v)} {unit}";
            var verdict = target.Length == 0 ? "" : $"{target}: {Verdict(ratio, r => r >= WolverineTarget)}";
            s.AppendLine($"| {measurement} | {Format(wolverine)} | {Format(mine)} | {Times(ratio)} | {verdict} |");
        }

        s.AppendLine("## Peer: Wolverine, durable outbox on PostgreSQL");
        s.AppendLine();
        s.AppendLine("The .NET durable outbox a team would pick today: Wolverine's PostgreSQL message store, a durable local queue, a handler "
            + "that POSTs the signed webhook, and an HTTP endpoint that commits a business row and the message in one transaction. "
            + "Each cell: the median of the runs; the ratio is the median of the per-run ratios (Wolverine and ours from the same run). "
            + "Throughput ratios are **ours ÷ Wolverine**, latency ratios **Wolverine ÷ ours**, so above 1× ours is better in both.");
        s.AppendLine();
        s.AppendLine("| measurement | Wolverine (PostgreSQL) | ours, postgres | ratio | target |");
        s.AppendLine("|---|---:|---:|---:|---|");
        s.AppendLine($"| sizes: Wolverine messages per drain and per sustained run / ours: backlog, sustained commands "
            + $"| {settings.WolverineJobs:N0} | {PeerSizes(postgres)} | | |");
        Row("8a / 2. Backlog drain", "deliveries/s", r => r.Drain?.Rate, r => r.Drain?.Rate, lowerIsBetter: false, $"≥ {WolverineTarget:0}×");
        Row($"8b / 3. Sustained, {settings.ApiCallers} HTTP callers", "deliveries/s", r => r.Sustained.Rate, r => r.Sustained?.Rate, lowerIsBetter: false, $"≥ {WolverineTarget:0}×");
        Row("8b / 3. … the API's own rate (calls answered/s)", "/s", r => r.Sustained.EnqueueRate, r => r.Sustained?.ApiRate, lowerIsBetter: false, "");
        s.AppendLine($"| 8c / 4. Steady rate of the latency measurement | {Rate(Median(peers.Select(p => (double?)p.Wolverine?.Latency.Rate)))}/s | {rate:N0}/s | | |");
        Row("8c / 4. Latency HTTP call → POST at that rate, p50", "ms", r => r.Latency.FromEnqueue.P50, r => r.LatencyAt(rate)?.FromSend.P50, lowerIsBetter: true, "");
        Row("8c / 4. … p99", "ms", r => r.Latency.FromEnqueue.P99, r => r.LatencyAt(rate)?.FromSend.P99, lowerIsBetter: true, "");
        s.AppendLine();
        if (postgres is null || postgres.Runs.All(r => r.Drain is null && r.Sustained is null))
        {
            s.AppendLine("*Ours* is n/a when `postgres` was not in `--storage` or scenarios 2–4 were not in `--only`.");
            s.AppendLine();
        }

        s.AppendLine("### Method (Wolverine)");
        s.AppendLine();
        s.AppendLine(("WolverineFx and WolverineFx.Postgresql 6.64.2 (with WolverineFx.RuntimeCompilation, which Wolverine 6 needs to generate "
            + "its handler adapter at run time) in the bench process, after our scenarios and Hangfire, against the same sink, on a fresh "
            + "database of the same durable PostgreSQL cluster (`fsync=on`). One `WebApplication` (Kestrel on a free 127.0.0.1 port) with "
            + "`UseWolverine`: `PersistMessagesWithPostgresql` (schema `wolverine`, created at start), `DurabilityMode.Solo` (one node), "
            + $"the message routed to a local queue with `UseDurableInbox()` and `MaximumParallelMessages({settings.PeerWorkers})` (Hangfire's "
            + "worker count; Wolverine's default is the core count), the inbox recovery poll (`ScheduledJobPollingTime`) at 1 s as "
            + "Hangfire's queue poll (default 5 s), log level Warning. The handler calls the same `PeerWebhookJob.PostAsync` as Hangfire "
            + $"(same {Scenarios.SampleBody().Length}-byte body carried in the message, same client URLs, Standard Webhooks HMAC, one shared "
            + "`HttpClient`) and throws on a non-2xx answer; `HttpRequestException` is retried after 50 ms, 250 ms, 1 s, then every 5 s."));
        s.AppendLine();
        s.AppendLine(("- **The endpoint** `POST /orders?id=…&client=…` (minimal API): opens an `NpgsqlConnection` from an `NpgsqlDataSource` "
            + "(pool 200) and a transaction, enlists Wolverine's outbox in it (`new MessageContext(runtime).EnlistInOutboxAsync(new "
            + "DatabaseEnvelopeTransaction(store, transaction))`), INSERTs a row into its own `bench_orders` table, `SendAsync`s the "
            + "message (written to the inbox table in that transaction), commits, then `FlushOutgoingMessagesAsync` (hands it to the "
            + "local queue), and answers 202."));
        s.AppendLine("- **Warm-up.** A tenth of the message count (at most 500) through the endpoint, untimed (JIT, Roslyn code generation, pools).");
        s.AppendLine(("- **8a Backlog drain**, as scenario 2 does it for ours: host A (warmed up) pauses the local queue's listener "
            + "(`IWolverineRuntime.Endpoints.FindListenerCircuit(local://webhooks).PauseAsync`), the backlog is sent through its endpoint "
            + "(persisted in the inbox, not handled), and host A stops. Host B starts on the same database; in solo mode its durability "
            + "agent takes up the inbox at start. *Host start* is B's; the rate counts what was delivered after B's start over the "
            + "time from B's start to the last delivery (ours: server B's start to its last). B's handler code is generated (Roslyn) "
            + "at its first message, inside that time, as JIT is in ours. A drain that stops moving for 30 s is reported as failed, "
            + "with the inbox's rows by status and owner, and its ratio is n/a."));
        s.AppendLine(($"- **8b Sustained.** {settings.ApiCallers} HTTP callers post to the endpoint as fast as they can; timed from the first call "
            + "until the sink has every message (compare scenario 3, where each command is also an HTTP call with a durable write)."));
        s.AppendLine(($"- **8c Latency.** An open-loop pacer posts call k at start + k/rate for {settings.PeerLatencyDuration.TotalSeconds:0} s "
            + $"on the thread pool, never waiting, at {rate:N0}/s (ours: scenario 4 at the same load) or half the 8b rate if that is lower; "
            + "stamped before the HTTP call, matched to the sink's arrival by `webhook-id`."));
        s.AppendLine();
        s.AppendLine("### Peer Wolverine: all runs");
        s.AppendLine();
        s.AppendLine("| run | handlers | host start | drain: messages (called/s) | seconds | deliveries/s | sustained: messages (answered/s) | seconds "
            + "| deliveries/s | latency: messages at rate (ours) | matched | achieved | p50 | p90 | p99 | max |");
        s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var run in peers)
        {
            if (run.Wolverine is not { } r)
            {
                s.AppendLine($"| {run.Number} | failed | | | | | | | | | | | | | | |");
                continue;
            }
            var drain = r.Drain is { } d
                ? $"{d.Jobs:N0} ({d.EnqueueRate:N0}/s) | {d.Seconds:0.00} | {d.Rate:N0}"
                : "failed (below) | | n/a";
            s.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {run.Number} | {r.Workers} | {r.StartSeconds * 1000:N0} ms | {drain} | {r.Sustained.Jobs:N0} ({r.Sustained.EnqueueRate:N0}/s) "
                + $"| {r.Sustained.Seconds:0.00} | {r.Sustained.Rate:N0} | {r.Latency.Scheduled:N0} at {r.Latency.Rate:N0}/s ({r.Latency.OurRate:N0}/s) "
                + $"| {r.Latency.Matched:N0} | {r.Latency.AchievedRate:N0}/s | {r.Latency.FromEnqueue.P50:0.00} | {r.Latency.FromEnqueue.P90:0.00} "
                + $"| {r.Latency.FromEnqueue.P99:0.00} | {r.Latency.FromEnqueue.Max:0.0} |"));
        }
        var failures = peers.Where(p => p.Wolverine?.DrainFailure is not null).ToList();
        if (failures.Count > 0)
        {
            s.AppendLine();
            s.AppendLine("**Wolverine drain failures:**");
            s.AppendLine();
            foreach (var run in failures)
            {
                s.AppendLine($"- run {run.Number}: {run.Wolverine!.DrainFailure!.ReplaceLineEndings(" ")}");
            }
        }
        return s.ToString().TrimEnd() + Environment.NewLine;
    }
}
