using System.Text.Json.Nodes;
using ConnectorEvents.Core.Operations;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>DELETE of a client and of an enterprise: refused while anything still depends on them, silent once done.</summary>
public sealed class DeletionTests : IAsyncLifetime
{
    private RunningServer _server = null!;
    private WebhookSink _sink = null!;

    public async ValueTask InitializeAsync()
    {
        _sink = await WebhookSink.StartAsync();
        _server = await RunningServer.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _sink.DisposeAsync();
    }

    private static string Detail(JsonObject problem) => (string?)problem["detail"] ?? "";

    [Fact]
    public async Task A_client_and_an_enterprise_are_deleted_only_once_their_integrations_are_Deleted_and_delivered_and_emit_nothing()
    {
        var answer = 503;
        _sink.Respond = (context, _) =>
        {
            context.Response.StatusCode = Volatile.Read(ref answer);
            return Task.CompletedTask;
        };
        var (enterpriseId, clientId, _) = await _server.SeedAsync(_sink.Url());
        await _server.PostAsync($"/api/v1/enterprises/{enterpriseId}/services", new { Name = "Accommodation" });
        var integrationId = await _server.CreateIntegrationAsync(enterpriseId, clientId);

        var held = await _server.SendAsync(HttpMethod.Delete, $"/api/v1/clients/{clientId}", expectedStatus: 409);
        Assert.Equal("The client has 1 integration not Deleted; delete them first.", Detail(held));
        held = await _server.SendAsync(HttpMethod.Delete, $"/api/v1/enterprises/{enterpriseId}", expectedStatus: 409);
        Assert.Equal("The enterprise has 1 integration not Deleted; delete them first.", Detail(held));

        // Deleted, but its IntegrationDeleted (and the IntegrationCreated before it) wait for a receiver that answers 503.
        await _server.SendAsync(HttpMethod.Delete, $"/api/v1/integrations/{integrationId}", expectedStatus: 200);
        held = await _server.SendAsync(HttpMethod.Delete, $"/api/v1/clients/{clientId}", expectedStatus: 409);
        Assert.Equal("The client's integrations have 2 messages still pending delivery; try again once they are delivered or failed.", Detail(held));
        await _server.SendAsync(HttpMethod.Delete, $"/api/v1/enterprises/{enterpriseId}", expectedStatus: 409);

        Volatile.Write(ref answer, 200);
        await _server.PostAsync($"/api/v1/clients/{clientId}/retry-now", expectedStatus: 202);
        var messages = (await _server.GetAsync($"/api/v1/messages?clientId={clientId}"))["Messages"]!.AsArray();
        Assert.Equal(2, messages.Count);
        foreach (var message in messages)
        {
            await _server.WaitForMessageAsync((string)message!["Id"]!, "Delivered");
        }
        var received = _sink.Count;

        await _server.SendAsync(HttpMethod.Delete, $"/api/v1/clients/{clientId}", expectedStatus: 204);
        await _server.GetAsync($"/api/v1/clients/{clientId}", 404);
        await _server.GetAsync($"/api/v1/integrations/{integrationId}", 404);
        await _server.SendAsync(HttpMethod.Delete, $"/api/v1/clients/{clientId}", expectedStatus: 404);
        // Its messages stay as history (by integration and by id), and cannot be sent again: there is nobody to send them to.
        var history = (await _server.GetAsync($"/api/v1/messages?integrationId={integrationId}"))["Messages"]!.AsArray();
        Assert.Equal(2, history.Count);
        var retry = await _server.PostAsync($"/api/v1/messages/{history[0]!["Id"]}/retry", expectedStatus: 409);
        Assert.Equal("The message's integration was deleted, with its client or enterprise.", Detail(retry));

        await _server.SendAsync(HttpMethod.Delete, $"/api/v1/enterprises/{enterpriseId}", expectedStatus: 204);
        await _server.GetAsync($"/api/v1/enterprises/{enterpriseId}", 404);
        await _server.GetAsync($"/api/v1/enterprises/{enterpriseId}/services", 404);
        await _server.SendAsync(HttpMethod.Delete, $"/api/v1/enterprises/{enterpriseId}", expectedStatus: 404);

        // Nothing was emitted: no new message anywhere, nothing more at the receiver.
        var all = (await _server.GetAsync("/api/v1/messages?limit=100"))["Messages"]!.AsArray();
        Assert.Equal(2, all.Count);
        Assert.Equal(received, _sink.Count);
    }

    [Fact]
    public async Task A_message_of_a_deleted_enterprise_is_kept_but_never_sent_again_while_its_client_stays()
    {
        var (enterpriseId, clientId, _) = await _server.SeedAsync(_sink.Url());
        var integrationId = await _server.CreateIntegrationAsync(enterpriseId, clientId);
        await _server.SendAsync(HttpMethod.Delete, $"/api/v1/integrations/{integrationId}", expectedStatus: 200);
        var messages = (await _server.GetAsync($"/api/v1/messages?integrationId={integrationId}"))["Messages"]!.AsArray();
        foreach (var message in messages)
        {
            await _server.WaitForMessageAsync((string)message!["Id"]!, "Delivered");
        }

        await _server.SendAsync(HttpMethod.Delete, $"/api/v1/enterprises/{enterpriseId}", expectedStatus: 204);

        await _server.GetAsync($"/api/v1/clients/{clientId}");
        var retry = await _server.PostAsync($"/api/v1/messages/{messages[0]!["Id"]}/retry", expectedStatus: 409);
        Assert.Equal("The message's integration was deleted, with its client or enterprise.", Detail(retry));
        Assert.Equal("Delivered", (string?)(await _server.GetAsync($"/api/v1/messages/{messages[0]!["Id"]}"))["Message"]!["Status"]);
    }

    [Fact]
    public async Task Deleting_what_the_server_keeps_or_an_id_that_is_not_one_is_a_clear_4xx()
    {
        var kept = await _server.SendAsync(HttpMethod.Delete, $"/api/v1/clients/{OperationalEvents.ClientId}", expectedStatus: 409);
        Assert.Equal("The server keeps this client for its operational webhooks.", Detail(kept));
        kept = await _server.SendAsync(HttpMethod.Delete, $"/api/v1/enterprises/{OperationalEvents.EnterpriseId}", expectedStatus: 409);
        Assert.Equal("The server keeps this enterprise for its operational webhooks.", Detail(kept));
        await _server.SendAsync(HttpMethod.Delete, "/api/v1/clients/not-an-id", expectedStatus: 404);
        await _server.SendAsync(HttpMethod.Delete, $"/api/v1/enterprises/{Guid.NewGuid()}", expectedStatus: 404);
    }
}
