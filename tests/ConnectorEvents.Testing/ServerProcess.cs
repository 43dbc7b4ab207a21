using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ConnectorEvents.Testing;

/// <summary>
/// The server as a separate OS process (the built ConnectorEvents.Server.dll), so a test can SIGKILL it
/// mid-flight and start it again on the same data folder.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _recent = new();

    private ServerProcess(Process process, Uri baseUri)
    {
        _process = process;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once exited: 0 after a graceful stop, 137 after a SIGKILL.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>An API client for this process with the admin key; the caller disposes it.</summary>
    public HttpClient CreateApiClient()
    {
        var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", RunningServer.AdminKey);
        return http;
    }

    /// <summary>The OS process id (the bench reads its memory from <c>/proc</c>).</summary>
    public int ProcessId => _process.Id;

    /// <summary>
    /// A memory figure of the process from <c>/proc/{pid}/status</c>, in MiB: <c>VmRSS</c> (resident now) or <c>VmHWM</c>
    /// (the highest resident so far, start-up included).
    /// </summary>
    public double StatusMiB(string field)
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        var kib = long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return kib / 1024.0;
    }

    /// <summary>The last 200 lines the process wrote (its log), for a failing test to show.</summary>
    public string RecentOutput
    {
        get
        {
            lock (_recent)
            {
                return string.Join('\n', _recent);
            }
        }
    }

    /// <summary>Waits until the process has written a line containing <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!RecentOutput.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The server process did not write '{text}' within {timeout}. Its output:\n{RecentOutput}");
            }
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_recent)
        {
            _recent.Enqueue(line);
            if (_recent.Count > 200)
            {
                _recent.Dequeue();
            }
        }
    }

    /// <summary>Environment variables of this process named with this prefix reach the server process without it.</summary>
    public const string ServerEnvironmentPrefix = "CE_SERVER_ENV_";

    public static async Task<ServerProcess> StartAsync(string dataDirectory, int port, IDictionary<string, string>? settings = null)
    {
        var dll = ServerDll();
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        // For measuring a runtime setting on the server alone (the bench's own process keeps its own):
        // CE_SERVER_ENV_DOTNET_GCConserveMemory=5 gives the server DOTNET_GCConserveMemory=5.
        foreach (System.Collections.DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            if (variable.Key is string name && name.StartsWith(ServerEnvironmentPrefix, StringComparison.Ordinal))
            {
                start.Environment[name[ServerEnvironmentPrefix.Length..]] = variable.Value as string;
            }
        }
        start.Environment["Storage__DataDirectory"] = dataDirectory;
        start.Environment["Security__AdminApiKey"] = RunningServer.AdminKey;
        start.Environment["Security__EncryptionKey"] = TestSecrets.EncryptionKey;
        start.Environment["RateLimits__PerKeyRequestsPerSecond"] = "1000000"; // above any test's load, as in RunningServer
        start.Environment["RateLimits__PerAddressRequestsPerSecond"] = "1000000";
        start.Environment["RateLimits__FailedAuthenticationsPerMinute"] = "1000000";
        start.Environment["Delivery__AllowedNetworks__0"] = "127.0.0.0/8";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("The server process did not start.");
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return server;
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server process exited with code {_process.ExitCode} before it was ready.");
            }
            try
            {
                using var response = await http.GetAsync("/healthz/ready").ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
        throw new TimeoutException("The server process did not become ready in time.");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush; what was not committed is gone.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM and wait for a graceful shutdown (leases released); SIGKILL if it takes longer than <paramref name="timeout"/>.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return;
        }
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        { UseShellExecute = false }))
        {
            if (kill is not null)
            {
                await kill.WaitForExitAsync().ConfigureAwait(false);
            }
        }
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    /// <summary>A data folder path of its own under the temp folder, not yet created.</summary>
    public static string NewDataDirectory(string purpose) => Path.Combine(Path.GetTempPath(), $"ce-{purpose}-{Guid.NewGuid():N}");

    /// <summary>Deletes a data folder, leaving it be when something still holds it.</summary>
    public static void DeleteDataDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The server's own build output, in the configuration these tests were built in.</summary>
    public static string ServerDll()
    {
        var dll = Repository.PathOf("src", "ConnectorEvents.Server", "bin", Repository.Configuration, "net10.0", "ConnectorEvents.Server.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the server first.", dll);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        _process.Dispose();
    }
}
