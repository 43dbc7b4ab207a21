using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Npgsql;

namespace ConnectorEvents.Bench;

/// <summary>
/// The servers of one storage configuration: always the in-process <see cref="RunningServer"/> (whose internals the scenarios
/// read); for <see cref="StorageKind.Postgres2"/> also a second server as a real OS process on the same PostgreSQL database.
/// Load is split over <see cref="BaseUris"/>.
/// </summary>
public sealed class ServerSet : IAsyncDisposable
{
    // One database per data folder, so that a server started again on a folder (the drain's server B) finds its data.
    private static readonly ConcurrentDictionary<string, string> Databases = new(StringComparer.Ordinal);

    private ServerSet(StorageKind storage, RunningServer primary, ServerProcess? secondary)
    {
        Storage = storage;
        Primary = primary;
        Secondary = secondary;
        BaseUris = secondary is null ? [primary.BaseUri] : [primary.BaseUri, secondary.BaseUri];
    }

    public StorageKind Storage { get; }
    public RunningServer Primary { get; }
    public ServerProcess? Secondary { get; }
    public Uri[] BaseUris { get; }

    /// <summary>The PostgreSQL database of <paramref name="dataDirectory"/>, or null for SQLite.</summary>
    /// <summary>"PostgreSQL 15.x" once a database was made, for the report.</summary>
    public static string? PostgresVersion { get; private set; }

    public static string? ConnectionStringFor(string dataDirectory) => Databases.TryGetValue(dataDirectory, out var cs) ? cs : null;

    public static void Forget(string dataDirectory) => Databases.TryRemove(dataDirectory, out _);

    /// <summary>Settings every in-process server started from now on gets besides the bench's (scenario 11: telemetry on or off).</summary>
    public static IReadOnlyDictionary<string, string?>? ExtraSettings { get; set; }

    /// <summary>The set started last and not yet disposed, for a scenario that watches whichever server is up.</summary>
    public static ServerSet? Current { get; private set; }

    private static Dictionary<string, string?> With(Dictionary<string, string?> settings)
    {
        foreach (var (key, value) in ExtraSettings ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }

    public static async Task<ServerSet> StartAsync(StorageKind storage, string dataDirectory)
    {
        var set = await StartSetAsync(storage, dataDirectory).ConfigureAwait(false);
        Current = set;
        return set;
    }

    private static async Task<ServerSet> StartSetAsync(StorageKind storage, string dataDirectory)
    {
        if (storage == StorageKind.Sqlite)
        {
            var sqlite = await RunningServer.StartAsync(With(new Dictionary<string, string?> { ["Storage:Provider"] = "Sqlite" }),
                dataDirectory: dataDirectory).ConfigureAwait(false);
            return new ServerSet(storage, sqlite, null);
        }
        if (!Databases.TryGetValue(dataDirectory, out var connectionString))
        {
            connectionString = await PostgresServer.CreateDatabaseAsync().ConfigureAwait(false);
            Databases[dataDirectory] = connectionString;
            if (PostgresVersion is null)
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync().ConfigureAwait(false);
                PostgresVersion = "PostgreSQL " + connection.PostgreSqlVersion.ToString();
            }
        }
        var primary = await RunningServer.StartAsync(With(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Postgres",
            ["ConnectionStrings:Postgres"] = connectionString,
        }), dataDirectory: dataDirectory).ConfigureAwait(false);
        ServerProcess? secondary = null;
        try
        {
            if (storage == StorageKind.Postgres2)
            {
                secondary = await ServerProcess.StartAsync(Path.Combine(dataDirectory, "node-b"), ServerProcess.FreePort(), new Dictionary<string, string>
                {
                    ["Storage__Provider"] = "Postgres",
                    ["ConnectionStrings__Postgres"] = connectionString,
                }).ConfigureAwait(false);
            }
            var set = new ServerSet(storage, primary, secondary);
            await set.WaitForPartitionsAsync().ConfigureAwait(false);
            return set;
        }
        catch
        {
            if (secondary is not null)
            {
                await secondary.DisposeAsync().ConfigureAwait(false);
            }
            await primary.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits until every partition is held by one of this set's processes, and each process holds some.</summary>
    private async Task WaitForPartitionsAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", RunningServer.AdminKey);
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            var held = 0;
            var total = 0;
            var everyOne = true;
            var parts = new List<string>();
            foreach (var uri in BaseUris)
            {
                var json = JsonNode.Parse(await http.GetStringAsync(new Uri(uri, "/api/v1/cluster")).ConfigureAwait(false))!;
                var here = (int)json["HeldHere"]!;
                held += here;
                total = json["Partitions"]!.AsArray().Count;
                everyOne &= here > 0;
                parts.Add(here.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            last = string.Join('/', parts);
            if (everyOne && total > 0 && held == total)
            {
                if (BaseUris.Length > 1)
                {
                    Scenarios.Progress($"  partitions held {last} after {clock.Elapsed.TotalSeconds:0.0} s");
                }
                return;
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        throw new TimeoutException($"The partitions were not all held by this set's processes within 90 s (held {last}).");
    }

    public async ValueTask DisposeAsync()
    {
        if (Current == this)
        {
            Current = null;
        }
        if (Secondary is not null)
        {
            await Secondary.StopAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            await Secondary.DisposeAsync().ConfigureAwait(false);
        }
        await Primary.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Drops the database of <paramref name="dataDirectory"/>, if any (best effort).</summary>
    public static async Task DropDatabaseAsync(string dataDirectory)
    {
        if (Databases.TryRemove(dataDirectory, out var connectionString))
        {
            await DropDatabaseByConnectionStringAsync(connectionString).ConfigureAwait(false);
        }
    }

    /// <summary>Drops the database <paramref name="connectionString"/> names (best effort).</summary>
    public static async Task DropDatabaseByConnectionStringAsync(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var name = builder.Database!;
        builder.Database = "postgres";
        NpgsqlConnection.ClearAllPools();
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync().ConfigureAwait(false);
#pragma warning disable CA2100 // the name was made by PostgresServer, from a Guid
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
#pragma warning restore CA2100
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (NpgsqlException ex)
        {
            Scenarios.Progress($"  could not drop database {name}: {ex.Message}");
        }
    }
}
