using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>The management API's answers, good and bad, against the real server.</summary>
public sealed class ApiTests : IAsyncLifetime
{
    private RunningServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await RunningServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> Raw(
        HttpMethod method, string path, string? json = null, string contentType = "application/json", string? key = RunningServer.AdminKey)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        using var http = new HttpClient { BaseAddress = _server.BaseUri };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? [] : JsonNode.Parse(text) as JsonObject ?? [], response);
    }

    private static void AssertProblem(JsonObject body, int status)
    {
        Assert.Equal(status, (int)body["status"]!);
        Assert.False(string.IsNullOrEmpty((string?)body["title"]));
    }

    [Fact]
    public async Task Created_resources_come_back_in_PascalCase_and_can_be_read()
    {
        var enterprise = await _server.PostAsync("/api/v1/enterprises", new { name = "Sample Chain Hotel 1", id = "8865aa96-f62d-4f9b-a912-ab2100f60f42" });
        Assert.Equal("8865aa96-f62d-4f9b-a912-ab2100f60f42", (string)enterprise["Id"]!);
        Assert.Equal("Sample Chain Hotel 1", (string)enterprise["Name"]!);
        var service = await _server.PostAsync("/api/v1/enterprises/8865aa96-f62d-4f9b-a912-ab2100f60f42/services", new { Name = "Accommodation" });
        Assert.Equal("8865aa96-f62d-4f9b-a912-ab2100f60f42", (string)service["EnterpriseId"]!);
        var client = await _server.PostAsync("/api/v1/clients", new { Name = "WebhookTEST", IntegrationWebhookUrl = "https://partner.example/hook?Token=abc" });
        Assert.StartsWith("whsec_", (string)client["SigningSecret"]!, StringComparison.Ordinal);
        Assert.Matches("^[0-9A-F]{32}-[0-9A-F]{32}$", (string)client["ClientToken"]!);
        Assert.Equal("https://partner.example/hook?Token=abc", (string)client["IntegrationWebhookUrl"]!);
        Assert.Null(client["GeneralWebhookUrl"]);

        var integration = await _server.PostAsync("/api/v1/integrations", new
        {
            EnterpriseId = enterprise["Id"]!.ToString(),
            ClientId = client["Id"]!.ToString(),
            ServiceId = service["Id"]!.ToString(),
            IsEnabled = false,
            Requestor = new { Name = "Jane Doe", Email = "jane@example.com" },
        });
        Assert.Equal("Disabled", (string)integration["State"]!);
        Assert.Equal("WebhookTEST", (string)integration["Name"]!);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", (string)integration["CreatedUtc"]!);
        var id = (string)integration["Id"]!;
        Assert.StartsWith(Guid.Parse(id).ToString("N").ToUpperInvariant() + "-", (string)integration["AccessToken"]!, StringComparison.Ordinal);

        // Read back: the same, except that the token, shown once at creation, is now only its prefix.
        var read = await _server.GetAsync($"/api/v1/integrations/{id}");
        var withoutToken = integration.DeepClone().AsObject();
        Assert.True(withoutToken.Remove("AccessToken"));
        Assert.Equal(withoutToken.ToJsonString(), read.ToJsonString());
        Assert.Equal(((string)integration["AccessToken"]!)[..37] + "…", (string)read["AccessTokenPrefix"]!);
        var fetchedClient = await _server.GetAsync($"/api/v1/clients/{client["Id"]}");
        Assert.Null(fetchedClient["SigningSecret"]);
        Assert.Null(fetchedClient["ClientToken"]);
        Assert.Equal(((string)client["ClientToken"]!)[..37] + "…", (string)fetchedClient["ClientTokenPrefix"]!);
        var list = await _server.GetAsync($"/api/v1/integrations?enterpriseId={enterprise["Id"]}&state=disabled");
        Assert.Single(list["Integrations"]!.AsArray());
        Assert.Empty((await _server.GetAsync("/api/v1/integrations?state=Enabled"))["Integrations"]!.AsArray());
    }

    [Fact]
    public async Task Messages_are_listed_by_channel_and_creation_time_and_a_bad_time_is_a_400()
    {
        var (enterpriseId, clientId, _) = await _server.SeedAsync(null);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await _server.CreateIntegrationAsync(enterpriseId, clientId); // IntegrationCreated, Skipped (no URL)
        var after = DateTimeOffset.UtcNow.AddSeconds(1);
        string Time(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", System.Globalization.CultureInfo.InvariantCulture));

        var window = await _server.GetAsync($"/api/v1/messages?clientId={clientId}&channel=Integration&since={Time(before)}&until={Time(after)}");
        Assert.Equal("IntegrationCreated", (string)Assert.Single(window["Messages"]!.AsArray())!["EventType"]!);
        Assert.Empty((await _server.GetAsync($"/api/v1/messages?clientId={clientId}&channel=General"))["Messages"]!.AsArray());
        Assert.Empty((await _server.GetAsync($"/api/v1/messages?clientId={clientId}&until={Time(before)}"))["Messages"]!.AsArray());
        Assert.Empty((await _server.GetAsync($"/api/v1/messages?clientId={clientId}&since={Time(after)}"))["Messages"]!.AsArray());

        // Without an offset, as a date alone or with a space too (a general parse read those in the server's time zone).
        foreach (var noOffset in new[] { "2026-12-07T10:00:00", "2026-12-07", "2026-12-07%2010:00:00" })
        {
            var (refused, problem, _) = await Raw(HttpMethod.Get, $"/api/v1/messages?since={noOffset}");
            Assert.True(refused == HttpStatusCode.BadRequest, $"since={noOffset}: {(int)refused}");
            AssertProblem(problem, 400);
            Assert.Contains("since", (string)problem["detail"]!, StringComparison.Ordinal);
        }
        foreach (var withOffset in new[] { "2026-12-07T10:00:00Z", "2026-12-07T10:00:00.123%2B01:00", "2026-12-07T10:00-05:00" })
        {
            var (taken, _, _) = await Raw(HttpMethod.Get, $"/api/v1/messages?until={withOffset}");
            Assert.True(taken == HttpStatusCode.OK, $"until={withOffset}: {(int)taken}");
        }
        var (status, _, _) = await Raw(HttpMethod.Get, "/api/v1/messages?channel=Both");
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Requests_without_the_admin_key_get_401_problem_details()
    {
        var (status, body, response) = await Raw(HttpMethod.Get, "/api/v1/enterprises", key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        AssertProblem(body, 401);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());

        (status, body, _) = await Raw(HttpMethod.Get, "/api/v1/enterprises", key: "wrong-key-wrong-key-wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.DoesNotContain(RunningServer.AdminKey, body.ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"Name\":\"Hotel\",\"Colour\":\"red\"}", "Colour")]
    [InlineData("{}", "Name")]
    [InlineData("{\"Name\":\"   \"}", "Name")]
    [InlineData("{\"Name\":42}", "Name")]
    [InlineData("{\"Name\":\"Hotel\",\"Id\":\"not-a-guid\"}", "Id")]
    public async Task Bad_enterprise_bodies_get_400_naming_the_field(string json, string field)
    {
        var (status, body, _) = await Raw(HttpMethod.Post, "/api/v1/enterprises", json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertProblem(body, 400);
        Assert.NotNull(body["errors"]![field]);
    }

    [Theory]
    [InlineData("{\"Name\":")]
    [InlineData("[1,2]")]
    [InlineData("null")]
    [InlineData("")]
    public async Task Malformed_json_gets_400(string json)
    {
        var (status, body, _) = await Raw(HttpMethod.Post, "/api/v1/clients", json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertProblem(body, 400);
    }

    [Fact]
    public async Task Deeply_nested_json_gets_400()
    {
        var json = "{\"Name\":\"x\",\"Requestor\":" + new string('[', 500) + new string(']', 500) + "}";
        var (status, _, _) = await Raw(HttpMethod.Post, "/api/v1/integrations", json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task A_body_over_64_KiB_gets_413()
    {
        var json = "{\"Name\":\"" + new string('a', 70 * 1024) + "\"}";
        var (status, body, _) = await Raw(HttpMethod.Post, "/api/v1/enterprises", json);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        AssertProblem(body, 413);
    }

    [Fact]
    public async Task A_body_that_is_not_json_gets_415()
    {
        var (status, _, _) = await Raw(HttpMethod.Post, "/api/v1/enterprises", "Name=Hotel", "application/x-www-form-urlencoded");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
    }

    [Theory]
    [InlineData("ftp://partner.example/hook")]
    [InlineData("/relative/hook")]
    [InlineData("https://user:pass@partner.example/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://10.0.0.5/hook")]
    public async Task Client_urls_that_cannot_be_delivered_to_get_400(string url)
    {
        var (status, body, _) = await Raw(HttpMethod.Post, "/api/v1/clients",
            $"{{\"Name\":\"App\",\"IntegrationWebhookUrl\":\"{url}\"}}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(body["errors"]!["IntegrationWebhookUrl"]);
    }

    [Fact]
    public async Task Integration_references_are_checked()
    {
        var (enterpriseId, clientId, _) = await _server.SeedAsync(null);
        var other = await _server.PostAsync("/api/v1/enterprises", new { Name = "Other" });
        var foreignService = await _server.PostAsync($"/api/v1/enterprises/{other["Id"]}/services", new { Name = "Spa" });

        var cases = new (string Json, string Field)[]
        {
            ($"{{\"ClientId\":\"{clientId}\"}}", "EnterpriseId"),
            ($"{{\"EnterpriseId\":\"{enterpriseId}\"}}", "ClientId"),
            ($"{{\"EnterpriseId\":\"{Guid.NewGuid()}\",\"ClientId\":\"{clientId}\"}}", "EnterpriseId"),
            ($"{{\"EnterpriseId\":\"{enterpriseId}\",\"ClientId\":\"{Guid.NewGuid()}\"}}", "ClientId"),
            ($"{{\"EnterpriseId\":\"{enterpriseId}\",\"ClientId\":\"{clientId}\",\"ServiceId\":\"{foreignService["Id"]}\"}}", "ServiceId"),
            ($"{{\"EnterpriseId\":\"{enterpriseId}\",\"ClientId\":\"{clientId}\",\"Requestor\":{{\"Name\":\"Jane\"}}}}", "Requestor.Email"),
            ($"{{\"EnterpriseId\":\"{enterpriseId}\",\"ClientId\":\"{clientId}\",\"Requestor\":{{\"Name\":\"Jane\",\"Email\":\"nope\"}}}}", "Requestor.Email"),
            ($"{{\"EnterpriseId\":\"{enterpriseId}\",\"ClientId\":\"{clientId}\",\"IsEnabled\":\"yes\"}}", "IsEnabled"),
        };
        foreach (var (json, field) in cases)
        {
            var (status, body, _) = await Raw(HttpMethod.Post, "/api/v1/integrations", json);
            Assert.True(status == HttpStatusCode.BadRequest, $"{json} answered {status}");
            Assert.True(body["errors"]?[field] is not null, $"{json} did not name {field}: {body.ToJsonString()}");
        }
        Assert.Empty((await _server.GetAsync("/api/v1/integrations"))["Integrations"]!.AsArray());
    }

    [Fact]
    public async Task Unknown_ids_get_404_problem_details()
    {
        foreach (var path in new[]
                 {
                     $"/api/v1/enterprises/{Guid.NewGuid()}", "/api/v1/enterprises/nope", $"/api/v1/clients/{Guid.NewGuid()}",
                     $"/api/v1/integrations/{Guid.NewGuid()}", "/api/v1/messages/msg_nope",
                 })
        {
            var (status, body, _) = await Raw(HttpMethod.Get, path);
            Assert.Equal(HttpStatusCode.NotFound, status);
            AssertProblem(body, 404);
        }
        var (postStatus, _, _) = await Raw(HttpMethod.Post, $"/api/v1/integrations/{Guid.NewGuid()}/enable");
        Assert.Equal(HttpStatusCode.NotFound, postStatus);
    }

    [Fact]
    public async Task Refused_transitions_get_409_and_emit_nothing()
    {
        var (enterpriseId, clientId, _) = await _server.SeedAsync("https://partner.example/hook");
        var id = await _server.CreateIntegrationAsync(enterpriseId, clientId);
        await _server.SendAsync(HttpMethod.Delete, $"/api/v1/integrations/{id}");
        foreach (var verb in new[] { "enable", "disable", "cancel", "reinstate", "regenerate-access-token" })
        {
            var (status, body, _) = await Raw(HttpMethod.Post, $"/api/v1/integrations/{id}/{verb}");
            Assert.Equal(HttpStatusCode.Conflict, status);
            AssertProblem(body, 409);
            Assert.Contains("Deleted", (string)body["detail"]!, StringComparison.Ordinal);
        }
        var (deleteStatus, _, _) = await Raw(HttpMethod.Delete, $"/api/v1/integrations/{id}");
        Assert.Equal(HttpStatusCode.Conflict, deleteStatus);
        var messages = await _server.GetAsync($"/api/v1/messages?integrationId={id}");
        Assert.Equal(["IntegrationDeleted", "IntegrationCreated"],
            messages["Messages"]!.AsArray().Select(m => (string)m!["EventType"]!).ToArray());
    }

    [Fact]
    public async Task Messages_page_newest_first_with_a_cursor()
    {
        var (enterpriseId, clientId, _) = await _server.SeedAsync(null);
        var id = await _server.CreateIntegrationAsync(enterpriseId, clientId);
        for (var i = 0; i < 6; i++)
        {
            await _server.PostAsync($"/api/v1/integrations/{id}/{(i % 2 == 0 ? "disable" : "enable")}");
        }
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await _server.GetAsync($"/api/v1/messages?integrationId={id}&limit=3" + (cursor is null ? "" : $"&cursor={cursor}"));
            seen.AddRange(page["Messages"]!.AsArray().Select(m => (string)m!["Id"]!));
            cursor = (string?)page["Cursor"];
        }
        while (cursor is not null);
        Assert.Equal(7, seen.Distinct().Count());
        Assert.Equal(seen.OrderDescending(StringComparer.Ordinal), seen);

        // A client without a URL: every message is recorded as skipped, with the reason.
        var skipped = await _server.GetAsync($"/api/v1/messages?clientId={clientId}&status=Skipped&limit=500");
        Assert.Equal(7, skipped["Messages"]!.AsArray().Count);
        Assert.Contains("no Integration-Webhook URL", (string)skipped["Messages"]![0]!["StatusReason"]!, StringComparison.Ordinal);

        foreach (var query in new[] { "status=Sent", "limit=0", "limit=501", "cursor=abc", "clientId=nope" })
        {
            var (status, _, _) = await Raw(HttpMethod.Get, "/api/v1/messages?" + query);
            Assert.Equal(HttpStatusCode.BadRequest, status);
        }
    }

    [Fact]
    public async Task Patch_changes_only_the_fields_given_and_rejects_unknown_ones()
    {
        var (_, clientId, _) = await _server.SeedAsync("https://partner.example/a");
        var patched = await _server.SendAsync(HttpMethod.Patch, $"/api/v1/clients/{clientId}", new { GeneralWebhookUrl = "https://partner.example/general" });
        Assert.Equal("https://partner.example/a", (string)patched["IntegrationWebhookUrl"]!);
        Assert.Equal("https://partner.example/general", (string)patched["GeneralWebhookUrl"]!);
        var cleared = await _server.SendAsync(HttpMethod.Patch, $"/api/v1/clients/{clientId}", new Dictionary<string, object?> { ["IntegrationWebhookUrl"] = null });
        Assert.Null(cleared["IntegrationWebhookUrl"]);
        Assert.Equal("Sample App", (string)cleared["Name"]!);

        var (status, body, _) = await Raw(HttpMethod.Patch, $"/api/v1/clients/{clientId}", "{\"Secret\":\"x\"}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(body["errors"]!["Secret"]);
        (status, _, _) = await Raw(HttpMethod.Patch, $"/api/v1/clients/{clientId}", "{\"Name\":null}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Rotating_the_secret_returns_a_new_one_and_when_the_old_one_expires()
    {
        var (_, clientId, secret) = await _server.SeedAsync(null);
        var rotated = await _server.PostAsync($"/api/v1/clients/{clientId}/rotate-secret");
        Assert.NotEqual(secret, (string)rotated["SigningSecret"]!);
        Assert.StartsWith("whsec_", (string)rotated["SigningSecret"]!, StringComparison.Ordinal);
        var expires = DateTimeOffset.Parse((string)rotated["PreviousSecretsExpireUtc"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromHours(25));
    }

    [Fact]
    public async Task Health_and_openapi_answer()
    {
        using var http = new HttpClient { BaseAddress = _server.BaseUri };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz/ready")).StatusCode);
        var openApi = JsonNode.Parse(await http.GetStringAsync("/openapi/v1.json"))!;
        var paths = openApi["paths"]!.AsObject().Select(p => p.Key).ToList();
        foreach (var path in new[]
                 {
                     "/api/v1/enterprises", "/api/v1/enterprises/{enterpriseId}/services", "/api/v1/clients/{id}/rotate-secret",
                     "/api/v1/integrations/{id}/regenerate-access-token", "/api/v1/messages/{id}/retry",
                     "/api/v1/enterprises/{enterpriseId}/events",
                 })
        {
            Assert.Contains(path, paths);
        }
        // The ingest body is described: an event is a General event or a WebSocket event, as the contract writes them.
        var ingest = openApi["paths"]!["/api/v1/enterprises/{enterpriseId}/events"]!["post"]!;
        Assert.NotNull(ingest["requestBody"]);
        Assert.NotNull(ingest["responses"]!["202"]);
        Assert.NotNull(ingest["responses"]!["422"]);
        var schemas = openApi["components"]!["schemas"]!.AsObject();
        Assert.Contains("GeneralIngestEvent", schemas.Select(p => p.Key));
        Assert.NotNull(openApi["paths"]!["/api/v1/integrations/{id}"]!["patch"]);
    }
}
