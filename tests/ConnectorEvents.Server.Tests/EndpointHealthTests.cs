using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary><c>GET /api/v1/clients/{id}/health</c>, and an endpoint failing for <c>Delivery:DisableEndpointAfter</c> disabled.</summary>
public sealed class EndpointHealthTests
{
    [Fact]
    public async Task Health_gives_each_endpoints_state_failures_success_rate_and_attempt_times_over_its_last_attempts()
    {
        var answers = new Queue<int>([200, 200, 500, 200, 500, 500]);
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, answers.Count > 0 ? answers.Dequeue() : 200);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Delivery:RetrySchedule:0"] = "00:00:00.01", ["Delivery:RetrySchedule:1"] = "01:00:00", ["Delivery:Jitter"] = "0",
        });
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/hook?Token=health-secret"));
        var fresh = await server.GetAsync($"/api/v1/clients/{clientId}/health");
        Assert.All(Channels(fresh), c => Assert.Equal("Healthy", (string)c["State"]!));
        Assert.Equal(0, (int)Channel(fresh, "Integration")["Attempts"]!);
        Assert.Null(Channel(fresh, "Integration")["SuccessRate"]);

        // Attempts in order: 200 (created), 200 (disabled), 500 then 200 (enabled, retried), 500 then 500 (disabled again).
        var integration = await server.CreateIntegrationAsync(enterpriseId, clientId);
        await sink.WaitForAsync(1, Delivery.WaitLimit);
        await server.PostAsync($"/api/v1/integrations/{integration}/disable");
        await sink.WaitForAsync(2, Delivery.WaitLimit);
        await server.PostAsync($"/api/v1/integrations/{integration}/enable");
        await sink.WaitForAsync(4, Delivery.WaitLimit);
        await server.PostAsync($"/api/v1/integrations/{integration}/disable");
        await sink.WaitForAsync(6, Delivery.WaitLimit);
        await Delivery.WaitUntilAsync(() => (int)Channel(server.GetAsync($"/api/v1/clients/{clientId}/health").Result, "Integration")["Attempts"]! == 6,
            "six attempts recorded");

        var health = await server.GetAsync($"/api/v1/clients/{clientId}/health");
        Assert.Equal(clientId.ToString(), (string)health["ClientId"]!);
        var endpoint = Channel(health, "Integration");
        Assert.Equal(sink.Url("/hook") + "?…", (string)endpoint["Url"]!);
        Assert.Equal("Failing", (string)endpoint["State"]!);
        Assert.Equal(2, (int)endpoint["ConsecutiveFailures"]!);
        Assert.Equal(3 / 6.0, (double)endpoint["SuccessRate"]!, 3);
        Assert.Equal("HTTP 500", (string)endpoint["LastFailure"]!);
        Assert.NotNull(endpoint["LastSuccessUtc"]);
        Assert.True((DateTimeOffset)endpoint["LastFailureUtc"]! >= (DateTimeOffset)endpoint["LastSuccessUtc"]!);
        Assert.True((double)endpoint["P50Ms"]! > 0);
        Assert.True((double)endpoint["P99Ms"]! >= (double)endpoint["P50Ms"]!);
        var general = Channel(health, "General");
        Assert.Null(general["Url"]);
        Assert.Equal("Healthy", (string)general["State"]!);
        Assert.Equal(0, (int)general["Attempts"]!);
        Assert.DoesNotContain("health-secret", health.ToJsonString(), StringComparison.Ordinal);

        await server.GetAsync($"/api/v1/clients/{Guid.NewGuid()}/health", expectedStatus: 404);
        await server.GetAsync("/api/v1/clients/not-an-id/health", expectedStatus: 404);
    }

    [Fact]
    public async Task An_endpoint_failing_every_attempt_for_DisableEndpointAfter_is_disabled_and_its_messages_wait_for_the_URL()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var failing = true;
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, failing ? 503 : 200);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Delivery:DisableEndpointAfter"] = "01:00:00",
            ["Delivery:RetrySchedule:0"] = "00:25:00", ["Delivery:RetrySchedule:1"] = "00:25:00", ["Delivery:RetrySchedule:2"] = "00:25:00",
            ["Delivery:RetrySchedule:3"] = "00:25:00", ["Delivery:Jitter"] = "0",
        }, time);
        var url = sink.Url("/hook?Token=disable-after");
        var (enterpriseId, clientId, _) = await server.SeedAsync(url);
        var integration = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(integration);
        await server.WaitForAttemptsAsync(messageId, 1);

        // Failures at 0, 25 and 50 minutes: not yet an hour.
        for (var attempt = 2; attempt <= 3; attempt++)
        {
            time.Advance(TimeSpan.FromMinutes(25));
            await server.WaitForAttemptsAsync(messageId, attempt);
        }
        await Delivery.QuietPeriodAsync();
        Assert.True((bool)(await server.GetAsync($"/api/v1/clients/{clientId}"))["IntegrationWebhookEnabled"]!);

        // The fourth, at 75 minutes, is more than an hour after the first failure: the endpoint is disabled.
        time.Advance(TimeSpan.FromMinutes(25));
        await server.WaitForAttemptsAsync(messageId, 4);
        var client = await server.WaitForClientAsync(clientId, c => !(bool)c["IntegrationWebhookEnabled"]!, "its URL disabled");
        Assert.Contains("Every attempt failed for 75 minutes", (string)client["IntegrationWebhookDisabledReason"]!, StringComparison.Ordinal);
        Assert.Equal("Disabled", (string)Channel(await server.GetAsync($"/api/v1/clients/{clientId}/health"), "Integration")["State"]!);
        Assert.Equal("Pending", (string)(await server.MessageAsync(messageId))["Message"]!["Status"]!);

        // Parked: its next retry time passes and nothing is sent, until the URL is set again.
        time.Advance(TimeSpan.FromMinutes(30));
        await Delivery.QuietPeriodAsync(500);
        Assert.Equal(4, sink.Count);
        failing = false;
        await server.SendAsync(HttpMethod.Patch, $"/api/v1/clients/{clientId}", new { IntegrationWebhookUrl = url });
        await server.WaitForMessageAsync(messageId, "Delivered");
        Assert.Equal("Healthy", (string)Channel(await server.GetAsync($"/api/v1/clients/{clientId}/health"), "Integration")["State"]!);
    }

    private static JsonObject[] Channels(JsonObject health) => health["Channels"]!.AsArray().Select(c => c!.AsObject()).ToArray();

    private static JsonObject Channel(JsonObject health, string channel) => Channels(health).Single(c => (string)c["Channel"]! == channel);
}
