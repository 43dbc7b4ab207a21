using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace ConnectorEvents.Cli.Tests;

public sealed class ServeTests
{
    [Fact]
    public async Task Serve_runs_the_server_with_the_given_arguments_and_stops_on_cancel()
    {
        var port = CliRun.FreePort();
        var data = Directory.CreateTempSubdirectory("ce-cli-serve-");
        try
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using var output = new StringWriter();
            var url = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
            var serving = CliApp.RunAsync(
                ["serve", "--urls", url, "--environment", "Development", "--Storage:DataDirectory", data.FullName, "--Logging:LogLevel:Default", "Warning"],
                output, output, stop.Token);

            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var started = Stopwatch.GetTimestamp();
            var live = false;
            while (!live && !serving.IsCompleted && Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(30))
            {
                try
                {
                    live = (await client.GetAsync(new Uri($"{url}/healthz/live"))).IsSuccessStatusCode;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    // Not listening yet, or still starting: a probe that took its whole 2 s on a loaded machine is no answer.
                    await Task.Delay(100);
                }
            }
            if (serving.IsCompleted)
            {
                Assert.Fail($"serve ended early with exit code {await serving}: {output}");
            }
            Assert.True(live, "the server did not answer /healthz/live in 30 s");

            await stop.CancelAsync();
            Assert.Equal(0, await serving.WaitAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }
}
