using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>
/// SIGKILL or SIGTERM the server process while it delivers, start it again on the same folder, and account for every
/// event.
/// </summary>
public sealed class DurabilityTests(ITestOutputHelper output)
{
    private const int Integrations = 12;

    [Fact]
    public async Task Every_acknowledged_event_is_delivered_after_a_SIGKILL_and_restart()
    {
        await using var sink = await WebhookSink.StartAsync();
        // Slow enough that deliveries are in flight when the kill lands.
        sink.Respond = async (context, _) =>
        {
            await Task.Delay(5);
            context.Response.StatusCode = 200;
        };
        await InFreshDataFolderAsync(async (dataDirectory, port) =>
        {
            var first = await ServerProcess.StartAsync(dataDirectory, port);
            using var api = first.CreateApiClient();
            var enterprise = await Post(api, "/api/v1/enterprises", new { Name = "Kill Hotel" });
            var ids = new List<string>();
            for (var c = 0; c < 3; c++)
            {
                var client = await Post(api, "/api/v1/clients", new { Name = $"App {c}", IntegrationWebhookUrl = sink.Url($"/c{c}") });
                for (var i = 0; i < Integrations / 3; i++)
                {
                    var integration = await Post(api, "/api/v1/integrations", new { EnterpriseId = enterprise["Id"]!.ToString(), ClientId = client["Id"]!.ToString() });
                    ids.Add(integration["Id"]!.ToString());
                }
            }

            // Toggle every integration disable/enable until the kill; count what was acknowledged.
            var acknowledged = new ConcurrentDictionary<string, int>(ids.ToDictionary(id => id, _ => 0));
            using var stop = new CancellationTokenSource();
            var workers = ids.Select(id => Task.Run(async () =>
            {
                var n = 0;
                while (!stop.IsCancellationRequested)
                {
                    var verb = n % 2 == 0 ? "disable" : "enable";
                    try
                    {
                        using var response = await api.PostAsync($"/api/v1/integrations/{id}/{verb}", null, CancellationToken.None);
                        if (!response.IsSuccessStatusCode)
                        {
                            break;
                        }
                        acknowledged[id] = ++n;
                    }
                    catch (HttpRequestException)
                    {
                        break; // the server is gone: this command's fate is unknown, and it is not counted
                    }
                }
            })).ToArray();

            await sink.WaitForAsync(300, TimeSpan.FromSeconds(30));
            first.Kill();
            await stop.CancelAsync();
            await Task.WhenAll(workers);
            Assert.True(first.HasExited);
            await first.DisposeAsync();

            // Anything the sink got before this was sent by the killed process.
            var restartedAt = Stopwatch.GetTimestamp();
            await using var second = await ServerProcess.StartAsync(dataDirectory, port);
            using var api2 = second.CreateApiClient();
            await WaitUntilNothingPending(api2);

            var received = sink.Received;
            var bodiesById = new Dictionary<string, string>();
            foreach (var r in received)
            {
                if (bodiesById.TryGetValue(r.MessageId, out var body))
                {
                    // A re-delivery: same id, same body, and first sent by the killed process (it was in flight).
                    Assert.Equal(body, r.BodyText);
                    var firstSeen = received.First(x => x.MessageId == r.MessageId).ReceivedTimestamp;
                    Assert.True(firstSeen < restartedAt, $"{r.MessageId} was delivered twice although first sent after the restart.");
                }
                else
                {
                    bodiesById.Add(r.MessageId, r.BodyText);
                }
            }

            output.WriteLine($"acknowledged commands: {acknowledged.Values.Sum()}, distinct messages received: {bodiesById.Count}, " +
                $"re-deliveries after the restart: {received.Count - bodiesById.Count}");
            foreach (var id in ids)
            {
                // Distinct messages of this integration, in first-delivery order.
                var actions = received
                    .Where(r => r.BodyText.Contains(id, StringComparison.Ordinal))
                    .DistinctBy(r => r.MessageId)
                    .Select(r => (string)JsonNode.Parse(r.Body)!["Action"]!)
                    .ToList();
                Assert.Equal("IntegrationCreated", actions[0]);
                Assert.True(actions.Count - 1 >= acknowledged[id],
                    $"Integration {id}: {acknowledged[id]} commands acknowledged, {actions.Count - 1} delivered.");
                for (var k = 1; k < actions.Count; k++)
                {
                    Assert.Equal(k % 2 == 1 ? "IntegrationDisabled" : "IntegrationEnabled", actions[k]);
                }
                // Acknowledged state survived the kill.
                var state = (await Get(api2, $"/api/v1/integrations/{id}"))["State"]!.ToString();
                var delivered = actions.Count - 1;
                Assert.Equal(delivered % 2 == 1 ? "Disabled" : "Enabled", state);
            }
        });
    }

    [Fact]
    public async Task A_graceful_stop_lets_the_sends_under_way_finish_so_a_restart_sends_nothing_twice()
    {
        // Answers are held until the stop is under way, so that every send is still in flight when the SIGTERM lands.
        await using var receiver = await HeldReceiver.StartAsync();
        var sink = receiver.Sink;
        await InFreshDataFolderAsync(async (dataDirectory, port) =>
        {
            // A long time-out, so that no send times out while the test gets ready; the dispatcher's log says when sends close.
            var first = await ServerProcess.StartAsync(dataDirectory, port, new Dictionary<string, string>
            {
                ["Delivery__Timeout"] = "00:00:30",
                ["Logging__LogLevel__ConnectorEvents.Core.Delivery.DeliveryDispatcher"] = "Information",
            });
            using var api = first.CreateApiClient();
            var ids = await CreateIntegrationsAsync(api, sink, count: 6);
            // Each lane's IntegrationCreated is in flight; these queue behind it and are not sent before the stop.
            foreach (var id in ids)
            {
                using var disabled = await api.PostAsync($"/api/v1/integrations/{id}/disable", null);
                disabled.EnsureSuccessStatusCode();
            }
            await WaitUntil(() => receiver.Arrived >= ids.Count, "the first sends to arrive");

            var stopping = Stopwatch.StartNew();
            var stopped = first.StopAsync(TimeSpan.FromSeconds(30));
            await first.WaitForOutputAsync($"Stopping delivery: no new send starts; {ids.Count} under way", TimeSpan.FromSeconds(20));
            receiver.Release();
            await stopped;
            output.WriteLine($"stopped in {stopping.ElapsedMilliseconds} ms, exit code {first.ExitCode}");
            Assert.Equal(0, first.ExitCode);
            Assert.Equal(ids.Count, receiver.Arrived); // nothing new started once the stop began
            Assert.Equal(ids.Count, sink.Received.Count);         // and what was under way was answered
            await first.DisposeAsync();

            await using var second = await ServerProcess.StartAsync(dataDirectory, port);
            using var api2 = second.CreateApiClient();
            await WaitUntilNothingPending(api2);

            var received = sink.Received;
            Assert.Equal(2 * ids.Count, received.Count);
            Assert.Equal(received.Count, received.Select(r => r.MessageId).Distinct().Count());
            foreach (var created in received.Take(ids.Count))
            {
                // Its outcome was committed before the process ended: one attempt, delivered.
                var detail = await Get(api2, $"/api/v1/messages/{created.MessageId}");
                Assert.Equal("Delivered", detail["Message"]!["Status"]!.ToString());
                Assert.Single(detail["Attempts"]!.AsArray());
            }
            Assert.All(received.Skip(ids.Count), r => Assert.Equal("IntegrationDisabled", (string)JsonNode.Parse(r.Body)!["Action"]!));
        });
    }

    [Fact]
    public async Task A_send_still_under_way_after_the_grace_period_is_cancelled_and_sent_again_after_the_restart()
    {
        // Answers are held until the first process has exited: past its grace period, well within its time-out.
        await using var receiver = await HeldReceiver.StartAsync();
        var sink = receiver.Sink;
        await InFreshDataFolderAsync(async (dataDirectory, port) =>
        {
            var first = await ServerProcess.StartAsync(dataDirectory, port, new Dictionary<string, string>
            {
                ["Delivery__ShutdownGracePeriod"] = "00:00:00.300",
                ["Delivery__Timeout"] = "00:00:30",
            });
            using var api = first.CreateApiClient();
            var ids = await CreateIntegrationsAsync(api, sink, count: 2);
            await WaitUntil(() => receiver.Arrived >= ids.Count, "the first sends to arrive");

            var stopping = Stopwatch.StartNew();
            await first.StopAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"stopped in {stopping.ElapsedMilliseconds} ms, exit code {first.ExitCode}");
            Assert.Equal(0, first.ExitCode);
            // Cut by the grace period (0.3 s): not left to their 30 s time-out, nor to the host's shutdown time-out.
            Assert.Contains($"{ids.Count} sends were still under way at the end of the grace period", first.RecentOutput, StringComparison.Ordinal);
            await first.DisposeAsync();

            receiver.Release();
            await using var second = await ServerProcess.StartAsync(dataDirectory, port);
            using var api2 = second.CreateApiClient();
            await WaitUntilNothingPending(api2);
            await sink.WaitForAsync(2 * ids.Count);

            // Each cancelled send reached the receiver once before the stop and once again after it, with the same id.
            var byId = sink.Received.GroupBy(r => r.MessageId).ToList();
            Assert.Equal(ids.Count, byId.Count);
            Assert.All(byId, g => Assert.Equal(2, g.Count()));
            foreach (var g in byId)
            {
                var detail = await Get(api2, $"/api/v1/messages/{g.Key}");
                Assert.Equal("Delivered", detail["Message"]!["Status"]!.ToString());
            }
        });
    }

    /// <summary>A receiver that counts arrivals and holds every answer (200) until <see cref="Release"/>.</summary>
    private sealed class HeldReceiver : IAsyncDisposable
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;

        private HeldReceiver(WebhookSink sink)
        {
            Sink = sink;
            sink.Inspect = _ => Interlocked.Increment(ref _arrived);
            sink.Respond = async (context, _) =>
            {
                await _released.Task.WaitAsync(TimeSpan.FromSeconds(30));
                context.Response.StatusCode = 200;
            };
        }

        public WebhookSink Sink { get; }

        public int Arrived => Volatile.Read(ref _arrived);

        public static async Task<HeldReceiver> StartAsync() => new(await WebhookSink.StartAsync());

        /// <summary>Answers what is held, and everything after at once.</summary>
        public void Release() => _released.TrySetResult();

        public ValueTask DisposeAsync() => Sink.DisposeAsync();
    }

    /// <summary>Runs <paramref name="test"/> with a fresh data folder (deleted after) and a free loopback port.</summary>
    private static async Task InFreshDataFolderAsync(Func<string, int, Task> test)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "ce-process-" + Guid.NewGuid().ToString("N"));
        try
        {
            await test(dataDirectory, ServerProcess.FreePort());
        }
        finally
        {
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>One enterprise and client (its URL on the sink), and <paramref name="count"/> integrations of it.</summary>
    private static async Task<List<string>> CreateIntegrationsAsync(HttpClient api, WebhookSink sink, int count)
    {
        var enterprise = await Post(api, "/api/v1/enterprises", new { Name = "Stop Hotel" });
        var client = await Post(api, "/api/v1/clients", new { Name = "Stop App", IntegrationWebhookUrl = sink.Url("/hook") });
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var integration = await Post(api, "/api/v1/integrations", new { EnterpriseId = enterprise["Id"]!.ToString(), ClientId = client["Id"]!.ToString() });
            ids.Add(integration["Id"]!.ToString());
        }
        return ids;
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Waited 20 s for {what}.");
            await Task.Delay(20);
        }
    }

    private static async Task<JsonObject> Post(HttpClient api, string path, object body)
    {
        using var response = await api.PostAsJsonAsync(path, body);
        response.EnsureSuccessStatusCode();
        return (JsonObject)JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static async Task<JsonObject> Get(HttpClient api, string path)
    {
        using var response = await api.GetAsync(path);
        response.EnsureSuccessStatusCode();
        return (JsonObject)JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static async Task WaitUntilNothingPending(HttpClient api)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var page = await Get(api, "/api/v1/messages?status=Pending&limit=1");
            if (page["Messages"]!.AsArray().Count == 0)
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, "Messages were still pending 30 s after the restart.");
            await Task.Delay(50);
        }
    }
}
