using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ConnectorEvents.Testing;

/// <summary>
/// A throw-away PostgreSQL cluster for tests: started on first use in a fresh temporary folder on a fresh loopback port,
/// stopped and deleted when the test process exits. <c>CONNECTOR_EVENTS_TEST_POSTGRES</c> (a connection string) uses an
/// existing server instead. Without PostgreSQL binaries every use throws, so the tests fail rather than skip.
/// </summary>
public static class PostgresServer
{
    public const string EnvironmentVariable = "CONNECTOR_EVENTS_TEST_POSTGRES";

    /// <summary><c>CONNECTOR_EVENTS_TEST_POSTGRES_DURABLE=1</c> starts the cluster with <c>fsync=on</c> (as <see cref="Durable"/>).</summary>
    public const string DurableEnvironmentVariable = "CONNECTOR_EVENTS_TEST_POSTGRES_DURABLE";

    /// <summary>
    /// Start the cluster with real durability (<c>fsync=on</c>, <c>synchronous_commit=on</c>), as the bench needs; the tests'
    /// default is <c>fsync=off</c> for speed. Set before the first <see cref="CreateDatabaseAsync"/>; later changes have no effect.
    /// </summary>
    public static bool Durable { get; set; } = Environment.GetEnvironmentVariable(DurableEnvironmentVariable) is "1" or "true";

    private static readonly Lazy<string> AdminConnectionString = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A new, empty database; returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var admin = AdminConnectionString.Value;
        var name = "ce_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync().ConfigureAwait(false);
#pragma warning disable CA2100 // the name is made here, from a Guid
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
#pragma warning restore CA2100
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }

    public static string CreateDatabase() => CreateDatabaseAsync().GetAwaiter().GetResult();

    private static string Start()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } existing)
        {
            return existing;
        }
        var bin = FindBinaries() ?? throw new InvalidOperationException(
            "PostgreSQL is not installed: run ./test.sh, which installs it (apt-get install postgresql)");
        var asRoot = Environment.UserName == "root";
        // A fresh folder and port every run: a cluster abandoned by a crashed run can never be in the way.
        var folder = Path.Combine(Path.GetTempPath(), "connector-events-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        if (asRoot)
        {
            // initdb refuses to run as root: the cluster belongs to the postgres user.
            Run("chown", asRoot: false, "postgres:postgres", folder);
        }
        var data = Path.Combine(folder, "data");
        // Registered first: a start that fails half-way still leaves nothing behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(bin, asRoot, data, folder);
        Run(Path.Combine(bin, "initdb"), asRoot, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8");
        var port = FreePort();
        Run(Path.Combine(bin, "pg_ctl"), asRoot, "-w", "-D", data, "-l", Path.Combine(folder, "log"), "-o",
            string.Create(CultureInfo.InvariantCulture,
                $"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync={(Durable ? "on" : "off")} -c synchronous_commit=on -c max_connections=300"),
            "start");
        return new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Database = "postgres",
            Pooling = true,
        }.ConnectionString;
    }

    private static void Stop(string bin, bool asRoot, string data, string folder)
    {
        try
        {
            Run(Path.Combine(bin, "pg_ctl"), asRoot, "-D", data, "-m", "immediate", "stop");
        }
#pragma warning disable CA1031 // at process exit nothing is left to report to; the next run uses a fresh folder and port anyway
        catch (Exception)
        {
        }
        try
        {
            // Left to a process of its own: a run's hundreds of databases take seconds to delete, and the test runner counts a
            // process that has not exited a second after the tests ended as hung (exit code 1 after ten more).
            using var remove = Process.Start(new ProcessStartInfo("rm", ["-rf", folder]) { UseShellExecute = false });
        }
        catch (Exception)
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception)
            {
            }
        }
#pragma warning restore CA1031
    }

    private static string? FindBinaries()
    {
        try
        {
            var bindir = Capture("pg_config", "--bindir").Trim();
            if (File.Exists(Path.Combine(bindir, "initdb")))
            {
                return bindir;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No pg_config on PATH: look where Debian puts the server.
        }
        return Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Run(string file, bool asRoot, params string[] arguments)
    {
        var start = new ProcessStartInfo(asRoot ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asRoot)
        {
            foreach (var prefix in (string[])["-u", "postgres", "--", file])
            {
                start.ArgumentList.Add(prefix);
            }
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var output = new System.Text.StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} did not finish within 60 s.");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {output}");
        }
    }

    private static string Capture(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }
}
