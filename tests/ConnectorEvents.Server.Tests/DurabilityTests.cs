using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>SIGKILL the server process while it delivers, start it again on the same folder, and account for every event.</summary>
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
        var dataDirectory = Path.Combine(Path.GetTempPath(), "ce-kill-" + Guid.NewGuid().ToString("N"));
        var port = ServerProcess.FreePort();
        try
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
