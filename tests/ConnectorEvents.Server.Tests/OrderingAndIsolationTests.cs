using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>FIFO within an integration; no head-of-line blocking across integrations or across endpoints.</summary>
public sealed class OrderingAndIsolationTests
{
    private sealed record Seen(string Path, string MessageId, string Action, int Status);

    [Fact]
    public async Task A_failing_message_holds_back_its_integration_only_and_order_is_kept()
    {
        var log = new List<Seen>();
        var release = false;
        var headFailures = 0;
        string? headId = null;
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, received) =>
        {
            var status = 200;
            lock (log)
            {
                // The first message ever sent to /a is A's IntegrationCreated: it is the head that fails.
                headId ??= received.Path == "/a" ? received.MessageId : null;
                if (received.MessageId == headId && !release)
                {
                    status = 500;
                    headFailures++;
                }
                log.Add(new Seen(received.Path, received.MessageId, Delivery.ActionOf(received), status));
            }
            return Delivery.Answer(context, status);
        };
        var settings = new Dictionary<string, string?> { ["Delivery:Jitter"] = "0" };
        for (var i = 0; i < 40; i++)
        {
            settings[$"Delivery:RetrySchedule:{i}"] = "00:00:00.200";
        }
        await using var server = await RunningServer.StartAsync(settings);
        var enterprise = Guid.Parse((string)(await server.PostAsync("/api/v1/enterprises", new { Name = "Ordering Hotel" }))["Id"]!);
        var clientA = Guid.Parse((string)(await server.PostAsync("/api/v1/clients", new { Name = "A", IntegrationWebhookUrl = sink.Url("/a") }))["Id"]!);
        var clientB = Guid.Parse((string)(await server.PostAsync("/api/v1/clients", new { Name = "B", IntegrationWebhookUrl = sink.Url("/b") }))["Id"]!);

        // A's first integration: its IntegrationCreated is refused until released; four more commands queue behind it.
        var a1 = await server.CreateIntegrationAsync(enterprise, clientA, isEnabled: false);
        await Delivery.WaitUntilAsync(() => { lock (log) { return headFailures >= 1; } }, "A's head was attempted");
        Assert.Equal(headId, await server.SingleMessageIdAsync(a1));
        foreach (var command in new[] { "enable", "disable", "cancel", "reinstate" })
        {
            await server.PostAsync($"/api/v1/integrations/{a1}/{command}");
        }
        // Meanwhile: another integration of the same client, and an integration of another client.
        var a2 = await server.CreateIntegrationAsync(enterprise, clientA);
        await server.PostAsync($"/api/v1/integrations/{a2}/disable");
        var b = await server.CreateIntegrationAsync(enterprise, clientB);
        await server.PostAsync($"/api/v1/integrations/{b}/disable");
        await server.PostAsync($"/api/v1/integrations/{b}/enable");

        var a1Ids = await server.MessageIdsAsync(a1);
        var a2Ids = await server.MessageIdsAsync(a2);
        var bIds = await server.MessageIdsAsync(b);
        Assert.Equal(5, a1Ids.Length);
        Assert.Equal(headId, a1Ids[0]);

        bool Delivered(IEnumerable<string> ids)
        {
            lock (log)
            {
                return ids.All(id => log.Any(s => s.MessageId == id && s.Status == 200));
            }
        }
        await Delivery.WaitUntilAsync(() => Delivered(bIds) && Delivered(a2Ids), "B and A's second integration are delivered");
        await Delivery.WaitUntilAsync(() => { lock (log) { return headFailures >= 3; } }, "A's head failed three times");
        var head = await server.MessageAsync(headId!);
        Assert.Equal("Pending", (string)head["Message"]!["Status"]!);
        lock (log)
        {
            // While the head fails, nothing behind it in its integration was sent.
            Assert.DoesNotContain(log, s => a1Ids.Skip(1).Contains(s.MessageId));
            release = true;
        }

        await Delivery.WaitUntilAsync(() => Delivered(a1Ids), "A's first integration is delivered");
        foreach (var id in a1Ids.Concat(a2Ids).Concat(bIds))
        {
            await server.WaitForMessageAsync(id, "Delivered");
        }
        Seen[] a1Log;
        lock (log)
        {
            a1Log = log.Where(s => a1Ids.Contains(s.MessageId)).ToArray();
        }
        var firstSuccess = Array.FindIndex(a1Log, s => s.Status == 200);
        Assert.All(a1Log[..firstSuccess], s => Assert.Equal(headId, s.MessageId));
        Assert.Equal(a1Ids, a1Log.Where(s => s.Status == 200).Select(s => s.MessageId));
        Assert.Equal(["IntegrationCreated", "IntegrationEnabled", "IntegrationDisabled", "IntegrationCanceled", "IntegrationReinstated"],
            a1Log.Where(s => s.Status == 200).Select(s => s.Action));
        Assert.All(a1Log, s => Assert.Equal("/a", s.Path));
        Assert.True((int)(await server.MessageAsync(headId!))["Message"]!["AttemptCount"]! >= 4);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(64)]
    public async Task Order_is_kept_when_the_queue_outgrows_the_in_memory_window(int window)
    {
        var log = new List<(string MessageId, int Status)>();
        var failures = 0;
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, received) =>
        {
            lock (log)
            {
                // The first message fails three times; everything else is accepted.
                var status = log.Count == failures && failures < 3 ? 500 : 200;
                failures += status == 500 ? 1 : 0;
                log.Add((received.MessageId, status));
                return Delivery.Answer(context, status);
            }
        };
        var settings = new Dictionary<string, string?>
        {
            ["Delivery:Jitter"] = "0",
            ["Delivery:InMemoryWindowPerIntegration"] = window.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        for (var i = 0; i < 10; i++)
        {
            settings[$"Delivery:RetrySchedule:{i}"] = "00:00:00.300";
        }
        await using var server = await RunningServer.StartAsync(settings);
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        // Commands queue up behind the failing head, and keep coming while the queue drains.
        for (var i = 0; i < 20; i++)
        {
            await server.PostAsync($"/api/v1/integrations/{id}/{(i % 2 == 0 ? "disable" : "enable")}");
        }
        var ids = await server.MessageIdsAsync(id);
        Assert.Equal(21, ids.Length);
        foreach (var messageId in ids)
        {
            await server.WaitForMessageAsync(messageId, "Delivered");
        }
        lock (log)
        {
            Assert.Equal(3, failures);
            Assert.Equal(ids, log.Where(s => s.Status == 200).Select(s => s.MessageId));
            Assert.All(log.Take(4), s => Assert.Equal(ids[0], s.MessageId));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_hanging_endpoint_takes_only_its_own_slots_and_other_clients_are_delivered(bool sameReceiverHost)
    {
        const int slots = 4;
        var stuckNow = 0;
        var stuckMax = 0;
        var stuckCompleted = 0;
        await using var healthy = await WebhookSink.StartAsync();
        await using var other = sameReceiverHost ? null : await WebhookSink.StartAsync();
        // With one receiver host, X and Y differ by path only: still two endpoints with their own slots.
        var stuck = other ?? healthy;
        var stuckUrl = sameReceiverHost ? healthy.Url("/x?Token=x") : stuck.Url("/hook?Token=x");
        var healthyUrl = healthy.Url("/hook?Token=y");
        stuck.Respond = async (context, received) =>
        {
            if (received.Path != "/x" && sameReceiverHost)
            {
                return;
            }
            var now = Interlocked.Increment(ref stuckNow);
            InterlockedMax(ref stuckMax, now);
            await Delivery.Hang(context);
            Interlocked.Decrement(ref stuckNow);
            Interlocked.Increment(ref stuckCompleted);
        };
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Delivery:MaxConcurrencyPerEndpoint"] = slots.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Delivery:Timeout"] = "00:01:00",
            ["Delivery:ShutdownGracePeriod"] = "00:00:00.200", // X's sends still hang when the test ends: cut them at the stop
        });
        var enterprise = Guid.Parse((string)(await server.PostAsync("/api/v1/enterprises", new { Name = "Isolation Hotel" }))["Id"]!);
        var clientX = Guid.Parse((string)(await server.PostAsync("/api/v1/clients", new { Name = "X", IntegrationWebhookUrl = stuckUrl }))["Id"]!);
        var clientY = Guid.Parse((string)(await server.PostAsync("/api/v1/clients", new { Name = "Y", IntegrationWebhookUrl = healthyUrl }))["Id"]!);

        await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => server.CreateIntegrationAsync(enterprise, clientX)));
        await Delivery.WaitUntilAsync(() => Volatile.Read(ref stuckNow) == slots, "X's endpoint holds all its slots");

        var yIntegrations = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => server.CreateIntegrationAsync(enterprise, clientY)));
        await healthy.WaitForAsync(50, Delivery.WaitLimit);
        var yIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var integration in yIntegrations)
        {
            var id = await server.SingleMessageIdAsync(integration);
            yIds.Add(id);
            await server.WaitForMessageAsync(id, "Delivered");
        }
        Assert.Equal(yIds.Order(StringComparer.Ordinal),
            healthy.Received.Where(r => r.Path == "/hook").Select(r => r.MessageId).Order(StringComparer.Ordinal));

        // X stayed stuck the whole time, never beyond its per-endpoint share.
        Assert.Equal(slots, Volatile.Read(ref stuckNow));
        Assert.Equal(slots, Volatile.Read(ref stuckMax));
        Assert.Equal(0, Volatile.Read(ref stuckCompleted));
        var xPending = await server.GetAsync($"/api/v1/messages?clientId={clientX}&status=Pending&limit=500");
        Assert.Equal(40, ((System.Text.Json.Nodes.JsonArray)xPending["Messages"]!).Count);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
