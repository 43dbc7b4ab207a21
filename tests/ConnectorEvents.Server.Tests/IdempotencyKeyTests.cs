using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ConnectorEvents.Server.Hosting;
using ConnectorEvents.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>
/// <c>Idempotency-Key</c> on every management POST: a retry applies nothing and gets the first answer byte for byte (tokens
/// shown once included), with <c>Idempotent-Replayed: true</c>; another request under the key is a 422; a refused command
/// records nothing; keys are per caller; the recorded answers are encrypted at rest. Runs on SQLite and on PostgreSQL.
/// </summary>
public sealed class IdempotencyKeyTests
{
    [Fact]
    public async Task Every_management_POST_sent_twice_with_one_key_is_applied_once_and_answered_the_same()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync();
        var enterprise = await SendTwiceAsync(server, "/api/v1/enterprises", new { Name = "Idempotent Hotel" }, 201);
        var enterpriseId = (string)enterprise["Id"]!;
        var client = await SendTwiceAsync(server, "/api/v1/clients", new { Name = "Idempotent App", IntegrationWebhookUrl = sink.Url("/i?Token=t") }, 201);
        var clientId = (string)client["Id"]!;
        Assert.NotNull((string?)client["ClientToken"]);
        await SendTwiceAsync(server, $"/api/v1/enterprises/{enterpriseId}/services", new { Name = "Spa" }, 201);
        var integration = await SendTwiceAsync(server, "/api/v1/integrations", new { EnterpriseId = enterpriseId, ClientId = clientId, IsEnabled = true }, 201);
        var integrationId = (string)integration["Id"]!;
        await SendTwiceAsync(server, $"/api/v1/integrations/{integrationId}/disable", null, 200);
        await SendTwiceAsync(server, $"/api/v1/integrations/{integrationId}/enable", null, 200);
        await SendTwiceAsync(server, $"/api/v1/integrations/{integrationId}/regenerate-access-token", null, 200);
        await SendTwiceAsync(server, $"/api/v1/clients/{clientId}/rotate-secret", null, 200);
        await SendTwiceAsync(server, $"/api/v1/clients/{clientId}/regenerate-token", null, 200);
        await SendTwiceAsync(server, $"/api/v1/clients/{clientId}/retry-now", null, 202);
        await SendTwiceAsync(server, "/api/v1/api-keys", new { Name = "Idempotent reader", Role = "Reader" }, 201);

        // Each applied once: one of each, and one webhook per state change (created, disabled, enabled, token regenerated).
        Assert.Single((await server.GetAsync("/api/v1/enterprises"))["Enterprises"]!.AsArray());
        Assert.Single((await server.GetAsync("/api/v1/clients"))["Clients"]!.AsArray());
        Assert.Single((await server.GetAsync($"/api/v1/enterprises/{enterpriseId}/services"))["Services"]!.AsArray());
        Assert.Single((await server.GetAsync("/api/v1/integrations"))["Integrations"]!.AsArray());
        Assert.Single((await server.GetAsync("/api/v1/api-keys"))["ApiKeys"]!.AsArray());
        var messages = (await server.GetAsync($"/api/v1/messages?integrationId={integrationId}"))["Messages"]!.AsArray();
        Assert.Equal(4, messages.Count);
        await sink.WaitForAsync(4, Delivery.WaitLimit);

        // Message commands: a delivered message sent again once, a recovery (of nothing Failed here) answered the same.
        var first = (string)messages[^1]!["Id"]!;
        await server.WaitForMessageAsync(first, "Delivered");
        await SendTwiceAsync(server, $"/api/v1/messages/{first}/retry", null, 202);
        await SendTwiceAsync(server, $"/api/v1/clients/{clientId}/recover", new { Since = DateTimeOffset.UtcNow.AddHours(-1) }, 202);
        await sink.WaitForAsync(5, Delivery.WaitLimit);
        await Task.Delay(300, Delivery.Ct);
        Assert.Equal(5, sink.Received.Count);
    }

    [Fact]
    public async Task A_key_reused_for_another_request_is_422_a_refused_command_records_nothing_and_keys_are_per_caller()
    {
        await using var server = await RunningServer.StartAsync();
        var key = NewKey();
        await SendAsync(server.Api, "/api/v1/enterprises", new { Name = "First" }, key, HttpStatusCode.Created);
        // Another body, another route: refused, naming the reuse.
        foreach (var (path, body) in new (string, object)[] { ("/api/v1/enterprises", new { Name = "Second" }), ("/api/v1/clients", new { Name = "First" }) })
        {
            var (status, text, _) = await SendAsync(server.Api, path, body, key, expected: null);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
            Assert.Contains("already used with a different request", text, StringComparison.Ordinal);
        }
        Assert.Single((await server.GetAsync("/api/v1/enterprises"))["Enterprises"]!.AsArray());
        Assert.Empty((await server.GetAsync("/api/v1/clients"))["Clients"]!.AsArray());

        // A refused command (409) records nothing: once the state allows it, the same request with the same key runs.
        var (enterpriseId, clientId, _) = await server.SeedAsync(null);
        var integrationId = await server.CreateIntegrationAsync(enterpriseId, clientId, isEnabled: true);
        var enableKey = NewKey();
        await SendAsync(server.Api, $"/api/v1/integrations/{integrationId}/enable", null, enableKey, HttpStatusCode.Conflict);
        await server.PostAsync($"/api/v1/integrations/{integrationId}/disable", expectedStatus: 200);
        var (_, _, replayed) = await SendAsync(server.Api, $"/api/v1/integrations/{integrationId}/enable", null, enableKey, HttpStatusCode.OK);
        Assert.False(replayed);

        // Another caller's key of the same text is its own: another Admin key sending it applies its request.
        var admin = await server.PostAsync("/api/v1/api-keys", new { Name = "Second admin", Role = "Admin" });
        using var other = new HttpClient { BaseAddress = server.BaseUri };
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)admin["Key"]!);
        var (_, otherText, otherReplayed) = await SendAsync(other, "/api/v1/enterprises", new { Name = "First" }, key, HttpStatusCode.Created);
        Assert.False(otherReplayed);
        Assert.Equal(3, (await server.GetAsync("/api/v1/enterprises"))["Enterprises"]!.AsArray().Count);
        Assert.NotNull((string?)JsonNode.Parse(otherText)!["Id"]);

        // Malformed keys are a 400 naming the header, and apply nothing.
        foreach (var bad in new[] { "", "has space", new string('k', 256), "tab\tkey" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/enterprises") { Content = JsonContent.Create(new { Name = "Bad key" }) };
            request.Headers.TryAddWithoutValidation("Idempotency-Key", bad);
            using var response = await server.Api.SendAsync(request, Delivery.Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("Idempotency-Key", await response.Content.ReadAsStringAsync(Delivery.Ct), StringComparison.Ordinal);
        }
        Assert.Equal(3, (await server.GetAsync("/api/v1/enterprises"))["Enterprises"]!.AsArray().Count);
    }

    [Fact]
    public async Task The_recorded_answer_of_a_create_that_showed_a_token_is_stored_encrypted()
    {
        await using var server = await RunningServer.StartAsync();
        var marker = "Recorded " + Guid.NewGuid().ToString("N");
        var (_, text, _) = await SendAsync(server.Api, "/api/v1/clients", new { Name = marker }, NewKey(), HttpStatusCode.Created);
        var client = JsonNode.Parse(text)!;
        var secrets = new[] { (string)client["ClientToken"]!, ((string)client["SigningSecret"]!)["whsec_".Length..] };

        var connectionString = server.Services.GetRequiredService<IConfiguration>()["ConnectionStrings:Postgres"];
        if (connectionString is null)
        {
            // The SQLite file and its log: the name is there in the clear (the search reads the right files), the secrets are not.
            var files = Directory.GetFiles(server.DataDirectory, "*.db*").Select(File.ReadAllBytes).ToList();
            Assert.Contains(files, f => f.AsSpan().IndexOf(Encoding.UTF8.GetBytes(marker)) >= 0);
            Assert.All(secrets, secret => Assert.DoesNotContain(files, f => f.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) >= 0));
            return;
        }
        // PostgreSQL: the recorded answer as stored.
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Delivery.Ct);
        await using var read = new NpgsqlCommand("SELECT response FROM idempotent_requests", connection);
        var stored = Assert.IsType<byte[]>(await read.ExecuteScalarAsync(Delivery.Ct));
        Assert.NotEmpty(stored);
        Assert.All(secrets, secret => Assert.True(stored.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, "a secret is in the clear"));
        Assert.True(stored.AsSpan().IndexOf(Encoding.UTF8.GetBytes(marker)) < 0, "the answer is not encrypted");
    }

    [Fact]
    public async Task Keys_past_their_retention_are_forgotten_by_the_sweep_unit_by_unit_and_free_again()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // Kept a minute: the clock then passes it without reaching the hosted sweep's first tick (ten minutes), so every key
        // forgotten is counted here.
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Ingest:IdempotencyKeyRetention"] = "00:01:00" }, time);
        var enterpriseId = (string)(await server.PostAsync("/api/v1/enterprises", new { Name = "Keyed" }))["Id"]!;
        object Events(string discriminator) => new { Events = new[] { new { Discriminator = discriminator, Value = new { Id = Guid.NewGuid() } } } };
        // More ingest keys than three units take (IdempotencyKeySweeper.KeysPerUnit of each kind per unit), and command keys.
        var ingestKeys = Enumerable.Range(0, 45).Select(_ => NewKey()).ToList();
        var commandKeys = Enumerable.Range(0, 3).Select(_ => NewKey()).ToList();
        foreach (var key in ingestKeys)
        {
            await SendAsync(server.Api, $"/api/v1/enterprises/{enterpriseId}/events", Events("PaymentUpdated"), key, HttpStatusCode.Accepted);
        }
        foreach (var key in commandKeys)
        {
            await SendAsync(server.Api, "/api/v1/enterprises", new { Name = "First use" }, key, HttpStatusCode.Created);
        }
        var sweeper = server.Services.GetRequiredService<IdempotencyKeySweeper>();

        // Within the minute: remembered, so another request under a key is still refused.
        time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(0, await sweeper.SweepAsync(Delivery.Ct));
        await SendAsync(server.Api, $"/api/v1/enterprises/{enterpriseId}/events", Events("ResourceUpdated"), ingestKeys[0], HttpStatusCode.UnprocessableEntity);
        await SendAsync(server.Api, "/api/v1/enterprises", new { Name = "Second use" }, commandKeys[0], HttpStatusCode.UnprocessableEntity);

        // Past it: every key forgotten, in units of at most 20 of each kind, and free again.
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(ingestKeys.Count + commandKeys.Count, await sweeper.SweepAsync(Delivery.Ct));
        foreach (var key in ingestKeys)
        {
            var (_, _, replayed) = await SendAsync(server.Api, $"/api/v1/enterprises/{enterpriseId}/events", Events("ResourceUpdated"), key, HttpStatusCode.Accepted);
            Assert.False(replayed);
        }
        foreach (var key in commandKeys)
        {
            var (_, _, replayed) = await SendAsync(server.Api, "/api/v1/enterprises", new { Name = "Second use" }, key, HttpStatusCode.Created);
            Assert.False(replayed);
        }
        Assert.Equal(0, await sweeper.SweepAsync(Delivery.Ct)); // the new uses are within their retention
    }

    private static string NewKey() => "key-" + Guid.NewGuid().ToString("N");

    /// <summary>Sends the request twice with one new key; both answers must be equal, the second marked replayed.</summary>
    private static async Task<JsonObject> SendTwiceAsync(RunningServer server, string path, object? body, int status)
    {
        var key = NewKey();
        var (_, first, firstReplayed) = await SendAsync(server.Api, path, body, key, (HttpStatusCode)status);
        var (_, second, secondReplayed) = await SendAsync(server.Api, path, body, key, (HttpStatusCode)status);
        Assert.False(firstReplayed);
        Assert.True(secondReplayed, $"{path}: the retry was not answered from the record");
        Assert.Equal(first, second);
        return first.Length == 0 ? [] : JsonNode.Parse(first)!.AsObject();
    }

    private static async Task<(HttpStatusCode Status, string Body, bool Replayed)> SendAsync(
        HttpClient api, string path, object? body, string key, HttpStatusCode? expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await api.SendAsync(request, Delivery.Ct);
        var text = await response.Content.ReadAsStringAsync(Delivery.Ct);
        if (expected is { } status)
        {
            Assert.True(response.StatusCode == status, $"{path} answered {(int)response.StatusCode}: {text}");
        }
        if (response.StatusCode == HttpStatusCode.Created)
        {
            Assert.NotNull(response.Headers.Location);
        }
        return (response.StatusCode, text, response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Single() == "true");
    }
}
