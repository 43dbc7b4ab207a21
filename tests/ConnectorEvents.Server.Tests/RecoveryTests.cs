using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary><c>POST …/recover</c>: every Failed message of a window goes out again, in its first order, with its webhook-id.</summary>
public sealed class RecoveryTests
{
    [Fact]
    public async Task Recovery_resends_the_Failed_messages_of_the_window_in_order_with_their_ids_and_only_once()
    {
        var failing = true;
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, failing ? 500 : 200);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Delivery:RetrySchedule:0"] = "00:00:00.01", ["Delivery:Jitter"] = "0",
        });
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/hook?Token=recover"));
        var before = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var beforeId = await server.SingleMessageIdAsync(before);
        await server.WaitForMessageAsync(beforeId, "Failed");
        await Task.Delay(1100, Delivery.Ct); // creation times are kept to the second
        var since = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()); // to the second, as messages are

        var a = await server.CreateIntegrationAsync(enterpriseId, clientId);
        await server.PostAsync($"/api/v1/integrations/{a}/disable");
        await server.PostAsync($"/api/v1/integrations/{a}/enable");
        var b = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var ofA = (await server.MessagesAsync(a)).Select(m => (string)m["Id"]!).ToArray(); // oldest first
        var ofB = await server.SingleMessageIdAsync(b);
        foreach (var id in ofA.Append(ofB))
        {
            await server.WaitForMessageAsync(id, "Failed");
        }
        failing = false;
        sink.Clear();

        var receipt = await server.PostAsync($"/api/v1/integrations/{a}/recover", new { Since = since }, expectedStatus: 202);
        Assert.Equal(3, (int)receipt["Recovered"]!);
        Assert.False((bool)receipt["More"]!);
        await sink.WaitForAsync(3, Delivery.WaitLimit);
        Assert.Equal(ofA, sink.Received.Select(r => r.MessageId));
        foreach (var id in ofA)
        {
            await server.WaitForMessageAsync(id, "Delivered");
        }

        // The client's window now holds only B's; the one created before Since stays Failed.
        receipt = await server.PostAsync($"/api/v1/clients/{clientId}/recover", new { Since = since, Channel = "Integration" }, expectedStatus: 202);
        Assert.Equal(1, (int)receipt["Recovered"]!);
        await server.WaitForMessageAsync(ofB, "Delivered");
        receipt = await server.PostAsync($"/api/v1/clients/{clientId}/recover", new { Since = since }, expectedStatus: 202);
        Assert.Equal(0, (int)receipt["Recovered"]!);
        receipt = await server.PostAsync($"/api/v1/clients/{clientId}/recover", new { Since = since, Channel = "General" }, expectedStatus: 202);
        Assert.Equal(0, (int)receipt["Recovered"]!);
        Assert.Equal("Failed", (string)(await server.MessageAsync(beforeId))["Message"]!["Status"]!);
        await Delivery.QuietPeriodAsync();
        Assert.Equal(4, sink.Count);
        Assert.Equal(ofA.Append(ofB), sink.Received.Select(r => r.MessageId));

        // The window until a time: the one before Since alone.
        receipt = await server.PostAsync($"/api/v1/clients/{clientId}/recover",
            new { Since = since.AddMinutes(-10), Until = since }, expectedStatus: 202);
        Assert.Equal(1, (int)receipt["Recovered"]!);
        await server.WaitForMessageAsync(beforeId, "Delivered");
    }

    [Fact]
    public async Task A_recovery_without_Since_with_an_empty_window_or_an_unknown_channel_is_400_and_an_unknown_owner_404()
    {
        await using var server = await RunningServer.StartAsync();
        var (_, clientId, _) = await server.SeedAsync(null);
        var now = DateTimeOffset.UtcNow;
        foreach (var (body, field) in new (object, string)[]
                 {
                     (new { }, "Since"),
                     (new { Since = now, Until = now.AddSeconds(-1) }, "Until"),
                     (new { Since = now, Until = now }, "Until"),
                     (new { Since = now, Channel = "Email" }, "Channel"),
                 })
        {
            var problem = await server.PostAsync($"/api/v1/clients/{clientId}/recover", body, expectedStatus: 400);
            Assert.NotNull(problem["errors"]![field]);
        }
        await server.PostAsync($"/api/v1/clients/{Guid.NewGuid()}/recover", new { Since = now }, expectedStatus: 404);
        await server.PostAsync($"/api/v1/integrations/{Guid.NewGuid()}/recover", new { Since = now }, expectedStatus: 404);
    }
}
