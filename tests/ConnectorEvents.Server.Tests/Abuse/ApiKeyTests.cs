using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests.Abuse;

/// <summary>
/// Keys made through the API: each role opens exactly what it says, a Producer only its enterprises, a deleted key
/// nothing at once; the key is shown once and kept only as a hash (<see cref="SecretsAtRestTests"/> checks the files).
/// </summary>
public sealed class ApiKeyTests : IAsyncLifetime
{
    private RunningServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await RunningServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private async Task<(string Id, string Key)> CreateKeyAsync(object body)
    {
        using var response = await _server.Api.PostAsJsonAsync("/api/v1/api-keys", body, Delivery.Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = JsonNode.Parse(await response.Content.ReadAsStringAsync(Delivery.Ct))!.AsObject();
        Assert.Equal($"/api/v1/api-keys/{created["Id"]}", response.Headers.Location?.ToString());
        return ((string)created["Id"]!, (string)created["Key"]!);
    }

    private HttpClient As(string key)
    {
        var http = new HttpClient { BaseAddress = _server.BaseUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private static async Task<(HttpStatusCode Status, string Body, string? MediaType)> SendAsync(
        HttpClient http, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await http.SendAsync(request, Delivery.Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Delivery.Ct), response.Content.Headers.ContentType?.MediaType);
    }

    private static object Events() => new { Events = new[] { new { Type = "Resource", Id = Guid.NewGuid(), State = "Dirty" } } };

    [Fact]
    public async Task A_reader_reads_everything_and_changes_nothing()
    {
        var (enterpriseId, clientId, _) = await _server.SeedAsync(null);
        var integrationId = await _server.CreateIntegrationAsync(enterpriseId, clientId);
        var (_, key) = await CreateKeyAsync(new { Name = "Dashboard", Role = "Reader" });
        using var reader = As(key);

        foreach (var path in new[] { "/api/v1/enterprises", $"/api/v1/clients/{clientId}", "/api/v1/integrations", $"/api/v1/integrations/{integrationId}",
                     "/api/v1/messages", "/api/v1/cluster", "/api/v1/api-keys" })
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(reader, HttpMethod.Get, path)).Status);
        }
        var refusals = new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Post, "/api/v1/enterprises", new { Name = "Nope" }),
            (HttpMethod.Post, $"/api/v1/integrations/{integrationId}/disable", null),
            (HttpMethod.Delete, $"/api/v1/integrations/{integrationId}", null),
            (HttpMethod.Patch, $"/api/v1/clients/{clientId}", new { Name = "Nope" }),
            (HttpMethod.Post, $"/api/v1/enterprises/{enterpriseId}/events", Events()),
            (HttpMethod.Post, "/api/v1/api-keys", new { Name = "Escalate", Role = "Admin" }),
        };
        foreach (var (method, path, body) in refusals)
        {
            var (status, text, mediaType) = await SendAsync(reader, method, path, body);
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Equal("application/problem+json", mediaType);
            Assert.Contains("Reader", text, StringComparison.Ordinal);
            Assert.DoesNotContain(key, text, StringComparison.Ordinal);
        }
        Assert.Equal("Enabled", (string)(await _server.GetAsync($"/api/v1/integrations/{integrationId}"))["State"]!);
        Assert.Single((await _server.GetAsync("/api/v1/enterprises"))["Enterprises"]!.AsArray());
    }

    [Fact]
    public async Task A_producer_posts_events_only_for_its_enterprises_and_a_refusal_names_neither_key_nor_list()
    {
        var mine = Guid.Parse((string)(await _server.PostAsync("/api/v1/enterprises", new { Name = "Mine" }))["Id"]!);
        var alsoMine = Guid.Parse((string)(await _server.PostAsync("/api/v1/enterprises", new { Name = "Also mine" }))["Id"]!);
        var theirs = Guid.Parse((string)(await _server.PostAsync("/api/v1/enterprises", new { Name = "Theirs" }))["Id"]!);
        var (_, scopedKey) = await CreateKeyAsync(new { Name = "Hotel PMS", Role = "producer", EnterpriseIds = new[] { mine, alsoMine } });
        var (_, everywhereKey) = await CreateKeyAsync(new { Name = "Channel manager", Role = "Producer" });
        using var scoped = As(scopedKey);
        using var everywhere = As(everywhereKey);

        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(scoped, HttpMethod.Post, $"/api/v1/enterprises/{mine}/events", Events())).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(scoped, HttpMethod.Post, $"/api/v1/enterprises/{alsoMine}/events", Events())).Status);
        foreach (var path in new[] { $"/api/v1/enterprises/{theirs}/events", $"/api/v1/enterprises/{Guid.NewGuid()}/events", "/api/v1/enterprises/not-an-id/events" })
        {
            var (status, text, mediaType) = await SendAsync(scoped, HttpMethod.Post, path, Events());
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Equal("application/problem+json", mediaType);
            foreach (var withheld in new[] { scopedKey, mine.ToString(), alsoMine.ToString(), theirs.ToString() })
            {
                Assert.DoesNotContain(withheld, text, StringComparison.OrdinalIgnoreCase);
            }
        }
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(scoped, HttpMethod.Get, $"/api/v1/enterprises/{mine}")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(scoped, HttpMethod.Post, "/api/v1/enterprises", new { Name = "x" })).Status);

        // Without EnterpriseIds a producer reaches every enterprise, and still nothing else.
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(everywhere, HttpMethod.Post, $"/api/v1/enterprises/{theirs}/events", Events())).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(everywhere, HttpMethod.Get, "/api/v1/clients")).Status);
    }

    [Fact]
    public async Task A_key_is_shown_once_listed_by_prefix_with_its_last_use_and_revoked_at_once()
    {
        var (id, key) = await CreateKeyAsync(new { Name = "Ops", Role = "Admin" });
        using var admin = As(key);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(admin, HttpMethod.Post, "/api/v1/enterprises", new { Name = "Made by a made key" })).Status);

        var deadline = DateTime.UtcNow + Delivery.WaitLimit;
        JsonObject listed;
        do
        {
            var list = await _server.GetAsync("/api/v1/api-keys");
            Assert.DoesNotContain(key, list.ToJsonString(), StringComparison.Ordinal);
            listed = list["ApiKeys"]!.AsArray().Single(k => (string)k!["Id"]! == id)!.AsObject();
            Assert.Null(listed["Key"]);
            Assert.Equal(key[..8] + "…", (string)listed["KeyPrefix"]!);
            Assert.Equal("Admin", (string)listed["Role"]!);
            Assert.True(DateTime.UtcNow < deadline, "The key's last use was never recorded.");
        }
        while (listed["LastUsedUtc"] is null);

        using (var response = await _server.Api.DeleteAsync($"/api/v1/api-keys/{id}", Delivery.Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }
        var (status, text, _) = await SendAsync(admin, HttpMethod.Get, "/api/v1/enterprises");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.DoesNotContain(key, text, StringComparison.Ordinal);
        await _server.SendAsync(HttpMethod.Delete, $"/api/v1/api-keys/{id}", expectedStatus: 404);
        Assert.DoesNotContain(id, (await _server.GetAsync("/api/v1/api-keys")).ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"Role":"Reader"}""", "Name")]
    [InlineData("""{"Name":"x"}""", "Role")]
    [InlineData("""{"Name":"x","Role":"Root"}""", "Role")]
    [InlineData("""{"Name":"x","Role":"2"}""", "Role")]
    [InlineData("""{"Name":"x","Role":"Reader","EnterpriseIds":["6f1d7d5e-0b7f-4d67-8f55-3a9d2d1c1e01"]}""", "EnterpriseIds")]
    [InlineData("""{"Name":"x","Role":"Producer","EnterpriseIds":[]}""", "EnterpriseIds")]
    [InlineData("""{"Name":"x","Role":"Producer","EnterpriseIds":["6f1d7d5e-0b7f-4d67-8f55-3a9d2d1c1e01"]}""", "EnterpriseIds[0]")]
    [InlineData("""{"Name":"x","Role":"Producer","EnterpriseIds":["not-an-id"]}""", "EnterpriseIds")]
    public async Task A_bad_key_request_is_a_400_naming_the_field(string body, string field)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await _server.Api.PostAsync("/api/v1/api-keys", content, Delivery.Ct);
        var text = await response.Content.ReadAsStringAsync(Delivery.Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(field, text, StringComparison.Ordinal);
        Assert.Empty((await _server.GetAsync("/api/v1/api-keys"))["ApiKeys"]!.AsArray());
    }

    [Theory]
    [InlineData("POST", "/API/V1/ENTERPRISES/{mine}/EVENTS", HttpStatusCode.Accepted)]
    [InlineData("POST", "/api/v1/enterprises/{mine}/events/", HttpStatusCode.Accepted)]
    [InlineData("POST", "/api/v1/enterprises/{MINE}/events", HttpStatusCode.Accepted)]
    [InlineData("POST", "/api/v1//enterprises/{mine}/events", HttpStatusCode.Forbidden)]
    [InlineData("POST", "/api/v1/enterprises/{mine}%2Fevents", HttpStatusCode.Forbidden)]
    [InlineData("POST", "/api/v1/enterprises/{mine}/../{theirs}/events", HttpStatusCode.Forbidden)]
    [InlineData("POST", "/api/v1/enterprises/{mine}/%2E%2E/{theirs}/events", HttpStatusCode.Forbidden)]
    [InlineData("POST", "/api/v1/enterprises/{theirs}/events?enterpriseId={mine}", HttpStatusCode.Forbidden)]
    [InlineData("GET", "/api/v1/enterprises/{mine}/events", HttpStatusCode.Forbidden)]
    [InlineData("PUT", "/api/v1/enterprises/{mine}/events", HttpStatusCode.Forbidden)]
    [InlineData("POST", "/api/v1/enterprises", HttpStatusCode.Forbidden)]
    public async Task A_producer_key_opens_its_route_in_any_spelling_and_nothing_through_path_tricks(string method, string path, HttpStatusCode expected)
    {
        var mine = (string)(await _server.PostAsync("/api/v1/enterprises", new { Name = "Mine" }))["Id"]!;
        var theirs = (string)(await _server.PostAsync("/api/v1/enterprises", new { Name = "Theirs" }))["Id"]!;
        var (_, key) = await CreateKeyAsync(new { Name = "Scoped", Role = "Producer", EnterpriseIds = new[] { mine } });
        using var producer = As(key);
        var url = path.Replace("{mine}", mine, StringComparison.Ordinal).Replace("{MINE}", mine.ToUpperInvariant(), StringComparison.Ordinal)
            .Replace("{theirs}", theirs, StringComparison.Ordinal);
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(_server.BaseUri + url.TrimStart('/'), UriKind.Absolute))
        {
            Content = JsonContent.Create(Events()),
        };
        using var answer = await producer.SendAsync(request, Delivery.Ct);
        Assert.Equal(expected, answer.StatusCode);
    }

    [Theory]
    [InlineData("HEAD", HttpStatusCode.MethodNotAllowed)] // let through, then no route answers HEAD
    [InlineData("OPTIONS", HttpStatusCode.Forbidden)]
    [InlineData("TRACE", HttpStatusCode.Forbidden)]
    public async Task A_reader_key_is_let_through_only_with_GET_and_HEAD(string method, HttpStatusCode expected)
    {
        var (_, key) = await CreateKeyAsync(new { Name = "Reader", Role = "Reader" });
        using var reader = As(key);
        using var answer = await reader.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/api/v1/enterprises"), Delivery.Ct);
        Assert.Equal(expected, answer.StatusCode);
    }
}
