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

    [Theory]
    [InlineData("2019-05")]
    [InlineData("2019-12")]
    [InlineData("2021-01")]
    [InlineData("2022-08")]
    [InlineData("2025-08")]
    public async Task A_client_pinned_to_any_version_gets_every_action_that_version_knows_read_into_the_same_typed_data(string versionText)
    {
        var version = ContractVersion.Parse(versionText);
        await using var server = await RunningServer.StartAsync();
        var port = ServerProcess.FreePort();
        var (enterpriseId, clientId, secret) = await server.SeedAsync($"http://127.0.0.1:{port}/webhooks", "Pinned");
        await server.SendAsync(HttpMethod.Patch, $"/api/v1/clients/{clientId}", new { ContractVersion = versionText });
        var service = await server.PostAsync($"/api/v1/enterprises/{enterpriseId}/services", new { Name = "Accommodation" });
        var recorder = new Recorder();
        await using var receiver = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(secret);
            recorder.RegisterAll(o);
        }, port);

        var created = await server.PostAsync("/api/v1/integrations", new { EnterpriseId = enterpriseId, ClientId = clientId, ServiceId = service["Id"]!.ToString() });
        var id = Guid.Parse((string)created["Id"]!);
        string[] commands = ["disable", "enable", "cancel", "reinstate", "regenerate-access-token"];
        string[] actions = [IntegrationActions.Created, IntegrationActions.Disabled, IntegrationActions.Enabled, IntegrationActions.Canceled,
            IntegrationActions.Reinstated, IntegrationActions.ApiKeyCreated, IntegrationActions.Deleted];
        foreach (var command in commands)
        {
            await server.PostAsync($"/api/v1/integrations/{id}/{command}");
        }
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/integrations/{id}");

        var expected = actions.Where(version.KnowsIntegrationAction).ToArray();
        await recorder.WaitForAsync(expected.Length);
        Assert.Equal(expected, recorder.All.Select(s => s.Name));
        var data = Assert.IsType<IntegrationCreatedData>(recorder.All[0].Data);
        Assert.Equal(id, data.Integration.Id);
        Assert.Equal(enterpriseId, data.Enterprise.Id);
        Assert.Equal((string)created["AccessToken"]!, data.AccessToken);
        // Service exists in the contract from 2021-01 on; older versions do not carry it.
        Assert.Equal(version >= ContractVersion.January2021, data.Service is not null);
        Assert.All(recorder.All, s => Assert.True(s.Versions.Contains(version), $"{s.Name} read as {s.Versions}, not {version}"));
        var skipped = await server.GetAsync($"/api/v1/messages?integrationId={id}&status=Skipped");
        Assert.Equal(actions.Length - expected.Length, skipped["Messages"]!.AsArray().Count);
        Assert.Equal(0, receiver.Log.Count(Microsoft.Extensions.Logging.LogLevel.Error));
    }

    [Theory]
    [InlineData("2019-05")]
    [InlineData("2019-12")]
    [InlineData("2021-01")]
    [InlineData("2022-08")]
    [InlineData("2025-08")]
    public async Task Producer_events_reach_the_typed_general_handlers_in_every_version_that_has_a_general_message(string versionText)
    {
        var version = ContractVersion.Parse(versionText);
        await using var server = await RunningServer.StartAsync();
        var port = ServerProcess.FreePort();
        var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = "General Hotel" });
        var enterpriseId = Guid.Parse((string)enterprise["Id"]!);
        var client = await server.PostAsync("/api/v1/clients", new
        {
            Name = "General Receiver",
            GeneralWebhookUrl = $"http://127.0.0.1:{port}/webhooks?Token=general-token",
            ContractVersion = versionText,
        });
        var recorder = new Recorder();
        var messages = new System.Collections.Concurrent.ConcurrentQueue<GeneralMessageReading>();
        await using var receiver = await ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add((string)client["SigningSecret"]!);
            o.UrlToken = "general-token";
            recorder.RegisterAll(o);
            o.OnGeneralMessage((e, _) =>
            {
                messages.Enqueue(e.Data!);
                return Task.CompletedTask;
            });
        }, port);
        var integrationId = await server.CreateIntegrationAsync(enterpriseId, Guid.Parse((string)client["Id"]!));

        var ids = GeneralDiscriminators.All.ToDictionary(d => d, _ => Guid.NewGuid());
        var room = Samples.Resource() with { Id = ids[GeneralDiscriminators.ResourceUpdated] };
        var events = GeneralDiscriminators.All.Select(d => d == GeneralDiscriminators.ResourceUpdated
            ? (object)new { Discriminator = d, Value = new { Id = ids[d] }, Entity = room }
            : new { Discriminator = d, Value = new { Id = ids[d] } }).ToArray();
        await server.PostAsync($"/api/v1/enterprises/{enterpriseId}/events", new { Events = events }, expectedStatus: 202);

        // CustomerAdded brings its CustomerUpdated, right behind it.
        var sent = GeneralDiscriminators.All
            .SelectMany(d => d == GeneralDiscriminators.CustomerAdded
                ? new[] { (d, ids[d]), (GeneralDiscriminators.CustomerUpdated, ids[d]) }
                : [(d, ids[d])])
            .ToArray();
        var expected = sent.Where(e => version.KnowsGeneralDiscriminator(e.Item1)).ToArray();
        if (expected.Length > 0)
        {
            await recorder.WaitForAsync(expected.Length);
        }
        else
        {
            await Task.Delay(500, ReceiverApp.Ct);
        }
        Assert.Equal(expected.Select(e => e.Item1), recorder.All.Select(s => s.Name));
        Assert.Equal(expected.Select(e => e.Item2), recorder.All.Select(s => ((GeneralEventData)s.Data).EntityId));
        Assert.All(recorder.All, s => Assert.True(s.Versions.Contains(version), $"{s.Name} read as {s.Versions}, not {version}"));
        if (version.HasGeneralEntities)
        {
            var message = Assert.Single(messages);
            Assert.Equal(room.Name, Assert.Single(message.Entities!.Resources!).Name);
            Assert.Equal(integrationId, message.IntegrationId);
        }
        var skipped = await server.GetAsync($"/api/v1/messages?integrationId={integrationId}&status=Skipped");
        // The events the version cannot carry are not dropped silently: one skipped General message shows them.
        Assert.Equal(expected.Length == sent.Length ? 0 : 1, skipped["Messages"]!.AsArray().Count(m => (string)m!["Channel"]! == "General"));
        Assert.Equal(0, receiver.Log.Count(Microsoft.Extensions.Logging.LogLevel.Error));
    }
}
