using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests.Faults;

/// <summary>
/// The connection to PostgreSQL cut at a COMMIT (a loopback proxy that watches for it): right after it was passed on, so the
/// database committed and only its answer was lost; instead of it, so the database never committed; and after it with the
/// database out of reach long enough that its outcome cannot be learned. Each time the caller is told the truth, the command
/// is applied exactly once, and its webhook is delivered without waiting for any other traffic.
/// </summary>
public sealed class LostCommitTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_command_whose_commit_answer_was_lost_is_answered_201_applied_once_and_its_webhook_sent(bool databaseGotTheCommit)
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var proxied = await ProxiedPostgres.StartAsync();
        var (forwarder, server) = (proxied.Proxy, proxied.Server);
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/lost?Token=t"));
        var name = $"Lost-answer-{Guid.NewGuid():N}";

        forwarder.CutAtCommit(name, forwardCommit: databaseGotTheCommit);
        var created = await server.PostAsync("/api/v1/integrations",
            new { EnterpriseId = enterpriseId, ClientId = clientId, IsEnabled = true, Name = name }, expectedStatus: 201);
        Assert.Equal(1, forwarder.Cuts);

        // Committed: the writer learned so on a fresh connection. Not committed: it ran the command again, once.
        Assert.Single(await IntegrationsNamedAsync(server, name));
        Assert.Equal((string?)created["Id"], (string?)(await IntegrationsNamedAsync(server, name))[0]["Id"]);
        await Delivery.WaitUntilAsync(() => WebhooksAbout(sink, name) == 1,
            "the IntegrationCreated webhook of the command was delivered", TimeSpan.FromSeconds(10));
        await Task.Delay(300, Delivery.Ct);
        Assert.Equal(1, WebhooksAbout(sink, name));
    }

    [Fact]
    public async Task A_commit_whose_outcome_cannot_be_learned_answers_503_that_it_may_have_applied_and_delivers_once_the_database_is_back()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var proxied = await ProxiedPostgres.StartAsync(settings: new() { ["Storage:CommandTimeout"] = "00:00:02" });
        var (forwarder, server) = (proxied.Proxy, proxied.Server);
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/unknown?Token=t"));
        var name = $"Unknown-outcome-{Guid.NewGuid():N}";

        // The COMMIT reaches the database, then the proxy refuses new connections: nobody can ask whether it applied. The
        // change feed's connection stays, so no reconnection of it makes the dispatcher look again.
        forwarder.CutAtCommit(name, forwardCommit: true, thenRefuse: true);
        var command = new { EnterpriseId = enterpriseId, ClientId = clientId, IsEnabled = true, Name = name };
        var key = "create-" + name;
        try
        {
            using var response = await PostWithKeyAsync(server, command, key);
            var body = await response.Content.ReadAsStringAsync(Delivery.Ct);
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {body}");
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Contains("may have been", (string?)JsonNode.Parse(body)!["detail"], StringComparison.Ordinal);
            Assert.Equal(1, forwarder.Cuts);
            Assert.Equal(0, WebhooksAbout(sink, name));
        }
        finally
        {
            // Back: no other command is sent; the writer's probe finds writes working and the dispatcher looks for what it missed.
            forwarder.Start();
        }

        await Delivery.WaitUntilAsync(() => WebhooksAbout(sink, name) == 1,
            "the webhook of the change that had applied was delivered once the database was back", TimeSpan.FromSeconds(15));
        Assert.Single(await IntegrationsNamedAsync(server, name));

        // The client retries as the answer told it to, with the same key: nothing is applied twice, and it learns it applied.
        using (var retry = await PostWithKeyAsync(server, command, key))
        {
            var body = await retry.Content.ReadAsStringAsync(Delivery.Ct);
            Assert.True(retry.StatusCode == HttpStatusCode.Conflict, $"{(int)retry.StatusCode}: {body}");
            Assert.Contains("was applied", body, StringComparison.Ordinal);
        }
        Assert.Single(await IntegrationsNamedAsync(server, name));
        Assert.Equal(1, WebhooksAbout(sink, name));
    }

    private static Task<HttpResponseMessage> PostWithKeyAsync(RunningServer server, object command, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/integrations") { Content = JsonContent.Create(command) };
        request.Headers.Add("Idempotency-Key", key);
        return server.Api.SendAsync(request, Delivery.Ct);
    }

    private static async Task<List<JsonNode>> IntegrationsNamedAsync(RunningServer server, string name)
    {
        var list = await server.GetAsync("/api/v1/integrations?limit=500");
        return [.. list["Integrations"]!.AsArray().Where(i => (string?)i!["Name"] == name).Select(i => i!)];
    }

    private static int WebhooksAbout(WebhookSink sink, string name) =>
        sink.Received.Count(w => Encoding.UTF8.GetString(w.Body).Contains(name, StringComparison.Ordinal));
}
