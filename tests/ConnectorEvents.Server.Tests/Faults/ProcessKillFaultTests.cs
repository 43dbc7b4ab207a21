using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests.Faults;

/// <summary>The server process SIGKILLed again and again under load, restarted on the same data each time.</summary>
public sealed class ProcessKillFaultTests(ITestOutputHelper output)
{
    private const int Kills = 20;
    private const int Integrations = 6;

    [Fact]
    public async Task Fault_20_SIGKILLs_under_load_lose_no_accepted_event_and_resend_with_the_same_webhook_id()
    {
        var total = Stopwatch.StartNew();
        await using var sink = await WebhookSink.StartAsync();
        // A little slow, so kills land while deliveries are in flight.
        sink.Respond = async (context, _) =>
        {
            await Task.Delay(3, context.RequestAborted);
            context.Response.StatusCode = 200;
        };
        var dataDirectory = Path.Combine(Path.GetTempPath(), "ce-fault-kill-" + Guid.NewGuid().ToString("N"));
        var port = ServerProcess.FreePort();
        var settings = new Dictionary<string, string> { ["Delivery__Timeout"] = "00:00:02" };
        if (RunningServer.StorageUnderTest == "Postgres")
        {
            settings["Storage__Provider"] = "Postgres";
            settings["ConnectionStrings__Postgres"] = await PostgresServer.CreateDatabaseAsync();
            // A restarted process keeps its name, so it renews its own leases at once instead of waiting for them to expire.
            settings["Cluster__NodeId"] = "fault-kill-node";
        }
        var kills = new List<long>();
        var acknowledged = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var acceptedEvents = new ConcurrentBag<string>();
        try
        {
            string enterpriseId;
            string generalIntegration;
            var integrationIds = new List<string>();
            await using (var seeder = await ServerProcess.StartAsync(dataDirectory, port, settings))
            {
                using var api = seeder.CreateApiClient();
                enterpriseId = (string)(await Post(api, "/api/v1/enterprises", new { Name = "Kill Hotel" }))["Id"]!;
                // General events go to one integration that stays Enabled (a disabled one receives nothing by design).
                var producerClient = await Post(api, "/api/v1/clients", new
                {
                    Name = "Kill General App",
                    IntegrationWebhookUrl = sink.Url("/g-integration"),
                    GeneralWebhookUrl = sink.Url("/general"),
                });
                generalIntegration = (string)(await Post(api, "/api/v1/integrations",
                    new { EnterpriseId = enterpriseId, ClientId = (string)producerClient["Id"]! }))["Id"]!;
                for (var c = 0; c < 2; c++)
                {
                    var client = await Post(api, "/api/v1/clients", new { Name = $"Kill App {c}", IntegrationWebhookUrl = sink.Url($"/c{c}") });
                    for (var i = 0; i < Integrations / 2; i++)
                    {
                        var integration = await Post(api, "/api/v1/integrations", new { EnterpriseId = enterpriseId, ClientId = (string)client["Id"]! });
                        integrationIds.Add((string)integration["Id"]!);
                        acknowledged[(string)integration["Id"]!] = 0;
                    }
                }
                await seeder.StopAsync(TimeSpan.FromSeconds(10));
                // A stop cancels the sends under way, so it may leave an answered attempt unrecorded, like a kill.
                kills.Add(Stopwatch.GetTimestamp());
            }

            var random = new Random(20261203);
            for (var life = 0; life < Kills; life++)
            {
                var server = await ServerProcess.StartAsync(dataDirectory, port, settings);
                using var api = server.CreateApiClient();
                using var stop = new CancellationTokenSource();
                var lifeAcks = 0;
                var workers = integrationIds.Select(id => Task.Run(async () =>
                {
                    try
                    {
                        // A command cut off by the last kill may have committed: start from the state as stored.
                        var enabled = (string?)(await Get(api, $"/api/v1/integrations/{id}"))["State"] == "Enabled";
                        while (!stop.IsCancellationRequested)
                        {
                            using var response = await api.PostAsync($"/api/v1/integrations/{id}/{(enabled ? "disable" : "enable")}",
                                null, CancellationToken.None);
                            Assert.True(response.IsSuccessStatusCode, $"a toggle answered {(int)response.StatusCode}");
                            enabled = !enabled;
                            acknowledged.AddOrUpdate(id, 1, (_, n) => n + 1);
                            Interlocked.Increment(ref lifeAcks);
                        }
                    }
                    // A kill during the connect can surface as a bare SocketException rather than an HttpRequestException.
                    catch (Exception ex) when (ex is HttpRequestException or System.Net.Sockets.SocketException or IOException or OperationCanceledException)
                    {
                        // killed mid-request: its fate is unknown and it is not counted
                    }
                })).Append(Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var ids = new[] { Guid.NewGuid().ToString(), Guid.NewGuid().ToString() };
                        try
                        {
                            using var response = await api.PostAsJsonAsync($"/api/v1/enterprises/{enterpriseId}/events",
                                new { Events = ids.Select(i => new { Discriminator = "ServiceOrderUpdated", Value = new { Id = i } }).ToArray() },
                                CancellationToken.None);
                            if (!response.IsSuccessStatusCode)
                            {
                                return;
                            }
                            foreach (var i in ids)
                            {
                                acceptedEvents.Add(i);
                            }
                        }
                        catch (Exception ex) when (ex is HttpRequestException or System.Net.Sockets.SocketException or IOException or OperationCanceledException)
                        {
                            return;
                        }
                    }
                })).ToArray();

                // Under load: wait for some acknowledged commands in this life, then kill at a varying moment.
                var lifeClock = Stopwatch.StartNew();
                while (Volatile.Read(ref lifeAcks) < 10 && lifeClock.Elapsed < TimeSpan.FromSeconds(3))
                {
                    await Task.Delay(10, Delivery.Ct);
                }
                await Task.Delay(random.Next(0, 150), Delivery.Ct);
                server.Kill();
                // Stamped once the process is gone: a copy it sent arrived before this.
                kills.Add(Stopwatch.GetTimestamp());
                await stop.CancelAsync();
                await Task.WhenAll(workers);
                Assert.True(server.HasExited);
                await server.DisposeAsync();
            }

            await using var final = await ServerProcess.StartAsync(dataDirectory, port, settings);
            using var finalApi = final.CreateApiClient();
            var details = await DeliveryAccounting.AssertAllAccountedAsync(finalApi, () => sink.Received, new AccountingPolicy
            {
                // A kill between the receiver's answer and the commit of the outcome leaves the attempt unrecorded.
                UnrecordedAttemptsPerMessage = Kills,
                Settle = TimeSpan.FromSeconds(20),
            });

            var received = sink.Received;
            var messages = (await DeliveryAccounting.ListAllAsync(finalApi)).Reverse().ToArray(); // creation order
            foreach (var id in integrationIds)
            {
                var own = messages.Where(m => (string)m["IntegrationId"]! == id && (string)m["Channel"]! == "Integration")
                    .Select(m => (string)m["Id"]!).ToArray();
                // Every acknowledged command has its webhook (an unacknowledged one may have committed too).
                Assert.True(own.Length >= 1 + acknowledged[id], $"{id}: {acknowledged[id]} commands acknowledged, {own.Length - 1} webhooks kept.");
                // FIFO across every restart: first arrivals in the order the webhooks were written.
                var firstArrivals = received.Where(r => own.Contains(r.MessageId)).Select(r => r.MessageId).Distinct().ToArray();
                Assert.Equal(own, firstArrivals);
            }
            // Every accepted General event reached the receiver in some General webhook.
            var generalText = string.Concat(received.Where(r => r.Path == "/general" && r.BodyText.Contains(generalIntegration, StringComparison.Ordinal))
                .Select(r => r.BodyText));
            var missing = acceptedEvents.Where(e => !generalText.Contains(e, StringComparison.Ordinal)).ToArray();
            Assert.True(missing.Length == 0, $"{missing.Length} of {acceptedEvents.Count} accepted General events never arrived.");
            // A second copy only after a kill (or the seeder's stop) that struck between the first copy and the re-send.
            foreach (var copies in received.GroupBy(r => r.MessageId).Where(g => g.Count() > 1))
            {
                var times = copies.Select(r => r.ReceivedTimestamp).ToArray();
                for (var k = 1; k < times.Length; k++)
                {
                    Assert.True(kills.Any(t => t > times[k - 1] && t < times[k]),
                        $"{copies.Key} was received again without a kill in between: {DeliveryAccounting.Describe(details[copies.Key])}");
                }
            }
            output.WriteLine($"{Kills} kills in {total.Elapsed.TotalSeconds:0.0} s: {acknowledged.Values.Sum()} commands and " +
                $"{acceptedEvents.Count} events acknowledged, {details.Count} messages, {received.Count} receipts " +
                $"({received.Count - received.Select(r => r.MessageId).Distinct().Count()} re-deliveries).");
            Assert.True(acknowledged.Values.Sum() >= Kills * 5, "too little load: the kills did not land under traffic");
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

    private static async Task<JsonObject> Get(HttpClient api, string path)
    {
        using var response = await api.GetAsync(path, CancellationToken.None);
        response.EnsureSuccessStatusCode();
        return (JsonObject)JsonNode.Parse(await response.Content.ReadAsStringAsync(CancellationToken.None))!;
    }

    private static async Task<JsonObject> Post(HttpClient api, string path, object body)
    {
        using var response = await api.PostAsJsonAsync(path, body, Delivery.Ct);
        var text = await response.Content.ReadAsStringAsync(Delivery.Ct);
        Assert.True(response.IsSuccessStatusCode, $"POST {path} answered {(int)response.StatusCode}: {text}");
        return (JsonObject)JsonNode.Parse(text)!;
    }
}
