using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>
/// Several server processes (real OS processes) on one real PostgreSQL database: they share the delivery work by
/// partition leases, wake each other with LISTEN/NOTIFY, and take over the partitions of one that dies.
/// </summary>
[Collection(nameof(ClusterTests))]
[CollectionDefinition(nameof(ClusterTests), DisableParallelization = true)]
public sealed class ClusterTests(ITestOutputHelper output)
{
    private const int Integrations = 12;

    /// <summary>Short leases so a takeover happens within seconds; a lease must outlast renewal + time-out + 1 s.</summary>
    private static Dictionary<string, string> Settings(string connectionString, string nodeId) => new()
    {
        ["Storage__Provider"] = "Postgres",
        ["ConnectionStrings__Postgres"] = connectionString,
        ["Cluster__NodeId"] = nodeId,
        ["Cluster__RenewInterval"] = "00:00:00.500",
        ["Cluster__LeaseDuration"] = "00:00:04",
        ["Delivery__Timeout"] = "00:00:02",
    };

    private static async Task<ServerProcess[]> StartNodesAsync(string connectionString, int count)
    {
        var nodes = new ServerProcess[count];
        for (var i = 0; i < count; i++)
        {
            nodes[i] = await ServerProcess.StartAsync(TemporaryDataDirectory(), ServerProcess.FreePort(), Settings(connectionString, $"node-{i}"));
        }
        return nodes;
    }

    private static string TemporaryDataDirectory() => Path.Combine(Path.GetTempPath(), "ce-cluster-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Three_processes_share_one_workload_and_one_SIGKILLed_mid_run_loses_nothing()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        await using var sink = await WebhookSink.StartAsync();
        var inFlight = new ConcurrentDictionary<string, int>();
        var overlaps = new ConcurrentBag<string>();
        sink.Respond = async (context, received) =>
        {
            // Two attempts of one message at once would overlap here: each answer takes a few milliseconds.
            if (inFlight.AddOrUpdate(received.MessageId, 1, (_, n) => n + 1) > 1)
            {
                overlaps.Add(received.MessageId);
            }
            await Task.Delay(5);
            inFlight.AddOrUpdate(received.MessageId, 0, (_, n) => n - 1);
            context.Response.StatusCode = 200;
        };

        var nodes = await StartNodesAsync(connectionString, 3);
        try
        {
            var apis = nodes.Select(n => n.CreateApiClient()).ToArray();
            var enterprise = await Post(apis[0], "/api/v1/enterprises", new { Name = "Cluster Hotel" });
            var ids = new List<string>();
            for (var c = 0; c < 3; c++)
            {
                var client = await Post(apis[c], "/api/v1/clients", new { Name = $"App {c}", IntegrationWebhookUrl = sink.Url($"/c{c}") });
                for (var i = 0; i < Integrations / 3; i++)
                {
                    var integration = await Post(apis[(c + i) % 3], "/api/v1/integrations",
                        new { EnterpriseId = enterprise["Id"]!.ToString(), ClientId = client["Id"]!.ToString() });
                    ids.Add(integration["Id"]!.ToString());
                }
            }
            // The process to kill is the one whose partitions hold the most integrations (at least 4 of 12 once all 64
            // are held), so the takeover has work to hand over; with a fixed victim, about 1 run in 90 gave it none.
            var before = await WaitUntilAllPartitionsHeldAsync(apis[0], TimeSpan.FromSeconds(30));
            var held = Enumerable.Range(0, 3).Select(k => Partitions(before, $"node-{k}")).ToArray();
            var integrationsHeld = held.Select(partitions => ids.Count(id => partitions.Contains(DeliveryPartitions.Of(Guid.Parse(id))))).ToArray();
            var victim = Array.IndexOf(integrationsHeld, integrationsHeld.Max());
            var living = Enumerable.Range(0, 3).Where(k => k != victim).ToArray();
            output.WriteLine($"before the kill: {held[0].Count} / {held[1].Count} / {held[2].Count} partitions; node-{victim}, to be killed, holds {integrationsHeld[victim]} integrations");
            Assert.InRange(integrationsHeld[victim], Integrations / 3, Integrations);

            // Each integration is toggled by one worker, each command sent to the next process in turn, so consecutive
            // commands of one integration commit in different processes.
            var alive = new[] { true, true, true };
            var acknowledged = new ConcurrentDictionary<string, int>(ids.ToDictionary(id => id, _ => 0));
            using var stop = new CancellationTokenSource();
            var workers = ids.Select((id, w) => Task.Run(async () =>
            {
                var disabled = false;
                for (var n = w; !stop.IsCancellationRequested; n++)
                {
                    var target = n % 3;
                    if (!Volatile.Read(ref alive[target]))
                    {
                        continue;
                    }
                    try
                    {
                        using var response = await apis[target].PostAsync($"/api/v1/integrations/{id}/{(disabled ? "enable" : "disable")}", null, CancellationToken.None);
                        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                        disabled = !disabled;
                        acknowledged[id]++;
                    }
                    catch (HttpRequestException) when (!Volatile.Read(ref alive[target]))
                    {
                        // Sent to the process being killed: its fate is unknown and it is not counted. Read where it stands.
                        var live = Array.FindIndex(alive, a => a);
                        disabled = (await Get(apis[live], $"/api/v1/integrations/{id}"))["State"]!.ToString() == "Disabled";
                    }
                }
            })).ToArray();

            await sink.WaitForAsync(300, TimeSpan.FromSeconds(60));
            Volatile.Write(ref alive[victim], false);
            nodes[victim].Kill();
            var killedAt = sink.Count;
            await sink.WaitForAsync(killedAt + 300, TimeSpan.FromSeconds(60));
            await stop.CancelAsync();
            await Task.WhenAll(workers);

            // Every message in storage is delivered, including those of the dead process's partitions.
            var messages = await WaitUntilAllDeliveredAsync(apis[living[0]], TimeSpan.FromSeconds(60));
            var received = sink.Received;
            var firstReceipts = received.DistinctBy(r => r.MessageId).ToList();
            Assert.Empty(overlaps);
            Assert.All(messages, m => Assert.Contains(m, firstReceipts.Select(r => r.MessageId)));
            var duplicates = received.Count - firstReceipts.Count;
            output.WriteLine($"acknowledged commands: {acknowledged.Values.Sum()}, messages: {messages.Count}, deliveries: {received.Count}, duplicates: {duplicates}");
            // Only sends under way in the killed process (or whose outcome it had not yet committed) are sent twice.
            Assert.InRange(duplicates, 0, 3 * Integrations);

            foreach (var id in ids)
            {
                // FIFO per integration across processes: distinct messages in first-delivery order alternate as the commands did.
                var actions = firstReceipts.Where(r => r.BodyText.Contains(id, StringComparison.Ordinal))
                    .Select(r => (string)JsonNode.Parse(r.Body)!["Action"]!).ToList();
                Assert.Equal("IntegrationCreated", actions[0]);
                for (var k = 1; k < actions.Count; k++)
                {
                    Assert.Equal(k % 2 == 1 ? "IntegrationDisabled" : "IntegrationEnabled", actions[k]);
                }
                Assert.True(actions.Count - 1 >= acknowledged[id], $"Integration {id}: {acknowledged[id]} acknowledged, {actions.Count - 1} delivered.");
            }

            // The dead process's partitions went to the living.
            var after = await Get(apis[living[0]], "/api/v1/cluster");
            Assert.Empty(Partitions(after, $"node-{victim}"));
            Assert.Equal(DeliveryPartitions.Count, living.Sum(k => Partitions(after, $"node-{k}").Count));
        }
        finally
        {
            foreach (var node in nodes)
            {
                output.WriteLine($"--- {node.BaseUri} (last lines) ---\n{node.RecentOutput}");
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Events_ingested_at_one_process_reach_sockets_and_General_webhooks_served_by_the_others_and_revocations_reach_all()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        await using var sink = await WebhookSink.StartAsync();
        var nodes = await StartNodesAsync(connectionString, 3);
        try
        {
            var apis = nodes.Select(n => n.CreateApiClient()).ToArray();
            var enterprise = (await Post(apis[0], "/api/v1/enterprises", new { Name = "Cluster Hotel" }))["Id"]!.ToString();
            var client = await Post(apis[1], "/api/v1/clients", new { Name = "App", GeneralWebhookUrl = sink.Url("/general") });
            var integrations = new List<JsonObject>();
            for (var i = 0; i < 6; i++)
            {
                integrations.Add(await Post(apis[i % 3], "/api/v1/integrations", new { EnterpriseId = enterprise, ClientId = client["Id"]!.ToString() }));
            }

            // A socket on each of processes 1 and 2; the events are posted to process 0.
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            using var socket1 = await ConnectAsync(nodes[1], client, integrations[0], cts.Token);
            using var socket2 = await ConnectAsync(nodes[2], client, integrations[1], cts.Token);
            var reservation = Guid.NewGuid();
            var resource = Guid.NewGuid();
            var accepted = await apis[0].PostAsJsonAsync($"/api/v1/enterprises/{enterprise}/events", new
            {
                Events = new object[]
                {
                    new { Type = "Resource", Id = reservation, State = "Dirty" },
                    new { Discriminator = "ResourceUpdated", Value = new { Id = resource } },
                },
            }, cts.Token);
            Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);

            foreach (var socket in new[] { socket1, socket2 })
            {
                var frame = JsonNode.Parse(await ReceiveAsync(socket, cts.Token))!;
                Assert.Equal("Resource", (string)frame["Events"]![0]!["Type"]!);
                Assert.Equal(reservation.ToString(), (string)frame["Events"]![0]!["Id"]!);
            }

            // One General webhook per Enabled integration, whichever process holds its partition.
            await sink.WaitForAsync(6, TimeSpan.FromSeconds(30));
            Assert.All(sink.Received, r => Assert.Contains(resource.ToString(), r.BodyText, StringComparison.Ordinal));

            // Disabling the integration at process 0 closes its socket at process 1 with 1008.
            await Post(apis[0], $"/api/v1/integrations/{integrations[0]["Id"]}/disable", null);
            var closed = await ReceiveCloseAsync(socket1, cts.Token);
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, closed);

            // A new client token at process 0 closes the socket that the old one opened at process 2.
            await Post(apis[0], $"/api/v1/clients/{client["Id"]}/regenerate-token", null);
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, await ReceiveCloseAsync(socket2, cts.Token));

            // An API key made at process 0 works at process 2 until process 1 deletes it, then at once no more.
            var key = (string)(await Post(apis[0], "/api/v1/api-keys", new { Name = "Cluster reader", Role = "Reader" }))["Key"]!;
            using var reader = new HttpClient { BaseAddress = nodes[2].BaseUri };
            reader.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await reader.GetAsync("/api/v1/enterprises", cts.Token)).StatusCode);
            var keyId = (await Get(apis[2], "/api/v1/api-keys"))["ApiKeys"]![0]!["Id"]!.ToString();
            Assert.Equal(System.Net.HttpStatusCode.NoContent, (await apis[1].DeleteAsync($"/api/v1/api-keys/{keyId}", cts.Token)).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await reader.GetAsync("/api/v1/enterprises", cts.Token)).StatusCode);
        }
        finally
        {
            foreach (var node in nodes)
            {
                output.WriteLine($"--- {node.BaseUri} (last lines) ---\n{node.RecentOutput}");
                await node.DisposeAsync();
            }
        }
    }

    private static List<int> Partitions(JsonObject cluster, string nodeId) =>
        cluster["Partitions"]!.AsArray().Where(p => (string?)p!["NodeId"] == nodeId).Select(p => (int)p!["Partition"]!).ToList();

    /// <summary>The cluster view once every partition has a holder (processes that just started are still claiming).</summary>
    private static async Task<JsonObject> WaitUntilAllPartitionsHeldAsync(HttpClient api, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var cluster = await Get(api, "/api/v1/cluster");
            if (cluster["Partitions"]!.AsArray().All(p => p!["NodeId"] is not null))
            {
                return cluster;
            }
            Assert.True(DateTime.UtcNow < deadline, "Some partitions still had no holder when the time ran out.");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until no message is Pending and returns the ids of all (every one must then be Delivered).</summary>
    private static async Task<List<string>> WaitUntilAllDeliveredAsync(HttpClient api, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var pending = await Get(api, "/api/v1/messages?status=Pending&limit=1");
            if (pending["Messages"]!.AsArray().Count == 0)
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, "Messages were still pending when the time ran out.");
            await Task.Delay(100);
        }
        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Get(api, "/api/v1/messages?limit=500" + (cursor is null ? "" : $"&cursor={cursor}"));
            foreach (var message in page["Messages"]!.AsArray())
            {
                Assert.Equal("Delivered", (string)message!["Status"]!);
                ids.Add((string)message["Id"]!);
            }
            cursor = (string?)page["Cursor"];
        }
        while (cursor is not null);
        return ids;
    }

    private static async Task<ClientWebSocket> ConnectAsync(ServerProcess node, JsonObject client, JsonObject integration, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Cookie", $"ClientToken={client["ClientToken"]}; AccessToken={integration["AccessToken"]}");
        await socket.ConnectAsync(new Uri($"ws://{node.BaseUri.Authority}/ws/connector"), ct);
        return socket;
    }

    private static async Task<string> ReceiveAsync(ClientWebSocket socket, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        var result = await socket.ReceiveAsync(buffer, ct);
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    private static async Task<WebSocketCloseStatus?> ReceiveCloseAsync(ClientWebSocket socket, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return result.CloseStatus;
            }
        }
    }

    private static async Task<JsonObject> Post(HttpClient api, string path, object? body)
    {
        using var response = body is null ? await api.PostAsync(path, null) : await api.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static async Task<JsonObject> Get(HttpClient api, string path)
    {
        using var response = await api.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }
}
