using System.Globalization;
using System.Text;

namespace ConnectorEvents.Bench;

/// <summary>The figures of one run: each scenario once, in order.</summary>
public sealed class RunResult(int number)
{
    public int Number { get; } = number;
    public CeilingResult? Ceiling { get; set; }

    /// <summary>The server's sender in the ceiling's loops, with no storage: the bound on any drain.</summary>
    public CeilingResult? SenderAlone { get; set; }

    /// <summary>A command answered and its webhook sent, with nothing between: the bound on the sustained rate.</summary>
    public CeilingResult? RelayAlone { get; set; }
    public DrainResult? Drain { get; set; }
    public SustainedResult? Sustained { get; set; }
    public IReadOnlyList<LatencyResult>? Latencies { get; set; }
    public IngestResult? Ingest { get; set; }
    public IReadOnlyList<GeneralLatencyResult>? GeneralLatencies { get; set; }
    public IsolationResult? Isolation { get; set; }
    public LargeBacklogResult? LargeBacklog { get; set; }
    public WebSocketLatencyResult? WebSocketLatency { get; set; }
    public TelemetryCostResult? TelemetryCost { get; set; }
    public RetentionResult? Retention { get; set; }
    public ReadinessFloodResult? ReadinessFlood { get; set; }
    public List<string> Errors { get; } = [];

    public double? SenderAloneRatio => Ratio(SenderAlone?.Rate);
    public double? RelayAloneRatio => Ratio(RelayAlone?.Rate);
    public double? DrainRatio => Ratio(Drain?.Rate);
    public double? SustainedRatio => Ratio(Sustained?.Rate);
    public double? LargeBacklogRatio => Ratio(LargeBacklog?.Rate);

    public LatencyResult? LatencyAt(int rate) => Latencies?.FirstOrDefault(l => l.Rate == rate);

    public GeneralLatencyResult? GeneralLatencyAt(int rate) => GeneralLatencies?.FirstOrDefault(l => l.Rate == rate);

    /// <summary>CPU per raw post ÷ CPU per event: the ratio the scenario would reach with the ceiling's CPU to itself.</summary>
    public double? DrainCpuRatio => CpuRatio(Drain?.CpuMicrosecondsEach);
    public double? SustainedCpuRatio => CpuRatio(Sustained?.CpuMicrosecondsEach);

    private double? CpuRatio(double? each) => each is { } e && Ceiling is { } c ? c.CpuMicrosecondsEach / e : null;

    private double? Ratio(double? rate) => rate is { } r && Ceiling is { } c ? r / c.Rate : null;
}

/// <summary>The runs of one storage configuration, with the sizes it used.</summary>
public sealed record StorageRuns(StorageKind Storage, BenchSettings Settings, List<RunResult> Runs)
{
    public string Name => BenchSettings.Name(Storage);

    /// <summary>CPU figures cover the whole work only when everything but PostgreSQL runs in this process.</summary>
    public bool CpuMeaningful => Storage != StorageKind.Postgres2;
}

/// <summary>The Markdown report: header, summary against the targets, method, every run.</summary>
public static partial class Report
{
    private const double DrainTarget = 0.60;
    private const double SustainedTarget = 0.40;
    private const double P50TargetMs = 5;
    private const double P99TargetMs = 50;
    private const double IngestTarget = 20_000;
    private const double WebSocketP99TargetMs = 10;

    /// <summary>The offered load the latency targets are read at (issue 2: "at a steady 1,000 events/s").</summary>
    private const int TargetRate = 1_000;

    /// <param name="charts">PNG files beside the report (paths relative to it) with their captions.</param>
    public static string Write(BenchSettings settings, MachineInfo machine, IReadOnlyList<StorageRuns> sets, TimeSpan wallTime,
        IReadOnlyList<(string Path, string Caption)> charts)
    {
        ArgumentNullException.ThrowIfNull(charts);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(sets);
        var s = new StringBuilder();
        var storageNames = string.Join(',', sets.Select(x => x.Name));
        var command = "dotnet run -c Release --project bench/ConnectorEvents.Bench --"
            + (settings.Quick ? " --quick" : "") + $" --runs {settings.Runs}"
            + (settings.Only.SetEquals(Enumerable.Range(1, 10)) ? "" : $" --only {string.Join(',', settings.Only.Order())}")
            + (storageNames == "sqlite,postgres" ? "" : $" --storage {storageNames}")
            + (settings.TelemetryPairs == new BenchSettings().TelemetryPairs || !settings.Only.Contains(11) ? "" : $" --telemetry-pairs {settings.TelemetryPairs}")
            + (settings.OutputPath is null ? "" : $" --out {settings.OutputPath.Replace('\\', '/')}");
        var runCount = sets.Count == 0 ? 0 : sets.Max(x => x.Runs.Count);

        s.AppendLine("# Benchmarks");
        s.AppendLine();
        s.AppendLine(($"Produced by `{command}`; re-run it to refresh this file (it is written whole)."));
        s.AppendLine();
        s.AppendLine(($"- **Date:** {machine.Date:yyyy-MM-dd HH:mm} UTC; wall time {wallTime:hh\\:mm\\:ss}"));
        s.AppendLine(($"- **Machine:** {machine.Cores} cores (`Environment.ProcessorCount`), {machine.Cpu}, {machine.MemoryGiB:0.0} GiB memory"));
        s.AppendLine(($"- **OS / runtime:** {machine.Os}; {machine.Runtime}; {machine.Gc}; Release build"));
        s.AppendLine(($"- **Load average** (1/5/15 min, all processes on the machine): {machine.LoadAverage} at the start, {MachineInfo.ReadLoadAverage()} at the end"));
        s.AppendLine(($"- **Runs:** {runCount}{(settings.Quick ? " (quick: smaller counts, a smoke test only)" : "")}. Each run measures the ceiling once, "
            + "then on each storage configuration in turn scenarios 2 → 7 (and 9, 10 on sqlite), then the peer (8); figures are the **median of the runs**, and each ratio is the median of "
            + "the per-run ratios (scenario and ceiling from the same run)."));
        s.AppendLine("- **One process:** the server (Kestrel, management API, dispatcher, storage), "
            + "the load generator and the webhook sink (a Kestrel app on 127.0.0.1 that only counts) share the machine's cores. "
            + "The ceiling is measured the same way, in the same process against the same sink, so the ratios compare like with like. "
            + "Other work on the machine (builds, tests) adds noise; trust ratios within a run more than absolute figures.");
        s.AppendLine(($"- **Shape:** {settings.Clients} integration clients (sink path `/c{{i}}?Token=…` each), "
            + $"{settings.IntegrationsPerClient} integrations per client = {settings.Integrations:N0} delivery lanes; default delivery settings "
            + "(512 requests in flight at most, 32 per endpoint URL, 8 messages per lane in memory). Every data folder is a fresh temp folder, "
            + "and every PostgreSQL database a fresh one, deleted after."));
        s.AppendLine();
        s.AppendLine("### Storage configurations");
        s.AppendLine();
        foreach (var set in sets)
        {
            s.AppendLine($"- **{set.Name}:** {Describe(set)}");
        }
        s.AppendLine();

        s.AppendLine("## Summary");
        s.AppendLine();
        s.AppendLine("Each cell: the median; for throughput, the ratio to the same run's ceiling; then the verdict against the target.");
        s.AppendLine();
        s.AppendLine("| scenario | target | " + string.Join(" | ", sets.Select(x => x.Name)) + " |");
        s.AppendLine("|---|---|" + string.Concat(sets.Select(_ => "---:|")));
        void Row(string scenario, string target, Func<StorageRuns, string> cell) =>
            s.AppendLine($"| {scenario} | {target} | " + string.Join(" | ", sets.Select(cell)) + " |");
        string Throughput(StorageRuns x, Func<RunResult, double?> rate, Func<RunResult, double?> ratio, string unit, double target)
        {
            var r = Median(x.Runs.Select(ratio));
            return $"{Rate(Median(x.Runs.Select(rate)))} {unit} · {Pct(r)} · {Verdict(r, v => v >= target)}";
        }
        string Latency(StorageRuns x, Func<RunResult, double?> value, double? target)
        {
            var v = Median(x.Runs.Select(value));
            return target is { } t ? $"{Ms(v)} · {Verdict(v, m => m <= t)}" : Ms(v);
        }
        Row($"1. Ceiling: raw `HttpClient` POST → sink, {settings.CeilingConcurrency} loops", "—",
            x => $"{Rate(Median(x.Runs.Select(r => r.Ceiling?.Rate)))} posts/s · 100 %");
        Row("1b. The sender alone: signed POSTs with the delivery headers and time-out, no storage, same loops", "—",
            x => $"{Rate(Median(x.Runs.Select(r => r.SenderAlone?.Rate)))} posts/s · {Pct(Median(x.Runs.Select(r => r.SenderAloneRatio)))}");
        Row($"1c. Two exchanges and nothing between: {settings.ApiCallers} callers' commands to a relay that answers and sends the signed webhook", "—",
            x => $"{Rate(Median(x.Runs.Select(r => r.RelayAlone?.Rate)))} events/s · {Pct(Median(x.Runs.Select(r => r.RelayAloneRatio)))}");
        Row("sizes: backlog / sustained commands / ingested events / steady rate of 7 (per s)", "—",
            x => $"{x.Settings.BacklogMessages:N0} / {x.Settings.SustainedCommands:N0} / {x.Settings.IngestEvents:N0} / {x.Settings.LatencyRate:N0}");
        Row("2. Backlog drain: stored messages → delivered", $"≥ {DrainTarget:P0}",
            x => Throughput(x, r => r.Drain?.Rate, r => r.DrainRatio, "deliveries/s", DrainTarget));
        Row($"3. Sustained: API commands ({settings.ApiCallers} callers) → delivered", $"≥ {SustainedTarget:P0}",
            x => Throughput(x, r => r.Sustained?.Rate, r => r.SustainedRatio, "deliveries/s", SustainedTarget));
        Row($"4. Latency command → POST at {TargetRate:N0}/s, p50", $"≤ {P50TargetMs} ms", x => Latency(x, r => r.LatencyAt(TargetRate)?.FromSend.P50, P50TargetMs));
        Row($"4. Latency command → POST at {TargetRate:N0}/s, p99", $"≤ {P99TargetMs} ms", x => Latency(x, r => r.LatencyAt(TargetRate)?.FromSend.P99, P99TargetMs));
        Row($"5. Durable General ingest: batches of {settings.IngestBatch}, {settings.IngestCallers} producers", $"≥ {IngestTarget:N0}/s", x =>
        {
            var v = Median(x.Runs.Select(r => r.Ingest?.Rate));
            return $"{Rate(v)} events/s · {Verdict(v, e => e >= IngestTarget)}";
        });
        Row("5. … the same events delivered as General Webhooks", "—",
            x => $"{Rate(Median(x.Runs.Select(r => r.Ingest?.DeliveredRate)))} events/s ({Rate(Median(x.Runs.Select(r => r.Ingest?.EventsPerMessage)))} per message)");
        Row($"6. Latency ingest → General POST at {TargetRate:N0}/s, p50", "—", x => Latency(x, r => r.GeneralLatencyAt(TargetRate)?.FromSend.P50, null));
        Row($"6. Latency ingest → General POST at {TargetRate:N0}/s, p99", $"≤ {P99TargetMs} ms", x => Latency(x, r => r.GeneralLatencyAt(TargetRate)?.FromSend.P99, P99TargetMs));
        var socketCount = settings.GeneralEnterprises * settings.SocketsPerEnterprise;
        Row($"7. Latency ingest → WebSocket frame at the steady rate, {socketCount} sockets, p50", "—", x => Latency(x, r => r.WebSocketLatency?.FromSend.P50, null));
        Row($"7. Latency ingest → WebSocket frame at the steady rate, {socketCount} sockets, p99", $"≤ {WebSocketP99TargetMs} ms",
            x => Latency(x, r => r.WebSocketLatency?.FromSend.P99, WebSocketP99TargetMs));
        Row($"9. Isolation: {settings.FaultyClients} of {settings.Clients} clients' endpoints hang past the time-out → healthy clients' drain rate vs all healthy", "—",
            x => x.Storage != StorageKind.Sqlite ? "—" : Pct(Median(x.Runs.Select(r => r.Isolation?.HangingRatio))));
        Row($"9. Isolation: the same {settings.FaultyClients} answer 500 → healthy clients' drain rate vs all healthy", "—",
            x => x.Storage != StorageKind.Sqlite ? "—" : Pct(Median(x.Runs.Select(r => r.Isolation?.FailingRatio))));
        Row($"10. Backlog of {settings.LargeBacklog:N0} pending messages: drain (server as its own process)", "—",
            x => x.Storage != StorageKind.Sqlite ? "—"
                : $"{Rate(Median(x.Runs.Select(r => r.LargeBacklog?.Rate)))} deliveries/s · {Pct(Median(x.Runs.Select(r => r.LargeBacklogRatio)))}");
        Row("10. … the server's peak resident memory (RSS) during that drain, all / anonymous", "—",
            x => x.Storage != StorageKind.Sqlite ? "—"
                : $"{Rate(Median(x.Runs.Select(r => r.LargeBacklog?.PeakRssMiB)))} MiB / {Rate(Median(x.Runs.Select(r => r.LargeBacklog?.PeakAnonymousMiB)))} MiB");
        Row("10. … then a page of `GET /api/v1/messages`: quiet integration / its client / busy integration / busy client / `status=Failed`", "—",
            x => x.Storage != StorageKind.Sqlite ? "—"
                : string.Join(" / ", new Func<ListingTimes, double>[] { l => l.QuietIntegration, l => l.QuietClient, l => l.BusyIntegration, l => l.BusyClient, l => l.Failed }
                    .Select(f => Ms(Median(x.Runs.Select(r => r.LargeBacklog is { } b ? f(b.Listing) : (double?)null))))));
        Row("10. … and the slowest operator console page then (of 14 pages and filters)", "≤ 100 ms",
            x => x.Storage != StorageKind.Sqlite ? "—"
                : Ms(Median(x.Runs.Select(r => r.LargeBacklog is { ConsolePages.Count: > 0 } b ? b.ConsolePages.Max(p => p.Ms) : (double?)null))));
        Row($"11. Telemetry on (Prometheus scraped each second, OTLP metrics, {double.Parse(Scenarios.SampledShare, CultureInfo.InvariantCulture):P0} of traces exported) ÷ off, {settings.TelemetryPairs} pairs alternated: drain rate / CPU per delivery", "≥ 95 %",
            x => x.Runs.All(r => r.TelemetryCost is null) ? "—"
                : $"{Pct(Median(x.Runs.Select(r => r.TelemetryCost?.DrainRatio)))} / {Pct(Median(x.Runs.Select(r => r.TelemetryCost?.DrainCpuRatio)))}");
        Row("11. … sustained rate / CPU per event", "≥ 95 %",
            x => x.Runs.All(r => r.TelemetryCost is null) ? "—"
                : $"{Pct(Median(x.Runs.Select(r => r.TelemetryCost?.SustainedRatio)))} / {Pct(Median(x.Runs.Select(r => r.TelemetryCost?.SustainedCpuRatio)))}");
        Row($"12. Retention: command → POST p99 at {settings.SteadyRate:N0}/s while {settings.RetentionExpired:N0} expired messages are deleted ÷ on the same file without a sweep (a {settings.RetentionRound.TotalSeconds:0} s round each)", "≤ 110 %",
            x => x.Storage != StorageKind.Sqlite || x.Runs.All(r => r.Retention is null) ? "—"
                : $"{Ms(Median(x.Runs.Select(r => r.Retention?.WhileDeleting.FromSend.P99)))} / {Ms(Median(x.Runs.Select(r => r.Retention?.WithoutSweep.FromSend.P99)))} · {Pct(Median(x.Runs.Select(r => r.Retention?.P99Ratio)))} (swept in {Rate(Median(x.Runs.Select(r => r.Retention?.SweepSeconds)))} s)");
        Row($"12. … SQLite file after 10 retention periods of steady load ÷ after 5 ({settings.RetentionPeriod.TotalSeconds:0} s retention)", "≤ 110 %",
            x => x.Storage != StorageKind.Sqlite || x.Runs.All(r => r.Retention is null) ? "—"
                : $"{Pct(Median(x.Runs.Select(r => r.Retention?.GrowthRatio)))} ({Rate(Median(x.Runs.Select(r => r.Retention?.FileMiB[4])))} → {Rate(Median(x.Runs.Select(r => r.Retention?.FileMiB[^1])))} MiB)");
        Row($"13. Readiness probed from another process while {Scenarios.FloodRequests} parallel 4 MiB ingest posts arrive ({settings.ReadinessFloods} floods per run): slowest probe of all floods / floods with one over 100 ms", "≤ 100 ms",
            x => x.Storage != StorageKind.Sqlite || x.Runs.All(r => r.ReadinessFlood is null) ? "—"
                : $"{Ms(x.Runs.Where(r => r.ReadinessFlood is not null).Max(r => r.ReadinessFlood!.SlowestMs))} / {x.Runs.Sum(r => r.ReadinessFlood?.FloodsOver(100) ?? 0)} of {x.Runs.Sum(r => r.ReadinessFlood?.Floods.Count ?? 0)} · "
                    + Verdict(x.Runs.Where(r => r.ReadinessFlood is not null).Max(r => (double?)r.ReadinessFlood!.SlowestMs), v => v <= 100));
        s.AppendLine();
        s.AppendLine("### Latency at offered loads (medians of the runs, milliseconds)");
        s.AppendLine();
        s.AppendLine("Each load runs on one deployment after the previous one's events were all delivered. A load above what the "
            + "configuration can carry (its achieved delivery rate stays below the offered one) measures queueing, not latency.");
        s.AppendLine();
        s.AppendLine("| storage | offered load | 4. commands delivered/s | 4. p50 | p90 | p99 | max | 6. events delivered/s | messages/s | 6. p50 | p90 | p99 | max |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var set in sets)
        {
            foreach (var rate in settings.LatencyRates)
            {
                string I(Func<LatencyResult, double> f) => Median(set.Runs.Select(r => r.LatencyAt(rate) is { } l ? f(l) : (double?)null)) is { } v
                    ? v.ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
                string G(Func<GeneralLatencyResult, double> f) => Median(set.Runs.Select(r => r.GeneralLatencyAt(rate) is { } l ? f(l) : (double?)null)) is { } v
                    ? v.ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
                string IRate(Func<LatencyResult, double> f) => Rate(Median(set.Runs.Select(r => r.LatencyAt(rate) is { } l ? f(l) : (double?)null)));
                string GRate(Func<GeneralLatencyResult, double> f) => Rate(Median(set.Runs.Select(r => r.GeneralLatencyAt(rate) is { } l ? f(l) : (double?)null)));
                s.AppendLine($"| {set.Name} | {rate:N0}/s | {IRate(l => l.DeliveredRate)} | {I(l => l.FromSend.P50)} | {I(l => l.FromSend.P90)} "
                    + $"| {I(l => l.FromSend.P99)} | {I(l => l.FromSend.Max)} | {GRate(l => l.EventsPerSecond)} | {GRate(l => l.MessagesPerSecond)} "
                    + $"| {G(l => l.FromSend.P50)} | {G(l => l.FromSend.P90)} | {G(l => l.FromSend.P99)} | {G(l => l.FromSend.Max)} |");
            }
        }
        s.AppendLine();
        s.AppendLine("### CPU per event");
        s.AppendLine();
        s.AppendLine("| scenario | " + string.Join(" | ", sets.Select(x => x.Name)) + " |");
        s.AppendLine("|---|" + string.Concat(sets.Select(_ => "---:|")));
        void CpuRow(string scenario, Func<RunResult, double?> each, Func<RunResult, double?>? ratio) =>
            s.AppendLine($"| {scenario} | " + string.Join(" | ", sets.Select(x => !x.CpuMeaningful ? "n/a"
                : Us(Median(x.Runs.Select(each))) + (ratio is null ? "" : $" · {Pct(Median(x.Runs.Select(ratio)))}"))) + " |");
        CpuRow("1. Ceiling, per raw post", r => r.Ceiling?.CpuMicrosecondsEach, null);
        CpuRow("1b. The sender alone, per signed post · CPU-normalised ratio", r => r.SenderAlone?.CpuMicrosecondsEach,
            r => r.SenderAlone is { } a && r.Ceiling is { } c ? c.CpuMicrosecondsEach / a.CpuMicrosecondsEach : null);
        CpuRow("1c. Two exchanges and nothing between, per event · CPU-normalised ratio", r => r.RelayAlone?.CpuMicrosecondsEach,
            r => r.RelayAlone is { } a && r.Ceiling is { } c ? c.CpuMicrosecondsEach / a.CpuMicrosecondsEach : null);
        CpuRow("2. Backlog drain, per delivery · CPU-normalised ratio", r => r.Drain?.CpuMicrosecondsEach, r => r.DrainCpuRatio);
        CpuRow("3. Sustained, per event · CPU-normalised ratio", r => r.Sustained?.CpuMicrosecondsEach, r => r.SustainedCpuRatio);
        CpuRow("5. Durable ingest, per event", r => r.Ingest?.CpuMicrosecondsEach, null);
        s.AppendLine();
        s.AppendLine("*CPU per event* is the CPU time of the bench process (server, load generator and sink) over the measured interval, "
            + "divided by the events; *CPU-normalised ratio* = CPU per raw post ÷ CPU per event, i.e. the ratio the scenario would reach "
            + "if it had all the CPU the ceiling had. It is steadier than the wall-clock ratio when other work shares the machine. "
            + "A sustained event costs two HTTP exchanges (the API command and the webhook) plus two durable writes, against one "
            + "exchange per raw post; 1c measures the two exchanges alone, the most scenario 3 can reach. For the PostgreSQL configurations the "
            + "database's own CPU (its processes on the same machine) is not counted, so their CPU figures are lower bounds; with two "
            + "server processes half of the server work is in the other process, so no CPU figure is given (n/a).");
        s.AppendLine();
        foreach (var set in sets)
        {
            var errors = set.Runs.SelectMany(r => r.Errors.Select(e => $"run {r.Number}: {e}")).ToList();
            if (errors.Count > 0)
            {
                s.AppendLine($"**Failures ({set.Name}):**");
                s.AppendLine();
                foreach (var error in errors)
                {
                    s.AppendLine($"- {error.ReplaceLineEndings(" ")}");
                }
                s.AppendLine();
            }
        }

        if (charts.Count > 0)
        {
            s.AppendLine("## Charts");
            s.AppendLine();
            foreach (var (path, caption) in charts)
            {
                s.AppendLine($"![{caption}]({path})");
                s.AppendLine();
            }
        }

        s.AppendLine("## Method");
        s.AppendLine();
        s.AppendLine(($"1. **Ceiling.** {settings.CeilingConcurrency} concurrent loops, one `HttpClient` (`SocketsHttpHandler`, pooled keep-alive "
            + $"connections), POST a realistic `IntegrationCreated` body ({Scenarios.SampleBody().Length} bytes) with only a `Content-Type` header "
            + $"to the sink's client paths, {settings.CeilingPosts:N0} posts after a warm-up → posts/s. This is what the sender could do "
            + "if storing, signing and bookkeeping cost nothing."));
        s.AppendLine(("1b. **The sender alone.** The same loops, URLs and body through the server's own `WebhookSender`: a fresh "
            + "`webhook-id`, `webhook-timestamp` and Standard Webhooks signature per post, `User-Agent`, the delivery time-out, the "
            + "SSRF check at connect time and the first KiB of each answer read; no storage, queue or dispatcher. What it reaches is "
            + "the most any backlog drain can reach."));
        s.AppendLine(($"1c. **Two exchanges and nothing between.** {settings.ApiCallers} loops, as the API callers of 3, POST an enable/disable-shaped "
            + "command (no body, a bearer key) to a second Kestrel app on 127.0.0.1, a relay that answers at once with a JSON body "
            + $"the size of the API's answer ({Scenarios.CommandAnswerLength} bytes) and, without waiting, hands the webhook to the server's "
            + "`WebhookSender` as in 1b, to the sink. Timed from the first command until the sink has answered every webhook "
            + $"({settings.CeilingPosts:N0}) → events/s. A sustained event does this and, between the two exchanges, routing, "
            + "authentication, JSON, the state machine, a durable write, the dispatcher and a second durable write for the outcome: "
            + "so what 1c reaches bounds scenario 3."));
        s.AppendLine(($"2. **Backlog drain.** Server A creates the clients and integrations; then every receiver answers `410 Gone`, "
            + "which disables each client's Integration-Webhook URL after one message, so further messages stay `Pending` and unattempted. "
            + $"{settings.ApiCallers} API callers then issue {settings.BacklogMessages:N0} enable/disable commands (the backlog). "
            + "Server A stops; the receivers come back (the clients' 410 marks are cleared in the database, which is what "
            + "`PATCH /api/v1/clients/{id}` with the same URL does); server B starts on the same data folder. "
            + "Server B's start (host start, storage opened, partitions leased) is reported apart; the drain is timed from its end "
            + "(lanes loaded from storage and paged 64 at a time from then on) until the sink has answered every pending message, and "
            + "the deliveries already answered during the start are left out of the rate → deliveries/s. Every delivery is signed, and its attempt and status are written "
            + "through the group-commit writer as in production. *Peak SQLite log* = the longest the `-wal` file was while the "
            + "commands were issued and while the backlog drained (sampled every 50 ms): the writer starts the log over once it passes "
            + "16 MB, so this shows that it does not grow with the work done."));
        s.AppendLine(($"3. **Sustained.** After a warm-up (one disable and one enable per integration), {settings.ApiCallers} callers each send "
            + "the next enable/disable command over the management API as soon as the previous one is answered, across all "
            + $"{settings.Integrations:N0} integrations, {settings.SustainedCommands:N0} commands in all. Each command is committed "
            + "(state change + outbox message in one transaction, fsync) before it is answered. Timed from the first command to the sink's "
            + "last delivery → delivered webhooks/s. The group-commit counters show how many writes (commands and delivery outcomes) "
            + "shared one transaction."));
        var loads = string.Join(", ", settings.LatencyRates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture))) + " per second";
        s.AppendLine(($"4. **Latency.** After the same warm-up, at each offered load in turn ({loads}) an open-loop pacer thread sends "
            + $"command k at start + k/rate s for {settings.LatencyDuration.TotalSeconds:0} s or {settings.LatencyEventsMax:N0} commands, "
            + "whichever comes first, never waiting for answers (no coordinated omission), to integration "
            + $"k mod {settings.Integrations:N0}. Each send is stamped with `Stopwatch.GetTimestamp()`; the sink stamps each arrival; "
            + "the n-th webhook of an integration is matched to its n-th accepted command (FIFO per integration, checked by `Action`). "
            + "Latency = arrival − send (and arrival − scheduled time, which also counts the pacer's own lateness); *delivered/s* = "
            + "accepted commands ÷ (last arrival − first send)."));
        s.AppendLine(($"5. **Durable General ingest.** {settings.GeneralEnterprises} enterprises, each with one client (its own sink path) and one "
            + $"Enabled integration subscribed to everything. {settings.IngestCallers} producers post `POST /api/v1/enterprises/{{id}}/events` "
            + $"batches of {settings.IngestBatch} `PaymentUpdated` events round-robin over the enterprises, each answered 202 only after its "
            + "commit (fsync), while delivery runs. Ingest rate = events ÷ (last answer − first post). The sink counts the events in "
            + "every General message; *delivered* = events ÷ (last event arrived − first post)."));
        s.AppendLine(($"6. **Latency ingest → General POST.** The same deployment shape; at each offered load in turn ({loads}) an "
            + $"open-loop pacer posts one event per request for {settings.LatencyDuration.TotalSeconds:0} s or {settings.LatencyEventsMax:N0} "
            + "events, round-robin over the enterprises; the sink stamps the arrival of each entity id. Latency = arrival of the message "
            + "carrying the event − the post of the event (two commits in between: the ingest and the message's formation). "
            + "*Events/s* and *messages/s* = what arrived ÷ (last arrival − first post)."));
        s.AppendLine(($"7. **Latency ingest → WebSocket frame.** {settings.GeneralEnterprises} enterprises with {settings.SocketsPerEnterprise} "
            + "integrations each, each integration with one `ClientWebSocket` connected to `/ws/connector` (cookie authentication). "
            + $"An open-loop pacer posts one `Resource` WebSocket event per request at {settings.LatencyRate:N0}/s, round-robin over the "
            + $"enterprises, so each event goes to {settings.SocketsPerEnterprise} sockets. Latency = frame received − post sent, for every "
            + "(event, socket) pair; the frame is pushed after the ingest's commit."));
        s.AppendLine(($"9. **Isolation** (sqlite). A backlog of {settings.IsolationBacklog:N0} messages is built as in 2 and drained three "
            + $"times, each from a copy of the same stopped data folder: all receivers healthy; the endpoints of {settings.FaultyClients} of the "
            + $"{settings.Clients} clients hanging for 30 s (past the 5 s delivery time-out) on every request; the same endpoints answering "
            + "500. Each drain is timed from server B's start until every message of the healthy clients was answered; ratio = all-healthy "
            + "time ÷ faulty time (100 % = the faulty endpoints cost the healthy ones nothing). The faulty clients' messages stay pending "
            + "and are retried on the default schedule."));
        s.AppendLine(($"10. **Large backlog** (sqlite). Server A creates the clients and integrations and stops; then {settings.LargeBacklog:N0} "
            + "pending Integration Webhooks (the 523-byte body, round-robin over the 1,000 lanes) are written into its SQLite file through "
            + "the server's own store (the same statements, 50,000 per transaction), once per bench; each run starts from a copy of "
            + "that folder. The server then starts as its own OS process "
            + "(`dotnet ConnectorEvents.Server.dll`, Production settings) on that folder; timed from its start until the sink has "
            + "answered every message → deliveries/s and the ratio to the ceiling (the writer may then still hold up to 2,048 outcomes, "
            + "four times the sends in flight: past that the dispatcher starts no send until it catches up). Peak RSS = the process's "
            + "`VmHWM` from `/proc/{pid}/status` at the end, start-up included; peak anonymous RSS = the highest `RssAnon` (heaps, not "
            + "mapped files) sampled every 50 ms; peak SQLite log = the longest the `-wal` file was, sampled the same way. The "
            + "dispatcher holds at most 8 messages per lane in memory. After the drain, before the server stops, each filter's first page "
            + "of 50 messages is asked 22 times and the median of the last 21 is kept: the quiet integration (made by server A before the "
            + "backlog was written, so its one message is the oldest, and belonging to a client of its own), that client, the first "
            + "integration of the backlog (its creation and its share of the backlog), the same with `status=Pending` (none is left, so "
            + "every one is read), the first client (all its integrations), no filter, `status=Failed` over all clients "
            + $"({Scenarios.OldFailedMessages:N0} failed messages of a client without a URL, written before the backlog, so older than all of it) and "
            + "`status=Pending` over all clients (none is left)."));
        s.AppendLine();

        s.AppendLine(($"13. **Readiness under a flood** (sqlite, asked for with `--only 13`). {settings.ReadinessFloods} times per run: the server "
            + "starts as its own OS process (`dotnet ConnectorEvents.Server.dll`, Production settings, `Health:Port` set, so the probes "
            + "have a listener of their own); a probe process (this program again, `--probe-readiness`) asks `/healthz/ready` on that "
            + $"port every 100 ms, {Scenarios.FloodProbes} times, each on a new connection with blocking calls; 300 ms after it starts, "
            + $"{Scenarios.FloodRequests} connections from the bench process each post a {Scenarios.FloodBodyBytes / 1024 / 1024} MiB "
            + "ingest body (1,000 ResourceUpdated events with snapshots) at once, with `Content-Length`; the server takes what "
            + "`Ingest:MaxBufferedBytes` allows and answers the rest 503. A probe's time is from its connect to the end of the answer, "
            + "measured in the probe process, so the flooding process's own pauses are not in it, as they are not in an orchestrator's. "
            + "Full GCs, GC paused and allocated are the server's own runtime metrics (`dotnet_gc_*` on `/metrics`), scraped just before "
            + "the flood and after the last probe."));
        s.AppendLine();

        s.AppendLine("With two server processes (postgres2) the API commands and ingest requests alternate over the two processes (for the "
            + "General and WebSocket scenarios each enterprise's requests alternate), each enterprise's sockets are split over both, and "
            + "the 64 delivery partitions are split between them (measuring starts once `GET /api/v1/cluster` shows every partition held, "
            + "by both processes); so a command accepted by one process is often delivered by the other. The group-commit counters are "
            + "those of the in-process server only, so they are given as n/a for postgres2. In the drain, server B's start includes "
            + "starting both processes and waiting until they hold all partitions; deliveries already run during that wait.");
        s.AppendLine();
        s.AppendLine("## All runs");
        s.AppendLine();
        var withCeiling = true;
        foreach (var set in sets)
        {
            s.AppendLine($"### {set.Name}");
            s.AppendLine();
            WriteRuns(s, set.Runs, withCeiling, set.CpuMeaningful);
            s.AppendLine();
            withCeiling = false;
        }
        return s.ToString().TrimEnd() + Environment.NewLine;
    }

    private static string Describe(StorageRuns set)
    {
        var sizes = set.Storage != StorageKind.Postgres2 ? (set.Storage == StorageKind.Sqlite ? "" : " The same sizes and loads as SQLite.")
            : $" The same sizes as one process, but a steady rate of {set.Settings.LatencyRate:N0}/s for the WebSocket scenario (7).";
        var postgres = $"{ServerSet.PostgresVersion ?? "PostgreSQL"} (Debian package) on the same machine, a throw-away cluster with "
            + "`fsync=on`, `synchronous_commit=on`, a fresh database per scenario run; the server uses `Storage:Provider=Postgres`.";
        return set.Storage switch
        {
            StorageKind.Postgres => "the server in the bench process on " + postgres + sizes,
            StorageKind.Postgres2 => "two server processes on one database: the server in the bench process plus a second one as its own OS process "
                + "(the same Release build, `dotnet ConnectorEvents.Server.dll`) on the same machine; " + postgres + sizes,
            _ => "the server in the bench process on SQLite (WAL mode, `synchronous=FULL`), one file in a fresh data folder per scenario run.",
        };
    }

    private static void WriteFloor(
        StringBuilder s, IReadOnlyList<RunResult> runs, string title, string unit, Func<RunResult, CeilingResult?> floor,
        Func<RunResult, double?> ratio)
    {
        s.AppendLine($"#### {title}");
        s.AppendLine();
        s.AppendLine($"| run | {unit} | failed | concurrency | seconds | {unit}/s | ratio | CPU µs/{unit.TrimEnd('s')} |");
        s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in runs)
        {
            s.AppendLine(floor(r) is { } c
                ? ($"| {r.Number} | {c.Posts:N0} | {c.Failed:N0} | {c.Concurrency} | {c.Seconds:0.00} | {c.Rate:N0} | {Pct(ratio(r))} | {c.CpuMicrosecondsEach:0} |")
                : ($"| {r.Number} | failed | | | | | | |"));
        }
        s.AppendLine();
    }

    private static void WriteRuns(StringBuilder s, IReadOnlyList<RunResult> runs, bool withCeiling, bool cpu)
    {
        string Cpu(double value) => cpu ? value.ToString("0.0", CultureInfo.InvariantCulture) : "n/a";
        if (withCeiling)
        {
            s.AppendLine("#### 1. Ceiling");
            s.AppendLine();
            s.AppendLine("| run | posts | failed | concurrency | seconds | posts/s | CPU µs/post |");
            s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in runs)
            {
                s.AppendLine(r.Ceiling is { } c
                    ? ($"| {r.Number} | {c.Posts:N0} | {c.Failed:N0} | {c.Concurrency} | {c.Seconds:0.00} | {c.Rate:N0} | {c.CpuMicrosecondsEach:0} |")
                    : ($"| {r.Number} | failed | | | | | |"));
            }
            s.AppendLine();
            WriteFloor(s, runs, "1b. The sender alone", "posts", r => r.SenderAlone, r => r.SenderAloneRatio);
            WriteFloor(s, runs, "1c. Two exchanges and nothing between", "events", r => r.RelayAlone, r => r.RelayAloneRatio);
        }
        s.AppendLine("#### 2. Backlog drain");
        s.AppendLine();
        s.AppendLine("| run | backlog | build (API commands/s) | server B start | drain seconds | deliveries/s | ratio | CPU µs/delivery | writer commits | units/commit | raced the 410 | peak SQLite log, build / drain |");
        s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in runs)
        {
            s.AppendLine(r.Drain is { } d
                ? ($"| {r.Number} | {d.Backlog:N0} | {d.BuildSeconds:0.0} s ({d.CommandsAccepted / d.BuildSeconds:N0}/s) | {d.StartSeconds * 1000:N0} ms "
                    + $"| {d.Seconds:0.00} | {d.Rate:N0} | {Pct(r.DrainRatio)} | {Cpu(d.CpuMicrosecondsEach)} | {Commits(d.Writer)} | {PerCommit(d.Writer)} | {d.Extra} "
                    + $"| {(d.PeakLogMiB is var (build, drain) ? $"{build:N0} / {drain:N0} MiB" : "—")} |")
                : ($"| {r.Number} | failed | | | | | | | | | | |"));
        }
        s.AppendLine();
        s.AppendLine("#### 3. Sustained API commands → deliveries");
        s.AppendLine();
        s.AppendLine("| run | accepted | failed | API commands/s | seconds to last delivery | deliveries/s | ratio | CPU µs/event | writer commits | writer units | units/commit |");
        s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in runs)
        {
            s.AppendLine(r.Sustained is { } u
                ? ($"| {r.Number} | {u.Accepted:N0} | {u.Failed:N0} | {u.ApiRate:N0} | {u.Seconds:0.00} | {u.Rate:N0} | {Pct(r.SustainedRatio)} "
                    + $"| {Cpu(u.CpuMicrosecondsEach)} | {Commits(u.Writer)} | {Units(u.Writer)} | {PerCommit(u.Writer)} |")
                : ($"| {r.Number} | failed | | | | | | | | | |"));
        }
        s.AppendLine();
        s.AppendLine("#### 4. Latency command → POST at each offered load (milliseconds)");
        s.AppendLine();
        s.AppendLine("| run | offered | commands | accepted | matched | achieved rate | delivered/s | p50 | p90 | p99 | max | p50 / p99 from schedule | pacer lateness p99 / max |");
        s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in runs)
        {
            if (r.Latencies is null)
            {
                s.AppendLine($"| {r.Number} | failed | | | | | | | | | | | |");
                continue;
            }
            foreach (var l in r.Latencies)
            {
                s.AppendLine($"| {r.Number} | {l.Rate:N0}/s | {l.Scheduled:N0} | {l.Accepted:N0} | {l.Matched:N0} | {l.AchievedRate:N0}/s | {l.DeliveredRate:N0} "
                    + $"| {l.FromSend.P50:0.00} | {l.FromSend.P90:0.00} | {l.FromSend.P99:0.00} | {l.FromSend.Max:0.0} "
                    + $"| {l.FromSchedule.P50:0.00} / {l.FromSchedule.P99:0.00} | {l.PacerLag.P99:0.00} / {l.PacerLag.Max:0.0} |");
            }
        }
        s.AppendLine();
        s.AppendLine("#### 5. Durable General ingest");
        s.AppendLine();
        s.AppendLine("| run | events | requests | failed | ingest seconds | ingested events/s | seconds to last delivery | delivered events/s | messages | events/message | CPU µs/event |");
        s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in runs)
        {
            s.AppendLine(r.Ingest is { } g
                ? ($"| {r.Number} | {g.Events:N0} | {g.Requests:N0} | {g.Failed:N0} | {g.IngestSeconds:0.00} | {g.Rate:N0} | {g.DeliveredSeconds:0.00} "
                    + $"| {g.DeliveredRate:N0} | {g.Messages:N0} | {g.EventsPerMessage:0.0} | {Cpu(g.CpuMicrosecondsEach)} |")
                : ($"| {r.Number} | failed | | | | | | | | | |"));
        }
        s.AppendLine();
        s.AppendLine("#### 6. Latency ingest → General POST at each offered load (milliseconds)");
        s.AppendLine();
        s.AppendLine("| run | offered | events | accepted | matched | achieved rate | events/s delivered | messages | messages/s | p50 | p90 | p99 | max |");
        s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in runs)
        {
            if (r.GeneralLatencies is null)
            {
                s.AppendLine($"| {r.Number} | failed | | | | | | | | | | | |");
                continue;
            }
            foreach (var l in r.GeneralLatencies)
            {
                s.AppendLine($"| {r.Number} | {l.Rate:N0}/s | {l.Scheduled:N0} | {l.Accepted:N0} | {l.Matched:N0} | {l.AchievedRate:N0}/s | {l.EventsPerSecond:N0} "
                    + $"| {l.Messages:N0} | {l.MessagesPerSecond:N0} | {l.FromSend.P50:0.00} | {l.FromSend.P90:0.00} | {l.FromSend.P99:0.00} | {l.FromSend.Max:0.0} |");
            }
        }
        s.AppendLine();
        s.AppendLine("#### 7. Latency ingest → WebSocket frame (milliseconds)");
        s.AppendLine();
        s.AppendLine("| run | sockets | events | accepted | frames expected | matched | achieved rate | p50 | p90 | p99 | max |");
        s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in runs)
        {
            s.AppendLine(r.WebSocketLatency is { } w
                ? ($"| {r.Number} | {w.Sockets} | {w.Scheduled:N0} | {w.Accepted:N0} | {w.Expected:N0} | {w.Matched:N0} | {w.AchievedRate:N0}/s "
                    + $"| {w.FromSend.P50:0.00} | {w.FromSend.P90:0.00} | {w.FromSend.P99:0.00} | {w.FromSend.Max:0.0} |")
                : ($"| {r.Number} | failed | | | | | | | | | |"));
        }
        if (runs.Any(r => r.Isolation is not null))
        {
            s.AppendLine();
            s.AppendLine("#### 9. Isolation");
            s.AppendLine();
            s.AppendLine("| run | backlog | healthy clients' messages | all healthy: seconds (deliveries/s) | hanging: seconds (healthy deliveries/s) | ratio | requests to hanging endpoints | 500: seconds (healthy deliveries/s) | ratio | requests answered 500 |");
            s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in runs)
            {
                s.AppendLine(r.Isolation is { } i
                    ? ($"| {r.Number} | {i.Backlog:N0} | {i.Healthy:N0} | {i.AllHealthy.Seconds:0.00} ({i.AllHealthy.Rate(i.Healthy):N0}) "
                        + $"| {i.Hanging.Seconds:0.00} ({i.Hanging.Rate(i.Healthy):N0}) | {Pct(i.HangingRatio)} | {i.Hanging.FaultyRequests:N0} "
                        + $"| {i.Failing.Seconds:0.00} ({i.Failing.Rate(i.Healthy):N0}) | {Pct(i.FailingRatio)} | {i.Failing.FaultyRequests:N0} |")
                    : ($"| {r.Number} | failed | | | | | | | | |"));
            }
        }
        if (runs.Any(r => r.TelemetryCost is not null))
        {
            s.AppendLine();
            s.AppendLine("#### 11. Telemetry off and on, pair by pair");
            s.AppendLine();
            s.AppendLine("| run | pair | drain off: deliveries/s · CPU µs | drain on | on ÷ off | sustained off: deliveries/s · CPU µs | sustained on | on ÷ off |");
            s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in runs)
            {
                if (r.TelemetryCost is not { } t)
                {
                    s.AppendLine($"| {r.Number} | failed | | | | | | |");
                    continue;
                }
                for (var i = 0; i < t.DrainOff.Count; i++)
                {
                    var (dOff, dOn, sOff, sOn) = (t.DrainOff[i], t.DrainOn[i], t.SustainedOff[i], t.SustainedOn[i]);
                    s.AppendLine($"| {r.Number} | {i + 1} | {dOff.Rate:N0} · {dOff.CpuMicrosecondsEach:N0} | {dOn.Rate:N0} · {dOn.CpuMicrosecondsEach:N0} "
                        + $"| {Pct(dOn.Rate / dOff.Rate)} · {Pct(dOn.CpuMicrosecondsEach / dOff.CpuMicrosecondsEach)} "
                        + $"| {sOff.Rate:N0} · {sOff.CpuMicrosecondsEach:N0} | {sOn.Rate:N0} · {sOn.CpuMicrosecondsEach:N0} "
                        + $"| {Pct(sOn.Rate / sOff.Rate)} · {Pct(sOn.CpuMicrosecondsEach / sOff.CpuMicrosecondsEach)} |");
                }
            }
        }
        if (runs.Any(r => r.ReadinessFlood is not null))
        {
            s.AppendLine();
            s.AppendLine("#### 13. Readiness under a flood");
            s.AppendLine();
            s.AppendLine("| run | flood | probes answered 200 | failed | median | slowest | posts taken / refused / other | flood seconds | peak RSS | full GCs | GC paused | allocated |");
            s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in runs)
            {
                var floods = r.ReadinessFlood?.Floods ?? [];
                if (floods.Count == 0)
                {
                    s.AppendLine($"| {r.Number} | failed | | | | | | | | | | |");
                }
                for (var i = 0; i < floods.Count; i++)
                {
                    var f = floods[i];
                    s.AppendLine($"| {r.Number} | {i + 1} | {f.ProbeMs.Count} | {f.ProbesFailed} | {Ms(f.MedianMs)} | {Ms(f.SlowestMs)} "
                        + $"| {f.Accepted} / {f.Refused} / {f.Other} | {f.FloodSeconds:0.0} | {f.PeakRssMiB:N0} MiB "
                        + $"| {f.Collector.FullCollections:N0} | {Ms(f.Collector.PausedMs)} | {f.Collector.AllocatedMiB:N0} MiB |");
                }
            }
        }
        if (runs.Any(r => r.LargeBacklog is not null))
        {
            s.AppendLine();
            s.AppendLine("#### 10. Large backlog");
            s.AppendLine();
            s.AppendLine("| run | backlog | written in | server ready after | drain seconds | deliveries/s | ratio | RSS when ready | peak RSS | peak anonymous RSS | peak SQLite log |");
            s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in runs)
            {
                s.AppendLine(r.LargeBacklog is { } b
                    ? ($"| {r.Number} | {b.Backlog:N0} | {b.WriteSeconds:0.0} s | {b.StartSeconds * 1000:N0} ms | {b.Seconds:0.00} | {b.Rate:N0} "
                        + $"| {Pct(r.LargeBacklogRatio)} | {b.IdleRssMiB:N0} MiB | {b.PeakRssMiB:N0} MiB | {b.PeakAnonymousMiB:N0} MiB | {b.PeakLogMiB:N0} MiB |")
                    : ($"| {r.Number} | failed | | | | | | | | | |"));
            }
            s.AppendLine();
            s.AppendLine("A page of the message listing after that drain, median ms:");
            s.AppendLine();
            s.AppendLine("| run | quiet integration | its client | busy integration | busy integration, `status=Pending` | busy client | no filter | `status=Failed` | `status=Pending` |");
            s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in runs)
            {
                s.AppendLine(r.LargeBacklog?.Listing is { } l
                    ? $"| {r.Number} | {l.QuietIntegration:0.0} | {l.QuietClient:0.0} | {l.BusyIntegration:0.0} | {l.BusyIntegrationPending:0.0} | {l.BusyClient:0.0} | {l.None:0.0} | {l.Failed:0.0} | {l.Pending:0.0} |"
                    : $"| {r.Number} | failed | | | | | | | |");
            }
            s.AppendLine();
            s.AppendLine("Each operator console page after that drain (1,000,000 delivered messages and their attempts), median ms from the request to the answer's last byte on loopback:");
            s.AppendLine();
            var pages = runs.SelectMany(r => r.LargeBacklog?.ConsolePages ?? []).Select(p => p.Page).Distinct().ToList();
            s.AppendLine("| page | " + string.Join(" | ", runs.Select(r => $"run {r.Number}")) + " |");
            s.AppendLine("|---|" + string.Concat(runs.Select(_ => "---:|")));
            foreach (var page in pages)
            {
                s.AppendLine($"| {page} | " + string.Join(" | ", runs.Select(r =>
                    r.LargeBacklog?.ConsolePages.FirstOrDefault(p => p.Page == page) is { } t ? t.Ms.ToString("0.0", CultureInfo.InvariantCulture) : "failed")) + " |");
            }
        }
    }

    private static string Commits(WriterDelta? d) => d is null ? "n/a" : d.Commits.ToString("N0", CultureInfo.InvariantCulture);

    private static string Units(WriterDelta? d) => d is null ? "n/a" : d.Units.ToString("N0", CultureInfo.InvariantCulture);

    private static string PerCommit(WriterDelta? d) => d is null ? "n/a" : d.UnitsPerCommit.ToString("0.0", CultureInfo.InvariantCulture);

    internal static double? Median(IEnumerable<double?> values)
    {
        var sorted = values.Where(v => v is not null).Select(v => v!.Value).Order().ToList();
        if (sorted.Count == 0)
        {
            return null;
        }
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static string Rate(double? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "n/a";

    private static string Pct(double? value) => value is { } v ? (v * 100).ToString("0", CultureInfo.InvariantCulture) + " %" : "n/a";

    private static string Us(double? value) => value is { } v ? v.ToString("0", CultureInfo.InvariantCulture) + " µs" : "n/a";

    private static string Ms(double? value) => value is { } v ? v.ToString("0.00", CultureInfo.InvariantCulture) + " ms" : "n/a";

    private static string Verdict(double? value, Func<double, bool> met) =>
        value is not { } v ? "not measured" : met(v) ? "met" : "**missed**";
}
