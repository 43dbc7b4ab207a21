using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>
/// The server as a newcomer runs it, a process: a start that cannot succeed is one line on standard error and exit code 1,
/// with nothing else written; a normal start and stop writes no error and exits 0.
/// </summary>
public sealed class StartAndStopTests : IDisposable
{
    private readonly string _dataDirectory = ServerProcess.NewDataDirectory("start");

    public void Dispose() => ServerProcess.DeleteDataDirectory(_dataDirectory);

    private sealed record Run(int ExitCode, string Output, string Error);

    private async Task<Run> RunServerAsync(string[] args, Func<Process, Task>? whileRunning = null, string environment = "Development")
    {
        var dll = ServerProcess.ServerDll();
        var start = new ProcessStartInfo("dotnet", [dll, .. args])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        start.Environment["Storage__DataDirectory"] = _dataDirectory;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (whileRunning is not null)
        {
            await whileRunning(process);
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new Run(process.ExitCode, await output, await error);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public async Task A_taken_port_is_one_line_and_exit_code_1_before_anything_starts()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var run = await RunServerAsync(["--urls", $"http://127.0.0.1:{port}", "--Security:AdminApiKey", RunningServer.AdminKey,
            "--Security:EncryptionKey", TestSecrets.EncryptionKey]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.Output);
        var line = Assert.Single(Lines(run.Error));
        Assert.Equal($"ConnectorEvents could not start: http://127.0.0.1:{port} is in use, by another program or another ConnectorEvents " +
            "server; stop it or choose another address with --urls or ASPNETCORE_URLS.", line);
    }

    [Theory]
    [InlineData("--Delivery:Timeout", "banana", "Failed to convert configuration value 'banana' at 'Delivery:Timeout' to type 'System.TimeSpan'.")]
    [InlineData("--Delivery:Timeout", "00:00:00", "Delivery:Timeout must be more than 0")]
    [InlineData("--Storage:Provider", "Mongo", "at 'Storage:Provider'")]
    [InlineData("--urls", "not a url", "'not a url' is not a URL to listen on")]
    public async Task A_bad_setting_is_one_line_naming_it_and_exit_code_1(string key, string value, string expected)
    {
        // Never the default port: the README tour's test may be using it.
        string[] urls = key == "--urls" ? [] : ["--urls", $"http://127.0.0.1:{ServerProcess.FreePort()}"];
        var run = await RunServerAsync([.. urls, key, value, "--Security:AdminApiKey", RunningServer.AdminKey,
            "--Security:EncryptionKey", TestSecrets.EncryptionKey]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.Output);
        var line = Assert.Single(Lines(run.Error));
        Assert.StartsWith("ConnectorEvents could not start: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_keys_outside_development_are_one_line_naming_both_settings_and_no_secret()
    {
        var run = await RunServerAsync(["--urls", $"http://127.0.0.1:{ServerProcess.FreePort()}"], environment: "Production");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.Output);
        var line = Assert.Single(Lines(run.Error));
        Assert.Contains("Security:AdminApiKey is not set.", line, StringComparison.Ordinal);
        Assert.Contains("Security:EncryptionKey is not set.", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_start_and_a_SIGTERM_write_no_error_and_exit_0()
    {
        var port = ServerProcess.FreePort();
        var run = await RunServerAsync(["--urls", $"http://127.0.0.1:{port}", "--Security:AdminApiKey", RunningServer.AdminKey,
            "--Security:EncryptionKey", TestSecrets.EncryptionKey], async process =>
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                try
                {
                    if ((await http.GetAsync("/healthz/ready")).StatusCode == HttpStatusCode.OK)
                    {
                        break;
                    }
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline)
                {
                }
                Assert.True(DateTime.UtcNow < deadline, "the server did not get ready");
                await Task.Delay(100);
            }
            using var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync();
        });

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Error);
        Assert.DoesNotContain("fail:", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("crit:", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", run.Output, StringComparison.Ordinal);
        Assert.Contains("Application is shutting down", run.Output, StringComparison.Ordinal);
    }
}
