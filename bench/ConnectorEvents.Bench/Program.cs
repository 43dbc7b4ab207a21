using System.Diagnostics;
using ConnectorEvents.Bench;
using ConnectorEvents.Testing;

if (args is [Scenarios.ProbeReadinessArgument, var probePort, var probes])
{
    // Scenario 13's probe, as a process of its own: what an orchestrator's probe sees, not the flooding process's pauses.
    return Scenarios.ProbeReadiness(int.Parse(probePort, System.Globalization.CultureInfo.InvariantCulture),
        int.Parse(probes, System.Globalization.CultureInfo.InvariantCulture));
}

BenchSettings settings;
try
{
    settings = BenchSettings.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
{
    if (ex.Message.Length > 0)
    {
        Console.Error.WriteLine(ex.Message);
    }
    Console.Error.WriteLine(BenchSettings.Usage);
    return 2;
}

#if DEBUG
Console.Error.WriteLine("warning: a Debug build; figures are only meaningful with -c Release.");
#endif

var machine = MachineInfo.Collect();
if (settings.Storages.Any(s => s != StorageKind.Sqlite) || settings.Only.Contains(8))
{
    // The bench measures PostgreSQL with real durability; the tests' throw-away cluster runs with fsync=off.
    PostgresServer.Durable = true;
}
Scenarios.Progress($"ConnectorEvents bench: {settings.Runs} run(s){(settings.Quick ? ", quick" : "")}; "
    + $"storage {string.Join(", ", settings.Storages.Select(BenchSettings.Name))}; {machine.Summary}");
var total = Stopwatch.StartNew();
var results = settings.Storages.Select(s => new StorageRuns(s, settings.For(s), [])).ToList();
var peerRuns = new List<PeerRun>();
await using (var sink = await WebhookSink.StartAsync().ConfigureAwait(false))
{
    sink.Record = false;
    var ceilingScenarios = new Scenarios(settings, sink);
    if (!settings.Quick)
    {
        // One untimed round per configuration at smoke-test sizes, so that run 1 does not pay for JIT compilation of the server's paths.
        foreach (var set in results)
        {
            var name = BenchSettings.Name(set.Storage);
            Scenarios.Progress($"warm-up round on {name} (not reported)");
            var warmUp = new Scenarios(settings with { CeilingPosts = 5_000, BacklogMessages = 5_000, SustainedCommands = 5_000,
                LatencyDuration = TimeSpan.FromSeconds(2), LatencyEventsMax = 2_000, IngestEvents = 10_000 }, sink, set.Storage);
            var ignored = new RunResult(0);
            await Measure(0, $"{name}: warm-up drain", warmUp.DrainAsync, ignored).ConfigureAwait(false);
            await Measure(0, $"{name}: warm-up sustained", warmUp.SustainedAsync, ignored).ConfigureAwait(false);
            await Measure(0, $"{name}: warm-up latency", warmUp.LatencyAsync, ignored).ConfigureAwait(false);
            await Measure(0, $"{name}: warm-up ingest", warmUp.IngestAsync, ignored).ConfigureAwait(false);
            await Measure(0, $"{name}: warm-up General latency", warmUp.GeneralLatencyAsync, ignored).ConfigureAwait(false);
            await Measure(0, $"{name}: warm-up WebSocket latency", warmUp.WebSocketLatencyAsync, ignored).ConfigureAwait(false);
        }
    }
    for (var run = 1; run <= settings.Runs; run++)
    {
        // The ceiling once per run; every configuration's ratios of this run use it.
        var ceilingRun = new RunResult(run);
        var ceiling = await Measure(run, "1. ceiling (raw HttpClient → sink)", ceilingScenarios.CeilingAsync, ceilingRun).ConfigureAwait(false);
        var senderAlone = await Measure(run, "1b. the sender alone (signed, no storage)", ceilingScenarios.SenderFloorAsync, ceilingRun).ConfigureAwait(false);
        var relayAlone = await Measure(run, "1c. two exchanges and nothing between (a relay)", ceilingScenarios.RelayFloorAsync, ceilingRun).ConfigureAwait(false);
        foreach (var set in results)
        {
            var name = BenchSettings.Name(set.Storage);
            var scenarios = new Scenarios(set.Settings, sink, set.Storage);
            var result = new RunResult(run) { Ceiling = ceiling, SenderAlone = senderAlone, RelayAlone = relayAlone };
            result.Errors.AddRange(ceilingRun.Errors);
            result.Drain = !settings.Only.Contains(2) ? null : await Measure(run, $"{name}: 2. backlog drain", scenarios.DrainAsync, result).ConfigureAwait(false);
            result.Sustained = !settings.Only.Contains(3) ? null : await Measure(run, $"{name}: 3. sustained API commands → deliveries", scenarios.SustainedAsync, result).ConfigureAwait(false);
            result.Latencies = !settings.Only.Contains(4) ? null : await Measure(run, $"{name}: 4. latency at offered loads", scenarios.LatencyAsync, result).ConfigureAwait(false);
            result.Ingest = !settings.Only.Contains(5) ? null : await Measure(run, $"{name}: 5. durable General ingest", scenarios.IngestAsync, result).ConfigureAwait(false);
            result.GeneralLatencies = !settings.Only.Contains(6) ? null : await Measure(run, $"{name}: 6. latency ingest → General POST at offered loads", scenarios.GeneralLatencyAsync, result).ConfigureAwait(false);
            result.WebSocketLatency = !settings.Only.Contains(7) ? null : await Measure(run, $"{name}: 7. latency ingest → WebSocket frame", scenarios.WebSocketLatencyAsync, result).ConfigureAwait(false);
            // Both copy or write a SQLite file: the embedded default only.
            var sqliteOnly = set.Storage == StorageKind.Sqlite;
            result.Isolation = !(sqliteOnly && settings.Only.Contains(9)) ? null : await Measure(run, $"{name}: 9. isolation", scenarios.IsolationAsync, result).ConfigureAwait(false);
            result.LargeBacklog = !(sqliteOnly && settings.Only.Contains(10)) ? null : await Measure(run, $"{name}: 10. large backlog", scenarios.LargeBacklogAsync, result).ConfigureAwait(false);
            result.TelemetryCost = !settings.Only.Contains(11) ? null : await Measure(run, $"{name}: 11. telemetry off and on", scenarios.TelemetryCostAsync, result).ConfigureAwait(false);
            result.Retention = !(sqliteOnly && settings.Only.Contains(12)) ? null : await Measure(run, $"{name}: 12. retention at work", scenarios.RetentionAsync, result).ConfigureAwait(false);
            result.ReadinessFlood = !(sqliteOnly && settings.Only.Contains(13)) ? null : await Measure(run, $"{name}: 13. readiness under a flood", scenarios.ReadinessFloodAsync, result).ConfigureAwait(false);
            set.Runs.Add(result);
        }
        if (settings.Only.Contains(8))
        {
            // After every storage's scenarios, so that Hangfire never shares the machine with our server.
            var peer = new PeerRun(run);
            var errors = new RunResult(run);
            peer.InMemory = await Measure(run, "8. peer: Hangfire.InMemory", () => ceilingScenarios.HangfirePeerAsync(PeerStorage.InMemory), errors).ConfigureAwait(false);
            peer.Postgres = await Measure(run, "8. peer: Hangfire.PostgreSql", () => ceilingScenarios.HangfirePeerAsync(PeerStorage.Postgres), errors).ConfigureAwait(false);
            peer.Wolverine = await Measure(run, "8. peer: Wolverine (PostgreSQL outbox)", ceilingScenarios.WolverinePeerAsync, errors).ConfigureAwait(false);
            peer.Errors.AddRange(errors.Errors);
            peerRuns.Add(peer);
        }
    }
}

await Scenarios.DeleteLargeBacklogTemplateAsync().ConfigureAwait(false);

IReadOnlyList<(string Path, string Caption)> charts = [];
if (settings.OutputPath is { } output)
{
    // Beside the report, in a folder named after it: docs/benchmarks.md → docs/benchmarks/*.png.
    var folderName = Path.GetFileNameWithoutExtension(output);
    var folder = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, folderName);
    charts = Charts.Write(folder, settings, results, peerRuns).Select(c => ($"{folderName}/{c.File}", c.Caption)).ToList();
}
var report = Report.Write(settings, machine, results, total.Elapsed, charts);
if (peerRuns.Count > 0)
{
    report += Environment.NewLine + Report.WritePeer(settings, results, peerRuns);
    report += Environment.NewLine + Report.WriteWolverinePeer(settings, results, peerRuns);
}
Console.WriteLine(report);
if (settings.OutputPath is { } path)
{
    var full = Path.GetFullPath(path);
    Directory.CreateDirectory(Path.GetDirectoryName(full)!);
    await File.WriteAllTextAsync(full, report).ConfigureAwait(false);
    Scenarios.Progress($"wrote {full}");
}
Scenarios.Progress($"done in {total.Elapsed:mm\\:ss}");
return results.Any(set => set.Runs.Any(r => r.Errors.Count > 0)) || peerRuns.Any(p => p.Errors.Count > 0) ? 1 : 0;

static async Task<T?> Measure<T>(int run, string name, Func<Task<T>> scenario, RunResult result) where T : class
{
    Scenarios.Progress($"run {run}: {name}");
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    var clock = Stopwatch.StartNew();
    try
    {
        var value = await scenario().ConfigureAwait(false);
        Scenarios.Progress($"run {run}: {name}: {value} ({clock.Elapsed.TotalSeconds:0.0} s)");
        return value;
    }
#pragma warning disable CA1031 // a failed scenario is reported, and the others still run
    catch (Exception ex)
#pragma warning restore CA1031
    {
        Scenarios.Progress($"run {run}: {name} FAILED: {ex}");
        result.Errors.Add($"{name}: {ex.GetType().Name}: {ex.Message}");
        return null;
    }
}
