using System.Net;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>A client pins a contract version; its webhooks take that version's shape, and what it does not know is skipped.</summary>
public sealed class VersionPinningTests
{
    [Fact]
    public async Task A_client_on_2019_05_gets_the_top_level_creation_fields_and_no_unknown_actions()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync();
        var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = "Connector API Hotel" });
        var client = await server.PostAsync("/api/v1/clients", new { Name = "Example", IntegrationWebhookUrl = sink.Url(), ContractVersion = "2019-05" });
        Assert.Equal("2019-05", (string)client["ContractVersion"]!);
        var created = await server.PostAsync("/api/v1/integrations", new
        {
            EnterpriseId = enterprise["Id"]!.ToString(),
            ClientId = client["Id"]!.ToString(),
            Requestor = new { Name = "Mews Integrations", Email = "integrations@example.com" },
        });
        var id = (string)created["Id"]!;
        await server.PostAsync($"/api/v1/integrations/{id}/disable");
        await server.PostAsync($"/api/v1/integrations/{id}/regenerate-access-token");
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/integrations/{id}");
        await sink.WaitForAsync(2);

        // Seed 001's shape: CreatedUtc and IsEnabled beside Action; Data{AccessToken, Enterprise, Requestor, Integration}.
        var expected = "{\"Action\":\"IntegrationCreated\",\"CreatedUtc\":\"" + created["CreatedUtc"] + "\",\"IsEnabled\":true,\"Data\":{" +
            "\"AccessToken\":\"" + created["AccessToken"] + "\",\"Enterprise\":{\"Id\":\"" + enterprise["Id"] + "\",\"Name\":\"Connector API Hotel\"}," +
            "\"Requestor\":{\"Name\":\"Mews Integrations\",\"Email\":\"integrations@example.com\"}," +
            "\"Integration\":{\"Id\":\"" + id + "\",\"Name\":\"Example\"}}}";
        Assert.Equal(expected, sink.Received[0].BodyText);
        Assert.Equal("IntegrationDisabled", (string)JsonNode.Parse(sink.Received[1].Body)!["Action"]!);

        var skipped = (await server.GetAsync($"/api/v1/messages?integrationId={id}&status=Skipped"))["Messages"]!.AsArray();
        Assert.Equal(["IntegrationDeleted", "IntegrationApiKeyCreated"], skipped.Select(m => (string)m!["EventType"]!).ToArray());
        Assert.All(skipped, m => Assert.Contains("pinned to contract version 2019-05", (string)m!["StatusReason"]!, StringComparison.Ordinal));
        await Task.Delay(300);
        Assert.Equal(2, sink.Count);
    }

    [Fact]
    public async Task Changing_the_pinned_version_changes_the_shape_of_later_webhooks()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var service = await server.PostAsync($"/api/v1/enterprises/{enterpriseId}/services", new { Name = "Accommodation" });
        var patched = await server.SendAsync(HttpMethod.Patch, $"/api/v1/clients/{clientId}", new { ContractVersion = "2019-12" });
        Assert.Equal("2019-12", (string)patched["ContractVersion"]!);
        var first = await server.PostAsync("/api/v1/integrations", new { EnterpriseId = enterpriseId, ClientId = clientId, ServiceId = service["Id"]!.ToString() });
        await server.SendAsync(HttpMethod.Patch, $"/api/v1/clients/{clientId}", new { ContractVersion = "2021-01" });
        var second = await server.PostAsync("/api/v1/integrations", new { EnterpriseId = enterpriseId, ClientId = clientId, ServiceId = service["Id"]!.ToString() });
        await server.PostAsync($"/api/v1/integrations/{second["Id"]}/regenerate-access-token");
        await server.SendAsync(HttpMethod.Patch, $"/api/v1/clients/{clientId}", new { ContractVersion = "2025-08" });
        await server.PostAsync($"/api/v1/integrations/{second["Id"]}/regenerate-access-token");
        await sink.WaitForAsync(3);

        // The two integrations are two lanes, delivered side by side: each body is picked by what it is, not by arrival.
        var bodies = sink.Received.Select(r => r.BodyText).ToArray();
        string CreatedOf(JsonObject integration) => Assert.Single(bodies, b =>
            b.Contains("\"Action\":\"IntegrationCreated\"", StringComparison.Ordinal) && b.Contains(integration["Id"]!.ToString(), StringComparison.Ordinal));
        Assert.DoesNotContain("\"Service\"", CreatedOf(first), StringComparison.Ordinal);       // 2019-12: no Service
        Assert.Contains("\"Service\":{\"Id\"", CreatedOf(second), StringComparison.Ordinal);     // 2021-01: Service
        Assert.Single(bodies, b => b.Contains("\"Action\":\"IntegrationApiKeyCreated\"", StringComparison.Ordinal)); // 2025-08 only
        var skipped = await server.GetAsync($"/api/v1/messages?integrationId={second["Id"]}&status=Skipped");
        Assert.Single(skipped["Messages"]!.AsArray());
    }

    [Theory]
    [InlineData("{\"Name\":\"App\",\"ContractVersion\":\"2020-01\"}")]
    [InlineData("{\"Name\":\"App\",\"ContractVersion\":\"latest\"}")]
    [InlineData("{\"Name\":\"App\",\"ContractVersion\":7}")]
    public async Task An_unknown_version_is_refused_with_the_known_ones_listed(string json)
    {
        await using var server = await RunningServer.StartAsync();
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await server.Api.PostAsync("/api/v1/clients", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.NotNull(body["errors"]!["ContractVersion"]);
    }
}
