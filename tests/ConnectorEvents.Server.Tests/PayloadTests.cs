using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>Bodies the server emits, compared byte for byte with the documented examples (events-wh-integration.md).</summary>
public sealed class PayloadTests
{
    // The documented example, minified; the values the server generates are substituted below.
    private const string DocumentedCreated =
        """{"Action":"IntegrationCreated","Data":{"Enterprise":{"Id":"8865aa96-f62d-4f9b-a912-ab2100f60f42","Name":"Sample Chain Hotel 1"},"Service":{"Id":"9745ce3a-8dbb-4cc0-a550-55f9ff67b242","Name":"Accommodation"},"Requestor":null,"AccessToken":"9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF","CreatedUtc":"2019-12-13T14:42:52Z","IsEnabled":true,"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}}}""";

    [Fact]
    public async Task Every_emitted_body_matches_the_documented_shape_exactly()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync();
        await server.PostAsync("/api/v1/enterprises", new { Id = "8865aa96-f62d-4f9b-a912-ab2100f60f42", Name = "Sample Chain Hotel 1" });
        await server.PostAsync("/api/v1/enterprises/8865aa96-f62d-4f9b-a912-ab2100f60f42/services",
            new { Id = "9745ce3a-8dbb-4cc0-a550-55f9ff67b242", Name = "Accommodation" });
        var client = await server.PostAsync("/api/v1/clients", new { Name = "WebhookTEST", IntegrationWebhookUrl = sink.Url() });
        var created = await server.PostAsync("/api/v1/integrations", new
        {
            EnterpriseId = "8865aa96-f62d-4f9b-a912-ab2100f60f42",
            ClientId = client["Id"]!.ToString(),
            ServiceId = "9745ce3a-8dbb-4cc0-a550-55f9ff67b242",
        });
        var id = (string)created["Id"]!;
        var token = (string)created["AccessToken"]!;
        var createdUtc = (string)created["CreatedUtc"]!;
        await server.PostAsync($"/api/v1/integrations/{id}/disable");
        await server.PostAsync($"/api/v1/integrations/{id}/enable");
        await server.PostAsync($"/api/v1/integrations/{id}/cancel");
        await server.PostAsync($"/api/v1/integrations/{id}/reinstate");
        var regenerated = await server.PostAsync($"/api/v1/integrations/{id}/regenerate-access-token");
        var deleted = await server.SendAsync(HttpMethod.Delete, $"/api/v1/integrations/{id}");
        await sink.WaitForAsync(7);
        var bodies = sink.Received.Select(r => r.BodyText).ToArray();

        var integration = $$"""{"Id":"{{id}}","Name":"WebhookTEST"}""";
        var expected = new[]
        {
            DocumentedCreated
                .Replace("9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF", token, StringComparison.Ordinal)
                .Replace("2019-12-13T14:42:52Z", createdUtc, StringComparison.Ordinal)
                .Replace("9e5e84e9-974d-4f16-9662-ab2200f27cb1", id, StringComparison.Ordinal),
            Wrap("IntegrationDisabled", "\"Integration\":" + integration),
            Wrap("IntegrationEnabled", "\"Integration\":" + integration),
            Wrap("IntegrationCanceled", "\"Integration\":" + integration),
            Wrap("IntegrationReinstated", "\"Integration\":" + integration),
            Wrap("IntegrationApiKeyCreated", "\"Integration\":" + integration + ",\"ApiKey\":\"" + regenerated["AccessToken"] + "\""),
            Wrap("IntegrationDeleted", "\"DeletedUtc\":\"" + deleted["DeletedUtc"] + "\",\"Integration\":" + integration),
        };
        Assert.Equal(expected, bodies);
        Assert.NotEqual(token, (string)regenerated["AccessToken"]!);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", createdUtc);
    }

    private static string Wrap(string action, string data) => "{\"Action\":\"" + action + "\",\"Data\":{" + data + "}}";

    [Fact]
    public async Task A_requestor_is_written_and_a_missing_service_is_null()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        await server.PostAsync("/api/v1/integrations", new
        {
            EnterpriseId = enterpriseId,
            ClientId = clientId,
            IsEnabled = false,
            Requestor = new { Name = "Jane Doe", Email = "jane@example.com" },
        });
        await sink.WaitForAsync(1);
        var data = JsonNode.Parse(sink.Received[0].Body)!["Data"]!;
        Assert.Equal("""{"Name":"Jane Doe","Email":"jane@example.com"}""", data["Requestor"]!.ToJsonString());
        Assert.Contains("\"Service\":null", sink.Received[0].BodyText, StringComparison.Ordinal);
        Assert.False((bool)data["IsEnabled"]!);
    }
}
