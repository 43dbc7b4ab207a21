using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using ConnectorEvents.Testing;

namespace ConnectorEvents.Bench;

/// <summary>One flood: what a probe in another process saw, and what the flood got.</summary>
/// <param name="Collector">What the server's collector did from the flood's start until the probes ended, from its own
/// runtime metrics on <c>/metrics</c>: full collections, time paused, bytes allocated.</param>
public sealed record ReadinessFlood(IReadOnlyList<double> ProbeMs, int ProbesFailed, int Accepted, int Refused, int Other,
    double FloodSeconds, double PeakRssMiB, RuntimeFigures Collector)
{
    public double SlowestMs => ProbeMs.Count == 0 ? double.NaN : ProbeMs.Max();

    public double MedianMs => Report.Median(ProbeMs.Select(p => (double?)p)) ?? double.NaN;
}

public sealed record ReadinessFloodResult(IReadOnlyList<ReadinessFlood> Floods)
{
    public double SlowestMs => Floods.Max(f => f.SlowestMs);

    public int FloodsOver(double ms) => Floods.Count(f => f.SlowestMs > ms || f.ProbesFailed > 0);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Floods.Count} floods: slowest probe {SlowestMs:0.0} ms; floods with a probe over 100 ms or failed: {FloodsOver(100)}");
}

public sealed partial class Scenarios
{
    // ---- 13. Readiness under a flood of large ingest posts --------------------------------------------------------

    /// <summary>The bench's own command line for the probe process: <c>--probe-readiness port count</c>.</summary>
    public const string ProbeReadinessArgument = "--probe-readiness";

    public const int FloodRequests = 200;
    public const int FloodBodyBytes = 4 * 1024 * 1024;
    public const int FloodProbes = 40;

    /// <summary>
    /// <see cref="BenchSettings.ReadinessFloods"/> times: the server as its own process (SQLite, <c>Health:Port</c> set),
    /// a probe process (this program again, <see cref="ProbeReadiness"/>) asking the probe port every 100 ms, and
    /// 200 connections from this process posting a 4 MiB ingest body each at once.
    /// </summary>
    public async Task<ReadinessFloodResult> ReadinessFloodAsync()
    {
        var body = IngestBodies.Snapshots(FloodBodyBytes);
        var floods = new List<ReadinessFlood>();
        for (var i = 0; i < settings.ReadinessFloods; i++)
        {
            var flood = await OneFloodAsync(body).ConfigureAwait(false);
            Progress(string.Create(CultureInfo.InvariantCulture,
                $"  flood {i + 1}: {flood.ProbeMs.Count} probes, slowest {flood.SlowestMs:0.0} ms, median {flood.MedianMs:0.0} ms; {flood.Accepted} taken, {flood.Refused} refused in {flood.FloodSeconds:0.0} s"));
            floods.Add(flood);
        }
        return new ReadinessFloodResult(floods);
    }

    private static async Task<ReadinessFlood> OneFloodAsync(byte[] body)
    {
        var data = ServerProcess.NewDataDirectory("flood");
        var probePort = ServerProcess.FreePort();
        try
        {
            await using var server = await ServerProcess.StartAsync(data, ServerProcess.FreePort(),
                new Dictionary<string, string> { ["Health__Port"] = probePort.ToString(CultureInfo.InvariantCulture) }).ConfigureAwait(false);
            using var api = server.CreateApiClient();
            var enterprise = await api.PostJsonAsync("/api/v1/enterprises", new { Name = "Flooded Hotel" }).ConfigureAwait(false);
            var head = Encoding.ASCII.GetBytes($"POST /api/v1/enterprises/{enterprise["Id"]}/events HTTP/1.1\r\nHost: {server.BaseUri.Authority}\r\n"
                + $"Authorization: Bearer {RunningServer.AdminKey}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n"
                + "Connection: close\r\n\r\n");
            var bench = typeof(Scenarios).Assembly.Location;
            await using var probe = ChildProcess.Start(ChildProcess.Dotnet,
                [bench, ProbeReadinessArgument, probePort.ToString(CultureInfo.InvariantCulture), FloodProbes.ToString(CultureInfo.InvariantCulture)],
                Path.GetDirectoryName(bench)!);
            await probe.WaitForOutputAsync("probing", TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            await Task.Delay(300).ConfigureAwait(false);
            var before = await RuntimeFigures.ScrapeAsync(api).ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            var statuses = await Task.WhenAll(Enumerable.Range(0, FloodRequests).Select(_ => PostRawAsync(server.BaseUri, head, body))).ConfigureAwait(false);
            var floodSeconds = clock.Elapsed.TotalSeconds;
            await probe.WaitForExitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            var collector = await RuntimeFigures.ScrapeAsync(api).ConfigureAwait(false) - before;
            var peak = server.StatusMiB("VmHWM");
            await server.StopAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
            var answers = probe.Output.Split('\n').Where(l => l.StartsWith("probe ", StringComparison.Ordinal))
                .Select(l => l.Split(' ')).Select(p => (Ms: double.Parse(p[1], CultureInfo.InvariantCulture), Status: p[2])).ToList();
            return new ReadinessFlood([.. answers.Where(a => a.Status == "200").Select(a => a.Ms)], answers.Count(a => a.Status != "200"),
                statuses.Count(s => s == 202), statuses.Count(s => s == 503), statuses.Count(s => s is not (202 or 503)), floodSeconds, peak, collector);
        }
        finally
        {
            ServerProcess.DeleteDataDirectory(data);
        }
    }

    /// <summary>Sends the request whole on a connection of its own (the server may answer 503 and close before it is all sent) and reads the status.</summary>
    private static async Task<int> PostRawAsync(Uri server, byte[] head, byte[] body)
    {
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(server.Host, server.Port).ConfigureAwait(false);
            var stream = tcp.GetStream();
            var answer = ReadStatusAsync(stream);
            try
            {
                await stream.WriteAsync(head).ConfigureAwait(false);
                await stream.WriteAsync(body).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // answered and closed early: the answer counts
            }
            return await answer.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            return 0;
        }
    }

    private static async Task<int> ReadStatusAsync(NetworkStream stream)
    {
        var buffer = new byte[64];
        var read = 0;
        while (read < 12)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read)).ConfigureAwait(false);
            if (n == 0)
            {
                return 0;
            }
            read += n;
        }
        return int.Parse(Encoding.ASCII.GetString(buffer, 9, 3), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The probe process: asks <c>/healthz/ready</c> on 127.0.0.1:<paramref name="port"/> <paramref name="count"/> times,
    /// 100 ms apart, each on a new connection with blocking calls, and prints one line per answer: <c>probe ms status</c>.
    /// </summary>
    public static int ProbeReadiness(int port, int count)
    {
        Console.WriteLine("probing");
        var request = "GET /healthz/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"u8.ToArray();
        var buffer = new byte[8192];
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            string status;
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
                socket.Connect(System.Net.IPAddress.Loopback, port);
                socket.Send(request);
                var read = 0;
                int n;
                while (read < buffer.Length && (n = socket.Receive(buffer, read, buffer.Length - read, SocketFlags.None)) > 0)
                {
                    read += n;
                }
                status = read >= 12 ? Encoding.ASCII.GetString(buffer, 9, 3) : "none";
            }
            catch (SocketException)
            {
                status = "error";
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"probe {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.00} {status}"));
            Thread.Sleep(100);
        }
        return 0;
    }
}

/// <summary>The server's collector, as its runtime metrics (the <c>System.Runtime</c> meter) show it on <c>/metrics</c>.</summary>
public sealed record RuntimeFigures(double FullCollections, double PausedMs, double AllocatedMiB)
{
    public static RuntimeFigures operator -(RuntimeFigures after, RuntimeFigures before) => new(
        after.FullCollections - before.FullCollections, after.PausedMs - before.PausedMs, after.AllocatedMiB - before.AllocatedMiB);

    public static async Task<RuntimeFigures> ScrapeAsync(HttpClient api)
    {
        var lines = (await api.GetStringAsync(new Uri("/metrics", UriKind.Relative)).ConfigureAwait(false)).Split('\n');
        double Sample(string name, string labels = "")
        {
            var line = lines.FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(labels, StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"/metrics has no {name}{{{labels}}}.");
            return double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
        }
        return new RuntimeFigures(Sample("dotnet_gc_collections_total", "gc_heap_generation=\"gen2\""),
            Sample("dotnet_gc_pause_time_seconds_total") * 1000, Sample("dotnet_gc_heap_total_allocated_bytes_total") / 1024 / 1024);
    }
}
