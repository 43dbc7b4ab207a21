using System.Globalization;

namespace ConnectorEvents.Bench;

/// <summary>A storage configuration the scenarios run on.</summary>
public enum StorageKind
{
    /// <summary>The in-process server on an embedded SQLite file.</summary>
    Sqlite,

    /// <summary>The in-process server on a fresh PostgreSQL database.</summary>
    Postgres,

    /// <summary>The in-process server and a second server process on one fresh PostgreSQL database.</summary>
    Postgres2,
}

/// <summary>Command-line settings and the sizes of each scenario.</summary>
public sealed record BenchSettings
{
    public int Runs { get; init; } = 3;
    public bool Quick { get; init; }
    public string? OutputPath { get; init; }

    /// <summary>The highest scenario number.</summary>
    public const int LastScenario = 13;

    /// <summary>
    /// Scenario numbers to run (1–10 unless named; 11, the cost of telemetry, 12, retention at work, and 13, readiness
    /// under a flood, only when asked for with --only, as each takes minutes); the ceiling always runs, since the ratios need it.
    /// </summary>
    public IReadOnlySet<int> Only { get; init; } = Enumerable.Range(1, 10).ToHashSet();

    /// <summary>
    /// Scenario 11: off and on measurements of scenarios 2 and 3 each. Nine, because one pair's ratio swings by ±20 % on this
    /// machine (a drain of 100,000 takes 4 s): medians of three pairs missed 95 % in three of the last four runs, of nine in neither of two.
    /// </summary>
    public int TelemetryPairs { get; init; } = 9;

    /// <summary>Scenario 12: delivered messages past retention in the outbox when the server starts.</summary>
    public int RetentionExpired { get; init; } = 1_000_000;

    /// <summary>
    /// Scenario 12: the length of the round compared, with and without a sweep. Its p99 over 10 s (100 slowest commands)
    /// moved by 30 % from one run to the next with the machine's other load; 30 s gives it 300.
    /// </summary>
    public TimeSpan RetentionRound { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Scenario 12: the retention of the steady-load part, and the length of each of its ten periods.</summary>
    public TimeSpan RetentionPeriod { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Scenario 13: floods per run, each on a fresh server process.</summary>
    public int ReadinessFloods { get; init; } = 5;

    /// <summary>Scenario 12: commands per second of the steady load.</summary>
    public int SteadyRate { get; init; } = 1_000;

    /// <summary>
    /// The storage configurations measured, in this order within each run. Two server processes (postgres2) are measured
    /// only when asked for, to keep the default bench within 30 minutes.
    /// </summary>
    public IReadOnlyList<StorageKind> Storages { get; init; } = [StorageKind.Sqlite, StorageKind.Postgres];

    public static string Name(StorageKind storage) => storage switch
    {
        StorageKind.Postgres => "postgres",
        StorageKind.Postgres2 => "postgres2",
        _ => "sqlite",
    };

    /// <summary>
    /// The sizes for <paramref name="storage"/>: every configuration gets the same backlog, commands and events, so their
    /// figures compare like with like; two processes on one database (postgres2) get a lower steady rate for the WebSocket
    /// scenario only (its sockets are split over both processes), so that the bench stays within its time on 2 cores.
    /// </summary>
    public BenchSettings For(StorageKind storage) => storage switch
    {
        StorageKind.Postgres2 => this with { LatencyRate = Math.Min(LatencyRate, 250) },
        _ => this,
    };

    /// <summary>Integration clients, each with its own sink path <c>/c{i}</c>.</summary>
    public int Clients { get; init; } = 100;
    public int IntegrationsPerClient { get; init; } = 10;
    public int Integrations => Clients * IntegrationsPerClient;

    /// <summary>Concurrent loops of the ceiling; the dispatcher has up to this many lanes busy in the drain.</summary>
    public int CeilingConcurrency { get; init; } = 100;
    public int CeilingPosts { get; init; } = 100_000;

    public int BacklogMessages { get; init; } = 100_000;
    public int SustainedCommands { get; init; } = 50_000;

    /// <summary>Concurrent API callers in the backlog build-up and the sustained scenario.</summary>
    public int ApiCallers { get; init; } = 64;

    /// <summary>The steady rate of the WebSocket scenario (7), and the rate the targets of 4 and 6 are read at.</summary>
    public int LatencyRate { get; init; } = 1_000;

    /// <summary>The offered loads of the latency scenarios (4 and 6), events per second, each in turn on one deployment.</summary>
    public IReadOnlyList<int> LatencyRates { get; init; } = [100, 1_000, 5_000];

    /// <summary>
    /// Events per offered load at most: a load runs for <see cref="LatencyDuration"/> or until this many were sent, so
    /// that a load past what the configuration can carry (queueing, not latency) stays short.
    /// </summary>
    public int LatencyEventsMax { get; init; } = 10_000;

    public int LatencyEventsAt(int rate) => (int)Math.Min(rate * LatencyDuration.TotalSeconds, LatencyEventsMax);

    /// <summary>Scenario 9: the backlog each isolation drain starts from, and the share of client endpoints that misbehave.</summary>
    public int IsolationBacklog { get; init; } = 50_000;
    public int FaultyClients => Math.Max(1, Clients / 10);

    /// <summary>Scenario 10: pending messages written straight into the store before the server starts.</summary>
    public int LargeBacklog { get; init; } = 1_000_000;

    /// <summary>General scenarios: enterprises, each with one client and one integration.</summary>
    public int GeneralEnterprises { get; init; } = 10;
    public int IngestEvents { get; init; } = 200_000;
    public int IngestBatch { get; init; } = 500;
    public int IngestCallers { get; init; } = 8;

    /// <summary>WebSocket scenario: integrations (one socket each) per enterprise; 10 × 10 = 100 sockets.</summary>
    public int SocketsPerEnterprise { get; init; } = 10;
    public TimeSpan LatencyDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Scenario 8 (Hangfire peer): jobs per drain and per sustained measurement on each storage, and the latency duration.
    /// Hangfire.PostgreSql delivers about 100–300 jobs/s here, so its counts are kept small: scenario 8 takes about a minute per run.
    /// </summary>
    public int PeerPostgresJobs { get; init; } = 2_000;
    public int PeerInMemoryJobs { get; init; } = 20_000;

    /// <summary>Scenario 8 (Wolverine peer): messages per drain and per sustained measurement (it delivers about 1,500/s here).</summary>
    public int WolverineJobs { get; init; } = 20_000;
    public TimeSpan PeerLatencyDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The load of scenario 8's latency, one of <see cref="LatencyRates"/> so that ours is measured at it too: the target's
    /// 1,000/s beside our SQLite; the lowest load beside PostgreSQL, since Hangfire.PostgreSql carries only about 100–300 jobs/s.
    /// </summary>
    public int PeerLatencyRate(StorageKind storage) => storage == StorageKind.Sqlite ? LatencyRate : LatencyRates.Min();

    /// <summary>Hangfire's worker threads: the ceiling's concurrency, as many POSTs in flight as its loops.</summary>
    public int PeerWorkers => CeilingConcurrency;

    public static BenchSettings Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        int? runs = null;
        var quick = false;
        string? output = null;
        HashSet<int>? only = null;
        List<StorageKind>? storages = null;
        int? telemetryPairs = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--runs":
                    runs = int.Parse(Value(args, ++i, "--runs"), CultureInfo.InvariantCulture);
                    if (runs < 1)
                    {
                        throw new ArgumentException("--runs must be at least 1.");
                    }
                    break;
                case "--quick":
                    quick = true;
                    break;
                case "--out":
                    output = Value(args, ++i, "--out");
                    break;
                case "--only":
                    only = Value(args, ++i, "--only").Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture)).ToHashSet();
                    if (only.Any(n => n is < 1 or > LastScenario))
                    {
                        throw new ArgumentException($"--only takes scenario numbers 1 to {LastScenario}, e.g. --only 3 or --only 2,3.");
                    }
                    only.Add(1);
                    break;
                case "--storage":
                    storages = [];
                    foreach (var name in Value(args, ++i, "--storage").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        var kind = name.ToUpperInvariant() switch
                        {
                            "SQLITE" => StorageKind.Sqlite,
                            "POSTGRES" => StorageKind.Postgres,
                            "POSTGRES2" => StorageKind.Postgres2,
                            _ => throw new ArgumentException($"--storage takes sqlite, postgres and postgres2, e.g. --storage sqlite,postgres2; not '{name}'."),
                        };
                        if (!storages.Contains(kind))
                        {
                            storages.Add(kind);
                        }
                    }
                    if (storages.Count == 0)
                    {
                        throw new ArgumentException("--storage needs at least one of sqlite, postgres, postgres2.");
                    }
                    break;
                case "--telemetry-pairs":
                    telemetryPairs = int.Parse(Value(args, ++i, "--telemetry-pairs"), CultureInfo.InvariantCulture);
                    if (telemetryPairs < 1)
                    {
                        throw new ArgumentException("--telemetry-pairs must be at least 1.");
                    }
                    break;
                case "-h" or "--help":
                    throw new ArgumentException("");
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }
        var settings = new BenchSettings { Runs = runs ?? 3, Quick = quick, OutputPath = output };
        if (only is not null)
        {
            settings = settings with { Only = only };
        }
        if (storages is not null)
        {
            settings = settings with { Storages = storages };
        }
        settings = quick
            ? settings with
            {
                Runs = runs ?? 1,
                CeilingPosts = 10_000,
                BacklogMessages = 10_000,
                SustainedCommands = 5_000,
                IngestEvents = 20_000,
                LatencyDuration = TimeSpan.FromSeconds(3),
                LatencyEventsMax = 3_000,
                IsolationBacklog = 10_000,
                LargeBacklog = 100_000,
                PeerPostgresJobs = 500,
                PeerInMemoryJobs = 5_000,
                WolverineJobs = 2_000,
                PeerLatencyDuration = TimeSpan.FromSeconds(5),
                TelemetryPairs = 1,
                ReadinessFloods = 1,
                RetentionExpired = 100_000,
                RetentionPeriod = TimeSpan.FromSeconds(5),
                RetentionRound = TimeSpan.FromSeconds(3),
            }
            : settings;
        return telemetryPairs is { } pairs ? settings with { TelemetryPairs = pairs } : settings;
    }

    private static string Value(string[] args, int index, string name) =>
        index < args.Length ? args[index] : throw new ArgumentException($"{name} needs a value.");

    public const string Usage =
        "Usage: dotnet run -c Release --project bench/ConnectorEvents.Bench -- [--runs N] [--quick] [--only 2,3] (11: telemetry's cost, 12: retention, 13: readiness under a flood) [--storage sqlite,postgres,postgres2] [--telemetry-pairs 9] [--out docs/benchmarks.md]";
}
