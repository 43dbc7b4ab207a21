using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConnectorEvents.Contracts;
using ConnectorEvents.Server.Tests.Support;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

public sealed partial class OpenApiDocumentTests
{
    /// <summary>
    /// A real client takes every Integration Webhook action, a General message of every discriminator and a WebSocket frame of
    /// every type; each body as received validates against its entry of the document, and carries the headers it declares.
    /// </summary>
    [Fact]
    public async Task Real_webhooks_frames_and_the_contract_samples_validate_against_the_webhooks_section()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var sink = await WebhookSink.StartAsync();
        var enterprise = await _server.PostAsync("/api/v1/enterprises", new { Name = "Webhook Hotel" });
        var client = await _server.PostAsync("/api/v1/clients",
            new { Name = "Webhook App", IntegrationWebhookUrl = sink.Url("/integration"), GeneralWebhookUrl = sink.Url("/general") });
        var enterpriseId = (string)enterprise["Id"]!;
        var integration = await _server.PostAsync("/api/v1/integrations", new { EnterpriseId = enterpriseId, ClientId = (string)client["Id"]! });
        var integrationId = (string)integration["Id"]!;

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Cookie", $"ClientToken={client["ClientToken"]}; AccessToken={integration["AccessToken"]}");
        await socket.ConnectAsync(new UriBuilder(_server.BaseUri) { Scheme = "ws", Path = "/ws/connector" }.Uri, cancel);
        var samples = Samples.All(ContractVersion.Latest);
        var general = GeneralDiscriminators.All.Select(d => (object)new { Discriminator = d, Value = new { Id = Guid.NewGuid() } });
        var webSocket = samples.Where(s => s.Kind == PayloadKind.WebSocketFrame).Select(s => (object)JsonNode.Parse(s.Body)!["Events"]![0]!);
        await _server.PostAsync($"/api/v1/enterprises/{enterpriseId}/events", new { Events = general.Concat(webSocket).ToArray() }, expectedStatus: 202);

        var frames = new List<JsonNode>();
        using (var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancel))
        {
            bounded.CancelAfter(Wait);
            while (frames.Sum(f => f["Events"]!.AsArray().Count) < WebSocketEventTypes.All.Count)
            {
                var frame = await WebSocketTests.ReceiveFrameAsync(socket, bounded.Token) ?? throw new InvalidOperationException("the socket closed");
                frames.Add(JsonNode.Parse(frame)!);
            }
        }
        foreach (var command in new[] { "disable", "enable", "regenerate-access-token", "cancel", "reinstate" })
        {
            await _server.PostAsync($"/api/v1/integrations/{integrationId}/{command}", expectedStatus: 200);
        }
        await _server.SendAsync(HttpMethod.Delete, $"/api/v1/integrations/{integrationId}", expectedStatus: 200);
        var deadline = DateTime.UtcNow + Wait;
        while ((sink.Received.Count(r => r.Path == "/integration") < ContractVersion.Latest.KnownIntegrationActions.Count
                || sink.Received.Where(r => r.Path == "/general").Sum(r => JsonNode.Parse(r.Body)!["Events"]!.AsArray().Count) < GeneralDiscriminators.All.Count)
               && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, cancel);
        }

        var schemas = new DocumentSchemas(_document);
        var webhooks = _document["webhooks"]!.AsObject();
        var failures = new List<string>();
        void Check(string what, string entry, byte[] body, ReceivedWebhook? received)
        {
            var post = webhooks[entry]?["post"];
            if (post is null)
            {
                failures.Add($"{what}: the document has no webhook '{entry}'");
                return;
            }
            if (schemas.Problems(post["requestBody"]!["content"]!["application/json"]!["schema"]!, JsonNode.Parse(body)) is { } problems)
            {
                failures.Add($"{what}: {problems}");
            }
            foreach (var header in post["parameters"]!.AsArray().Where(p => (string?)p!["in"] == "header" && (bool?)p["required"] == true))
            {
                if (received is not null && received.Header((string)header!["name"]!).Length == 0)
                {
                    failures.Add($"{what}: no {header["name"]} header, which the document declares");
                }
            }
            var statuses = post["responses"]!.AsObject().Select(r => r.Key).ToList();
            if (!statuses.Contains("2XX") || !statuses.Contains("410") || !statuses.Contains("default"))
            {
                failures.Add($"{entry}: documents {string.Join(", ", statuses)}, not 2XX, 410 and default");
            }
        }
        var integrationWebhooks = sink.Received.Where(r => r.Path == "/integration").ToList();
        Assert.Equal(ContractVersion.Latest.KnownIntegrationActions.Order(), integrationWebhooks.Select(r => (string)JsonNode.Parse(r.Body)!["Action"]!).Order());
        foreach (var received in integrationWebhooks)
        {
            var action = (string)JsonNode.Parse(received.Body)!["Action"]!;
            Check("received " + action, action, received.Body, received);
        }
        var generalWebhooks = sink.Received.Where(r => r.Path == "/general").ToList();
        Assert.NotEmpty(generalWebhooks);
        foreach (var received in generalWebhooks)
        {
            Check("received General message", "GeneralWebhook", received.Body, received);
        }
        foreach (var sample in samples.Where(s => s.Kind != PayloadKind.WebSocketFrame))
        {
            Check("sample " + sample.Name, sample.Kind == PayloadKind.IntegrationWebhook ? sample.Name : "GeneralWebhook", sample.Body, null);
        }
        var frameSchema = _document["paths"]!["/ws/connector"]!["get"]!["responses"]!["101"]!["content"]!["application/json"]!["schema"]!;
        foreach (var frame in frames.Concat(samples.Where(s => s.Kind == PayloadKind.WebSocketFrame).Select(s => JsonNode.Parse(s.Body)!)))
        {
            if (schemas.Problems(frameSchema, frame) is { } problems)
            {
                failures.Add($"WebSocket frame {frame.ToJsonString()}: {problems}");
            }
        }
        // A body missing a required part does not validate: the schemas constrain something.
        var broken = JsonNode.Parse(samples.First(s => s.Name == IntegrationActions.Created).Body)!;
        broken["Data"]!.AsObject().Remove("AccessToken");
        Assert.NotNull(schemas.Problems(webhooks[IntegrationActions.Created]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!, broken));
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task The_reference_at_docs_opens_without_a_key_and_serves_its_own_script()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var page = await _anonymous.GetAsync(new Uri("/docs", UriKind.Relative), cancel); // redirected to /docs/
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync(cancel);
        Assert.Contains("openapi/v1.json", html, StringComparison.Ordinal);
        var scripts = Regex.Matches(html, "<script[^>]*\\ssrc=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        Assert.DoesNotContain(scripts, s => s.Contains("//", StringComparison.Ordinal)); // served here, not from a CDN
        var largest = 0L;
        foreach (var script in scripts)
        {
            using var asset = await _anonymous.GetAsync(new Uri(page.RequestMessage!.RequestUri!, script), cancel);
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal("text/javascript", asset.Content.Headers.ContentType?.MediaType);
            largest = Math.Max(largest, (await asset.Content.ReadAsByteArrayAsync(cancel)).LongLength);
        }
        Assert.True(largest > 1_000_000, $"the largest script has {largest} bytes; the reference's bundle has megabytes");
        // The reference opens nothing else: the API still wants its key.
        using var api = await _anonymous.GetAsync(new Uri("/api/v1/enterprises", UriKind.Relative), cancel);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }
}
