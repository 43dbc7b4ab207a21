using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

public sealed class LifecycleTests
{
    [Fact]
    public async Task Every_accepted_command_delivers_its_webhook_in_order()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/hook?Token=s3cret"));
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        await server.PostAsync($"/api/v1/integrations/{id}/disable");
        await server.PostAsync($"/api/v1/integrations/{id}/enable");
        await server.PostAsync($"/api/v1/integrations/{id}/cancel");
        await server.PostAsync($"/api/v1/integrations/{id}/reinstate");
        await server.PostAsync($"/api/v1/integrations/{id}/regenerate-access-token");
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/integrations/{id}");

        await sink.WaitForAsync(7);
        var actions = sink.Received.Select(r => (string)JsonNode.Parse(r.Body)!["Action"]!).ToArray();
        Assert.Equal(
            ["IntegrationCreated", "IntegrationDisabled", "IntegrationEnabled", "IntegrationCanceled", "IntegrationReinstated",
             "IntegrationApiKeyCreated", "IntegrationDeleted"],
            actions);
        Assert.All(sink.Received, r => Assert.Equal("?Token=s3cret", r.QueryString));
    }
}
