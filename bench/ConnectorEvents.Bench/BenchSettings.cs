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

    /// <summary>Scenario numbers to run (1–8); the ceiling always runs, since the ratios need it.</summary>
    public IReadOnlySet<int> Only { get; init; } = new HashSet<int> { 1, 2, 3, 4, 5, 6, 7, 8 };

    /// <summary>The storage configurations measured, in this order within each run.</summary>
    public IReadOnlyList<StorageKind> Storages { get; init; } = [StorageKind.Sqlite, StorageKind.Postgres, StorageKind.Postgres2];

    public static string Name(StorageKind storage) => storage switch
    {
        StorageKind.Postgres => "postgres",
        StorageKind.Postgres2 => "postgres2",
        _ => "sqlite",
    };

    /// <summary>
    /// The sizes for <paramref name="storage"/>: the PostgreSQL configurations use a smaller backlog, fewer sustained commands
    /// and fewer ingested events, so that the whole default bench stays within about 25 minutes on a 2-core machine.
    /// </summary>
    /// <remarks>
    /// With two server processes API commands were measured far slower (tens per second on the quick runs), so that
    /// configuration gets a still smaller backlog and fewer sustained commands.
    /// </remarks>
    public BenchSettings For(StorageKind storage) => storage switch
    {
        // Every write to PostgreSQL is a round trip on loopback (SQLite's are calls), so one process takes about 550
        // commands/s on this machine: the steady-rate latency is measured at a load it can carry.
        StorageKind.Postgres or StorageKind.Postgres2 => this with
        {
            BacklogMessages = Math.Min(BacklogMessages, 10_000),
            SustainedCommands = Math.Min(SustainedCommands, 10_000),
            IngestEvents = Math.Min(IngestEvents, 100_000),
            LatencyRate = Math.Min(LatencyRate, 250),
        },
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

    public int LatencyRate { get; init; } = 1_000;

    /// <summary>General scenarios: enterprises, each with one client and one integration.</summary>
    public int GeneralEnterprises { get; init; } = 10;
    public int IngestEvents { get; init; } = 200_000;
    public int IngestBatch { get; init; } = 500;
    public int IngestCallers { get; init; } = 8;

    /// <summary>WebSocket scenario: integrations (one socket each) per enterprise; 10 × 10 = 100 sockets.</summary>
    public int SocketsPerEnterprise { get; init; } = 10;
    public TimeSpan LatencyDuration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Scenario 8 (Hangfire peer): jobs per drain and per sustained measurement on each storage, and the latency duration.
    /// Hangfire.PostgreSql delivers about 100–300 jobs/s here, so its counts are kept small: scenario 8 takes about a minute per run.
    /// </summary>
    public int PeerPostgresJobs { get; init; } = 2_000;
    public int PeerInMemoryJobs { get; init; } = 20_000;
    public TimeSpan PeerLatencyDuration { get; init; } = TimeSpan.FromSeconds(10);

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
                    if (only.Any(n => n is < 1 or > 8))
                    {
                        throw new ArgumentException("--only takes scenario numbers 1 to 8, e.g. --only 3 or --only 2,3.");
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
        return quick
            ? settings with
            {
                Runs = runs ?? 1,
                CeilingPosts = 10_000,
                BacklogMessages = 10_000,
                SustainedCommands = 5_000,
                IngestEvents = 20_000,
                LatencyDuration = TimeSpan.FromSeconds(5),
                PeerPostgresJobs = 500,
                PeerInMemoryJobs = 5_000,
                PeerLatencyDuration = TimeSpan.FromSeconds(5),
            }
            : settings;
    }

    private static string Value(string[] args, int index, string name) =>
        index < args.Length ? args[index] : throw new ArgumentException($"{name} needs a value.");

    public const string Usage =
        "Usage: dotnet run -c Release --project bench/ConnectorEvents.Bench -- [--runs N] [--quick] [--only 2,3] [--storage sqlite,postgres,postgres2] [--out docs/benchmarks.md]";
}
