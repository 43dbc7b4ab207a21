using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Cli.Tests;

/// <summary>
/// The README's tour, run from the README's own text on a copy of the repository, as a newcomer would: the server from the
/// block marked "Terminal 1", then every other block of the section in one shell. The tour must end with an Integration
/// Webhook, a General Webhook and a WebSocket frame received.
/// </summary>
[Collection(PackingCollection.Name)]
public sealed partial class ReadmeTourTests : IDisposable
{
    private static readonly TimeSpan BuildTime = TimeSpan.FromMinutes(15);

    private readonly string _copy = Path.Combine(Path.GetTempPath(), "ce-tour-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_copy))
        {
            Directory.Delete(_copy, recursive: true);
        }
    }

    [Fact]
    public async Task The_tour_runs_as_written_and_ends_with_each_kind_of_event_received()
    {
        var root = Repository.Root;
        var readme = await File.ReadAllTextAsync(Path.Combine(root, "README.md"), TestContext.Current.CancellationToken);
        var blocks = TourBlocks(readme);
        var serverBlock = Assert.Single(blocks, b => b.StartsWith("# Terminal 1", StringComparison.Ordinal));
        // The server is started as the README's first command starts it.
        var firstCommand = readme.Split('\n').First(l => l.StartsWith("dotnet run ", StringComparison.Ordinal)).Split('#')[0].Trim();
        Assert.Equal(firstCommand, serverBlock.Split('\n')[1].Trim());
        foreach (var port in new[] { 5080, 4000 })
        {
            Assert.True(IsFree(port), $"the tour needs port {port} on 127.0.0.1, which another program holds");
        }
        CopyWorkingTree(root, _copy);

        await using var server = ChildProcess.Start("bash", ["-c", serverBlock], _copy);
        await WaitUntilReadyAsync(server);

        // A stale 0.1.0 of the tool in the package cache would be installed instead of the one the tour packs.
        ForgetCachedTool();

        // Every other block, in order, in one shell, which then waits for what the tour left running (the listener); it is
        // stopped, with everything it started, once the tour has printed all it should, or shown it cannot.
        var script = string.Join("\n", blocks.Where(b => b != serverBlock)) + "\nwait\n";
        await using var tour = ChildProcess.Start("bash", ["-c", script], _copy);
        string[] failures = [];
        var deadline = DateTime.UtcNow + BuildTime;
        do
        {
            await Task.Delay(500, TestContext.Current.CancellationToken);
            failures = Failures(tour.Output);
        }
        while (failures.Length > 0 && !tour.HasExited && DateTime.UtcNow < deadline);
        var output = tour.Output;
        var key = await File.ReadAllTextAsync(Path.Combine(_copy, "src/ConnectorEvents.Server/data/admin-api-key"),
            TestContext.Current.CancellationToken);
        failures = [.. Failures(output), .. Expect(!output.Contains(key.Trim(), StringComparison.Ordinal), "the admin key is never printed")];
        Assert.True(failures.Length == 0, $"{string.Join("; ", failures)}. The tour printed:\n{output}\nThe server printed:\n{server.Output}");
    }

    /// <summary>What the tour should have printed and has not (yet).</summary>
    private static string[] Failures(string output) =>
    [
        .. Expect(!output.Contains("command not found", StringComparison.Ordinal), "every command exists"),
        .. Expect(!output.Contains("NOT verified", StringComparison.Ordinal), "every signature verified"),
        .. Expect(output.Contains("\"SigningSecret\":\"whsec_", StringComparison.Ordinal), "the client's answer shows its secret"),
        .. Expect(Regex.IsMatch(output, "IntegrationCreated[^✓]*verified ✓"), "the listener got IntegrationCreated"),
        .. Expect(output.Contains("Connected to ws://127.0.0.1:5080/ws/connector", StringComparison.Ordinal), "the WebSocket connected"),
        .. Expect(output.Contains("\"IntegrationCount\":1,\"MessageCount\":1", StringComparison.Ordinal), "the receipt counts one integration"),
        .. Expect(Regex.IsMatch(output, "CustomerAdded[^✓]*verified ✓"), "the listener got the General Webhook"),
        .. Expect(output.Contains("1 event: Resource 5ee074b1", StringComparison.Ordinal), "the WebSocket got the frame"),
        .. Expect(Regex.IsMatch(output, "IntegrationDisabled[^✓]*verified ✓"), "the listener got IntegrationDisabled"),
        .. Expect(output.Contains("1008 The integration is Disabled.", StringComparison.Ordinal), "the WebSocket was closed"),
        .. Expect(Regex.IsMatch(output, "IntegrationCreated +Delivered"), "the message list shows what was delivered"),
    ];

    private static void ForgetCachedTool()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var cached = Path.Combine(packages, "connectorevents.cli");
        if (Directory.Exists(cached))
        {
            Directory.Delete(cached, recursive: true);
        }
    }

    private static IEnumerable<string> Expect(bool holds, string what) => holds ? [] : [what];

    /// <summary>The bash blocks of the section "A first tour", in order.</summary>
    private static List<string> TourBlocks(string readme)
    {
        var start = readme.IndexOf("\n## A first tour", StringComparison.Ordinal);
        Assert.True(start >= 0, "the README has no section 'A first tour'");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = readme[start..(end < 0 ? readme.Length : end)];
        var blocks = BashBlock().Matches(section).Select(m => m.Groups["code"].Value.Replace("\r", "", StringComparison.Ordinal)).ToList();
        Assert.True(blocks.Count >= 3, $"the tour has {blocks.Count} bash blocks");
        return blocks;
    }

    [GeneratedRegex("```bash\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex BashBlock();

    private static async Task WaitUntilReadyAsync(ChildProcess server)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + BuildTime;
        while (true)
        {
            Assert.False(server.HasExited, $"the server stopped ({(server.HasExited ? server.ExitCode : 0)}):\n{server.Output}");
            try
            {
                if ((await http.GetAsync("http://127.0.0.1:5080/healthz/ready")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // still building or starting
            }
            Assert.True(DateTime.UtcNow < deadline, $"the server was not ready within {BuildTime}:\n{server.Output}");
            await Task.Delay(500);
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The repository as a fresh clone has it: no build output, data, packages or tools.</summary>
    private static void CopyWorkingTree(string from, string to)
    {
        string[] skipped = ["bin", "obj", ".git", "data", "nupkg", "tools", "publish", "TestResults", "results", ".vs"];
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (var directory in Directory.EnumerateDirectories(from))
        {
            if (!skipped.Contains(Path.GetFileName(directory)))
            {
                CopyWorkingTree(directory, Path.Combine(to, Path.GetFileName(directory)));
            }
        }
    }

}
