using ConnectorEvents.Contracts;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Receiver.Tests;

/// <summary>The real server delivering to a receiver app built on the SDK.</summary>
public sealed class EndToEndTests
{
    [Fact]
    public async Task The_server_delivers_every_integration_action_to_typed_handlers_verified_with_the_clients_secret()
    {
        await using var server = await RunningServer.StartAsync();
        var port = ServerProcess.FreePort();
        var (enterpriseId, clientId, secret) = await server.SeedAsync($"http://127.0.0.1:{port}/webhooks?Token=e2e-token", "Receiver");
        var recorder = new Recorder();
        await using var receiver = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(secret);
            o.UrlToken = "e2e-token";
            recorder.RegisterAll(o);
        }, port);

        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        foreach (var command in new[] { "disable", "enable", "cancel", "reinstate", "regenerate-access-token" })
        {
            await server.PostAsync($"/api/v1/integrations/{id}/{command}");
        }
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/integrations/{id}");

        await recorder.WaitForAsync(7);
        var seen = recorder.All;
        Assert.Equal([IntegrationActions.Created, IntegrationActions.Disabled, IntegrationActions.Enabled, IntegrationActions.Canceled,
            IntegrationActions.Reinstated, IntegrationActions.ApiKeyCreated, IntegrationActions.Deleted], seen.Select(s => s.Name));
        var created = Assert.IsType<IntegrationCreatedData>(seen[0].Data);
        Assert.Equal(id, created.Integration.Id);
        Assert.Equal(enterpriseId, created.Enterprise.Id);
        Assert.Equal("Receiver Hotel", created.Enterprise.Name);
        Assert.True(created.IsEnabled);
        Assert.Equal(id, Assert.IsType<IntegrationStateData>(seen[1].Data).Integration.Id);
        var apiKey = Assert.IsType<IntegrationApiKeyCreatedData>(seen[5].Data);
        Assert.NotEqual(created.AccessToken, apiKey.ApiKey);
        Assert.Equal(id, Assert.IsType<IntegrationDeletedData>(seen[6].Data).Integration.Id);
        Assert.Equal(7, seen.Select(s => s.WebhookId).Distinct().Count());
        Assert.All(seen, s => Assert.True(s.Versions.Contains(ContractVersion.Default)));
        Assert.Equal(0, receiver.Log.Count(1));
    }
}
