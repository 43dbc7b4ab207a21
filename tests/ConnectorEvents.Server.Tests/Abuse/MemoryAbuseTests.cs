using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests.Abuse;

/// <summary>
/// Runs alone: each test drives a server process to its limits and reads its memory, which other tests' load would blur.
/// </summary>
[CollectionDefinition(nameof(MemoryAbuseTests), DisableParallelization = true)]
public sealed class MemoryAbuseTestsCollection;

/// <summary>
/// Attacks on the server's memory, against the server as its own OS process (its resident memory read from
/// <c>/proc</c>), with its default settings: many WebSockets that never read while large frames fan out to them, and
/// many large ingest requests at once. The server must stay under 512 MiB resident and keep answering readiness.
/// </summary>
[Collection(nameof(MemoryAbuseTests))]
public sealed class MemoryAbuseTests(ITestOutputHelper output)
{
    private const double MemoryBoundMiB = 512;

    // How fast readiness answers is a figure, reported here and measured apart (docs/security.md), not asserted: on a shared
    // 2-core machine an answer can wait seconds for a core whatever the server does. Asserted: every probe is answered
    // 200 (before the bounds, probes timed out).
    private static readonly TimeSpan TestLimit = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Two_thousand_websockets_that_never_read_under_ten_323_KB_fan_outs_keep_the_server_under_512_MiB_and_ready()
    {
        const int integrations = 20;
        const int socketsPerIntegration = 100;
        const int sockets = integrations * socketsPerIntegration;
        using var cts = Bound();
        RequireOpenFiles(sockets + 1000);
        var data = ServerProcess.NewDataDirectory("memory");
        var probePort = ServerProcess.FreePort();
        await using var server = await ServerProcess.StartAsync(data, ServerProcess.FreePort(), ProbePortSettings(probePort));
        using var api = server.CreateApiClient();
        var enterprise = await api.PostJsonAsync("/api/v1/enterprises", new { Name = "Stalled Hotel" }, cts.Token);
        var client = await api.PostJsonAsync("/api/v1/clients", new { Name = "Stalled App" }, cts.Token);
        var cookies = new List<string>();
        for (var i = 0; i < integrations; i++)
        {
            var integration = await api.PostJsonAsync("/api/v1/integrations",
                new { EnterpriseId = (string)enterprise["Id"]!, ClientId = (string)client["Id"]! }, cts.Token);
            cookies.Add($"ClientToken={client["ClientToken"]}; AccessToken={integration["AccessToken"]}");
        }
        var before = server.StatusMiB("VmRSS");

        var stalled = new StalledWebSocket[sockets];
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, sockets), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cts.Token },
                async (i, ct) => stalled[i] = await StalledWebSocket.ConnectAsync(server.BaseUri, cookies[i % integrations], ct));
            var upgraded = stalled.Count(s => s.Status == 101);
            Assert.True(upgraded == sockets, $"{upgraded} of {sockets} sockets were upgraded; first refusal: "
                + stalled.FirstOrDefault(s => s.Status != 101)?.Head);
            var connected = server.StatusMiB("VmRSS");

            // Ten batches of 1,000 Resource events with 255-character states: about 323 KB each, one frame per socket each.
            using var readiness = ReadinessProbe.Start(server.BaseUri);
            using var probePortReadiness = ReadinessProbe.Start(new Uri($"http://127.0.0.1:{probePort}/"));
            for (var batch = 0; batch < 10; batch++)
            {
                using var content = Json(ResourceEventsBody());
                using var response = await api.PostAsync($"/api/v1/enterprises/{enterprise["Id"]}/events", content, cts.Token);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            // The frames go out from the send loops after each commit; let them pile up against the stalled readers.
            var peakNow = 0.0;
            for (var sample = 0; sample < 50; sample++)
            {
                peakNow = Math.Max(peakNow, server.StatusMiB("VmRSS"));
                await Task.Delay(100, cts.Token);
            }
            var peak = server.StatusMiB("VmHWM");
            readiness.Stop();
            probePortReadiness.Stop();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RSS before the sockets {before:0} MiB; with {sockets} sockets {connected:0} MiB; after ten fan-outs {peakNow:0} MiB; "
                + $"peak (VmHWM) {peak:0} MiB; readiness on the main port {readiness.Summary}; on the probe port {probePortReadiness.Summary}"));
            Assert.True(peak < MemoryBoundMiB, $"The server peaked at {peak:0} MiB resident. {server.RecentOutput}");
            readiness.AssertAnswered();
            probePortReadiness.AssertAnswered();
        }
        finally
        {
            foreach (var socket in stalled)
            {
                socket?.Dispose();
            }
            await server.StopAsync(TimeSpan.FromSeconds(15));
            ServerProcess.DeleteDataDirectory(data);
        }
    }

    [Fact]
    public async Task Two_hundred_parallel_4_MiB_ingest_requests_keep_the_server_under_512_MiB_and_the_excess_gets_503_with_Retry_After()
    {
        const int requests = 200;
        using var cts = Bound();
        RequireOpenFiles(requests + 1000);
        var data = ServerProcess.NewDataDirectory("memory");
        var probePort = ServerProcess.FreePort();
        await using var server = await ServerProcess.StartAsync(data, ServerProcess.FreePort(), ProbePortSettings(probePort));
        using var api = server.CreateApiClient();
        var enterprise = await api.PostJsonAsync("/api/v1/enterprises", new { Name = "Flooded Hotel" }, cts.Token);
        var body = IngestBodies.Snapshots(IngestLimitBytes);
        var before = server.StatusMiB("VmRSS");

        using var producer = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = requests, UseProxy = false })
        {
            BaseAddress = server.BaseUri,
            Timeout = TestLimit,
        };
        producer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RunningServer.AdminKey);
        using var readiness = ReadinessProbe.Start(server.BaseUri);
        using var probePortReadiness = ReadinessProbe.Start(new Uri($"http://127.0.0.1:{probePort}/"));
        using var start = new SemaphoreSlim(0);
        var posts = Enumerable.Range(0, requests).Select(async _ =>
        {
            await start.WaitAsync(cts.Token);
            using var content = Json(body);
            using var response = await producer.PostAsync($"/api/v1/enterprises/{enterprise["Id"]}/events", content, cts.Token);
            return ((int)response.StatusCode, response.Headers.RetryAfter, response.Content.Headers.ContentType?.MediaType,
                await response.Content.ReadAsStringAsync(cts.Token));
        }).ToArray();
        start.Release(requests);
        var answers = await Task.WhenAll(posts);
        var peak = server.StatusMiB("VmHWM");
        readiness.Stop();
        probePortReadiness.Stop();
        var byStatus = answers.GroupBy(a => a.Item1).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RSS before {before:0} MiB; peak (VmHWM) {peak:0} MiB; answers {string.Join(", ", byStatus.Select(p => $"{p.Key}: {p.Value}"))}; "
            + $"readiness on the main port {readiness.Summary}; on the probe port {probePortReadiness.Summary}"));

        Assert.True(peak < MemoryBoundMiB, $"The server peaked at {peak:0} MiB resident. {server.RecentOutput}");
        Assert.All(answers, a => Assert.True(a.Item1 is 202 or 503, $"answered {a.Item1}: {a.Item4}"));
        Assert.True(byStatus.GetValueOrDefault(202) > 0, "no request was taken");
        Assert.True(byStatus.GetValueOrDefault(503) > 0, "no request was refused, so nothing bounded the buffering");
        foreach (var refused in answers.Where(a => a.Item1 == 503))
        {
            Assert.NotNull(refused.Item2);
            Assert.Equal("application/problem+json", refused.Item3);
            Assert.Equal(503, (int)JsonNode.Parse(refused.Item4)!["status"]!);
        }
        readiness.AssertAnswered();
        probePortReadiness.AssertAnswered();
        await server.StopAsync(TimeSpan.FromSeconds(15));
        ServerProcess.DeleteDataDirectory(data);
    }

    private const int IngestLimitBytes = 4 * 1024 * 1024;

    /// <summary>1,000 Resource WebSocket events whose states are 255 characters long.</summary>
    private static byte[] ResourceEventsBody()
    {
        var events = Enumerable.Range(0, 1000).Select(i => new
        {
            Type = "Resource",
            Id = Guid.NewGuid(),
            State = i.ToString("D4", CultureInfo.InvariantCulture) + new string('s', 251),
        });
        return JsonSerializer.SerializeToUtf8Bytes(new { Events = events });
    }

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>Both processes hold a descriptor per socket: the test's soft limit (inherited by the server) must allow them.</summary>
    private static void RequireOpenFiles(int needed)
    {
        var line = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var soft = line["Max open files".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        Assert.True(soft == "unlimited" || long.Parse(soft, CultureInfo.InvariantCulture) >= needed,
            $"This test needs at least {needed} open files per process; 'ulimit -n' is {soft}. Raise it (ulimit -n 65536) and run again.");
    }

    private static CancellationTokenSource Bound()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TestLimit);
        return cts;
    }

    /// <summary>The health probes on a port of their own (Health:Port), on loopback.</summary>
    private static Dictionary<string, string> ProbePortSettings(int port) => new()
    {
        ["Health__Port"] = port.ToString(CultureInfo.InvariantCulture),
        ["Health__Address"] = "127.0.0.1",
    };

    /// <summary>
    /// Asks <c>/healthz/ready</c> every 100 ms on a fresh connection, as an orchestrator's probe would, and keeps every answer.
    /// It runs on a thread of its own with blocking calls, so the test's own load (its thread pool sending the flood) does
    /// not add to the times it reports.
    /// </summary>
    private sealed class ReadinessProbe : IDisposable
    {
        private readonly List<(int Status, TimeSpan Took)> _answers = [];
        private readonly ManualResetEventSlim _stop = new();
        private readonly Thread _thread;

        private ReadinessProbe(Uri baseUri)
        {
            _thread = new Thread(() => Run(baseUri)) { IsBackground = true, Name = "readiness probe" };
        }

        public static ReadinessProbe Start(Uri baseUri)
        {
            var probe = new ReadinessProbe(baseUri);
            probe._thread.Start();
            return probe;
        }

        private void Run(Uri baseUri)
        {
            var url = new Uri(baseUri, "/healthz/ready");
            do
            {
                using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero, UseProxy = false })
                {
                    Timeout = TimeSpan.FromSeconds(10),
                };
                var clock = Stopwatch.StartNew();
                int status;
                try
                {
                    using var response = http.Send(new HttpRequestMessage(HttpMethod.Get, url));
                    status = (int)response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    status = 0;
                }
                catch (TaskCanceledException)
                {
                    status = -1;
                }
                lock (_answers)
                {
                    _answers.Add((status, clock.Elapsed));
                }
            }
            while (!_stop.Wait(100));
        }

        public void Stop()
        {
            _stop.Set();
            _thread.Join();
        }

        public void Dispose()
        {
            Stop();
            _stop.Dispose();
        }

        public string Summary
        {
            get
            {
                lock (_answers)
                {
                    var took = _answers.Select(a => a.Took.TotalMilliseconds).Order().ToArray();
                    return took.Length == 0 ? "not asked" : string.Create(CultureInfo.InvariantCulture,
                        $"{took.Length} answers, median {took[took.Length / 2]:0.0} ms, slowest {took[^1]:0.0} ms, statuses "
                        + $"{string.Join(",", _answers.Select(a => a.Status).Distinct())}; load average {File.ReadAllText("/proc/loadavg")[..14]}");
                }
            }
        }

        /// <summary>Every probe answered, and with a 200 (none timed out or failed).</summary>
        public void AssertAnswered()
        {
            lock (_answers)
            {
                Assert.NotEmpty(_answers);
                Assert.All(_answers, a => Assert.True(a.Status == 200,
                    $"/healthz/ready answered {(a.Status == -1 ? "nothing" : a.Status)} after {a.Took.TotalMilliseconds:0} ms"));
            }
        }
    }
}
