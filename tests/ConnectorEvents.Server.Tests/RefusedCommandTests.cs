using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>A command the state machine refuses answers 409 problem details and writes (and sends) nothing.</summary>
public sealed class RefusedCommandTests
{
    private static async Task<JsonObject> RefusedAsync(RunningServer server, HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, path);
        using var response = await server.Api.SendAsync(request, Delivery.Ct);
        Assert.Equal(409, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>(Delivery.Ct);
        Assert.Equal(409, (int)problem!["status"]!);
        Assert.False(string.IsNullOrEmpty((string?)problem["title"]));
        return problem;
    }

    [Fact]
    public async Task Enabling_an_enabled_integration_is_refused_naming_its_state_and_emits_nothing()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        await server.WaitForMessageAsync(await server.SingleMessageIdAsync(id), "Delivered");

        var problem = await RefusedAsync(server, HttpMethod.Post, $"/api/v1/integrations/{id}/enable");
        Assert.Contains("Enabled", (string)problem["detail"]!, StringComparison.Ordinal);
        problem = await RefusedAsync(server, HttpMethod.Post, $"/api/v1/integrations/{id}/reinstate");
        Assert.Contains("Enabled", (string)problem["detail"]!, StringComparison.Ordinal);

        Assert.Single(await server.MessageIdsAsync(id));
        var integration = await server.GetAsync($"/api/v1/integrations/{id}");
        Assert.Equal("Enabled", (string)integration["State"]!);
        await Delivery.QuietPeriodAsync();
        Assert.Equal(1, sink.Count);
    }

    [Fact]
    public async Task Every_command_on_a_deleted_integration_is_refused_and_emits_nothing()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId, isEnabled: false);
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/integrations/{id}");
        await sink.WaitForAsync(2, Delivery.WaitLimit);

        foreach (var command in new[] { "enable", "disable", "cancel", "reinstate", "regenerate-access-token" })
        {
            var problem = await RefusedAsync(server, HttpMethod.Post, $"/api/v1/integrations/{id}/{command}");
            Assert.Contains("Deleted", (string)problem["detail"]!, StringComparison.Ordinal);
        }
        var again = await RefusedAsync(server, HttpMethod.Delete, $"/api/v1/integrations/{id}");
        Assert.Contains("Deleted", (string)again["detail"]!, StringComparison.Ordinal);

        Assert.Equal(2, (await server.MessageIdsAsync(id)).Length);
        await Delivery.QuietPeriodAsync();
        Assert.Equal(2, sink.Count);
        Assert.Equal(["IntegrationCreated", "IntegrationDeleted"], sink.Received.Select(Delivery.ActionOf));
    }
}
