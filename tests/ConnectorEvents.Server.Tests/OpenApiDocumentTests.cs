using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConnectorEvents.Contracts;
using ConnectorEvents.Server.Tests.Abuse;
using ConnectorEvents.Server.Tests.Support;
using ConnectorEvents.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>
/// <c>/openapi/v1.json</c> against the running server: it lists exactly the routes the app maps, each route documents every
/// status it really answers, sample requests validate against the request schemas exactly when the server takes them, the
/// server's real webhooks and WebSocket frames validate against the <c>webhooks</c> section, and <c>/docs</c> serves the
/// reference without a key or a CDN. Every check loops over the document or the app's endpoints, so a new route is covered
/// (and one without a name, summary, tag or sample body fails here).
/// </summary>
public sealed partial class OpenApiDocumentTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private RunningServer _server = null!;
    private HttpClient _anonymous = null!;
    private JsonNode _document = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await RunningServer.StartAsync();
        _anonymous = new HttpClient { BaseAddress = _server.BaseUri, Timeout = TimeSpan.FromSeconds(30) };
        _document = JsonNode.Parse(await _anonymous.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!;
    }

    public async ValueTask DisposeAsync()
    {
        _anonymous.Dispose();
        await _server.DisposeAsync();
    }

    private IEnumerable<(string Path, string Method, JsonObject Operation)> Operations() =>
        _document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject()
            .Where(o => o.Key is "get" or "post" or "put" or "patch" or "delete")
            .Select(o => (p.Key, o.Key.ToUpperInvariant(), o.Value!.AsObject())));

    private static string Normalise(string template) => "/" + string.Join('/', template.Split('/', StringSplitOptions.RemoveEmptyEntries));

    [Fact]
    public void The_document_is_OpenAPI_3_1_and_lists_exactly_the_routes_the_app_maps()
    {
        Assert.StartsWith("3.1.", (string)_document["openapi"]!, StringComparison.Ordinal);
        var mapped = new HashSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in _server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is { ExcludeFromDescription: true })
            {
                continue;
            }
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            foreach (var method in methods.Where(m => m is not ("HEAD" or "OPTIONS")))
            {
                mapped.Add($"{method} {Normalise(endpoint.RoutePattern.RawText!)}");
            }
        }
        var documented = Operations().Select(o => $"{o.Method} {Normalise(o.Path)}").ToHashSet(StringComparer.Ordinal);
        Assert.True(mapped.Count >= 38, $"only {mapped.Count} routes found: " + string.Join(", ", mapped));
        Assert.Empty(mapped.Except(documented).Order());
        Assert.Empty(documented.Except(mapped).Order());
        foreach (var route in new[] { "GET /healthz/live", "GET /healthz/ready", "GET /metrics", "GET /ws/connector", "GET /signing-keys/{clientId}" })
        {
            Assert.Contains(route, documented);
        }
    }

    [Fact]
    public void Every_operation_is_named_summarised_tagged_and_declares_its_key_headers_and_problem_answers()
    {
        var schemes = _document["components"]!["securitySchemes"]!;
        Assert.Equal("http", (string)schemes["ApiKey"]!["type"]!);
        Assert.Equal("bearer", (string)schemes["ApiKey"]!["scheme"]!);
        Assert.Equal("cookie", (string)schemes["ClientToken"]!["in"]!);
        Assert.Equal("cookie", (string)schemes["AccessToken"]!["in"]!);
        var failures = new List<string>();
        foreach (var (path, method, operation) in Operations())
        {
            var route = $"{method} {path}";
            if (string.IsNullOrEmpty((string?)operation["operationId"]) || string.IsNullOrEmpty((string?)operation["summary"])
                || operation["tags"] is not JsonArray { Count: > 0 })
            {
                failures.Add($"{route}: needs .WithName, .WithSummary and a tag");
            }
            var security = operation["security"]?.ToJsonString() ?? "";
            var expected = path.StartsWith("/api/", StringComparison.Ordinal) || path == "/metrics" ? "{\"ApiKey\":[]}"
                : path == "/ws/connector" ? "{\"ClientToken\":[],\"AccessToken\":[]}" : null;
            if (expected is null ? security.Length > 0 : !security.Contains(expected, StringComparison.Ordinal))
            {
                failures.Add($"{route}: security is '{security}', expected {expected ?? "none"}");
            }
            var responses = operation["responses"]!.AsObject();
            foreach (var (status, response) in responses)
            {
                if (status[0] is '4' or '5' && !path.StartsWith("/healthz", StringComparison.Ordinal)
                    && response!["content"]?["application/problem+json"] is null)
                {
                    failures.Add($"{route}: {status} is not application/problem+json");
                }
                if (status is "429" or "503" && !path.StartsWith("/healthz", StringComparison.Ordinal) && response!["headers"]?["Retry-After"] is null)
                {
                    failures.Add($"{route}: {status} declares no Retry-After");
                }
            }
            if (method == "POST" && path.StartsWith("/api/", StringComparison.Ordinal))
            {
                if (operation["parameters"]?.AsArray().Any(p => (string?)p!["name"] == "Idempotency-Key" && (string?)p["in"] == "header") != true)
                {
                    failures.Add($"{route}: declares no Idempotency-Key header");
                }
                if (responses.Where(r => r.Key[0] == '2').Any(r => r.Value!["headers"]?["Idempotent-Replayed"] is null))
                {
                    failures.Add($"{route}: its success declares no Idempotent-Replayed header");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// Every route called as a caller gets it wrong: without a key, with a Reader key for a change, with ids that name nothing,
    /// with a body that is not JSON or not JSON at all; then right. Each answer's status must be among its documented ones.
    /// </summary>
    [Fact]
    public async Task Every_status_a_route_really_answers_is_documented()
    {
        var seed = await AbuseSeed.CreateAsync(_server);
        using var reader = new HttpClient { BaseAddress = _server.BaseUri, Timeout = TimeSpan.FromSeconds(30) };
        reader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", seed.ApiKey);
        var bodies = SampleBodies(seed.Ids.EnterpriseId, seed.Ids.ClientId, seed.Ids.ClientId);
        var failures = new List<string>();
        var seen = new HashSet<int>();
        var routes = DiscoveredRoute.Parse(_document).Where(r => !r.Template.StartsWith("/healthz", StringComparison.Ordinal) && r.Template != "/ws/connector")
            .OrderBy(r => r.Method == "DELETE").ToList();
        async Task Check(DiscoveredRoute route, string @case, HttpClient http, string path, string? body, string contentType = "application/json")
        {
            using var request = new HttpRequestMessage(new HttpMethod(route.Method), path);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8);
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }
            using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
            var status = (int)response.StatusCode;
            seen.Add(status);
            var documented = _document["paths"]![route.Template]![route.Method.ToLowerInvariant()]!["responses"]!.AsObject();
            if (!documented.ContainsKey(status.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            {
                failures.Add($"{route} {@case}: answered {status}, documented {string.Join(", ", documented.Select(d => d.Key))}");
            }
        }
        foreach (var route in routes)
        {
            var path = route.PathWith(seed.Ids)!;
            var valid = bodies.TryGetValue(route.OperationId, out var samples) ? samples.Valid[0].ToJsonString() : route.HasBody ? "{}" : null;
            await Check(route, "without a key", _anonymous, path, valid);
            if (route.Method != "GET")
            {
                await Check(route, "with a Reader key", reader, path, valid);
            }
            if (route.PathParameters.Any())
            {
                var unknown = route.PathParameters.Aggregate(route.Template, (p, parameter) => p.Replace("{" + parameter.Name + "}", Guid.NewGuid().ToString(), StringComparison.Ordinal));
                await Check(route, "with unknown ids", _server.Api, unknown, valid);
            }
            if (route.HasBody)
            {
                await Check(route, "with a broken body", _server.Api, path, "{\"Name\":");
                await Check(route, "with a text body", _server.Api, path, "hello", "text/plain");
            }
        }
        foreach (var route in routes)
        {
            var valid = bodies.TryGetValue(route.OperationId, out var samples) ? samples.Valid[0].ToJsonString() : null;
            await Check(route, "done right", _server.Api, route.PathWith(seed.Ids)!, valid);
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // Each kind of refusal was really met, so the loop above checked something.
        Assert.Superset(new HashSet<int> { 200, 201, 202, 204, 400, 401, 403, 404, 415 }, seen);
    }

    [Fact]
    public async Task Sample_requests_validate_against_their_schemas_exactly_when_the_server_takes_them()
    {
        var enterprise = await _server.PostAsync("/api/v1/enterprises", new { Name = "Schema Hotel" });
        var first = await _server.PostAsync("/api/v1/clients", new { Name = "Schema App" });
        var second = await _server.PostAsync("/api/v1/clients", new { Name = "Schema App 2" });
        var enterpriseId = Guid.Parse((string)enterprise["Id"]!);
        var clientId = Guid.Parse((string)first["Id"]!);
        var integration = await _server.PostAsync("/api/v1/integrations", new { EnterpriseId = enterpriseId, ClientId = clientId });
        var message = (string)(await _server.GetAsync($"/api/v1/messages?integrationId={integration["Id"]}"))["Messages"]![0]!["Id"]!;
        var ids = new AbuseIds(enterpriseId, clientId, Guid.Parse((string)integration["Id"]!), message, Guid.Empty);
        var schemas = new DocumentSchemas(_document);
        var bodies = SampleBodies(enterpriseId, clientId, Guid.Parse((string)second["Id"]!));
        var failures = new List<string>();
        var checkedBodies = 0;
        foreach (var route in DiscoveredRoute.Parse(_document).Where(r => r.HasBody))
        {
            if (!bodies.TryGetValue(route.OperationId, out var samples))
            {
                failures.Add($"{route}: add valid and invalid sample bodies for {route.OperationId} to SampleBodies");
                continue;
            }
            var schema = RequestSchema(route.Template, route.Method);
            foreach (var (body, valid) in samples.Valid.Select(b => (b, true)).Concat(samples.Invalid.Select(b => (b, false))))
            {
                checkedBodies++;
                var problems = schemas.Problems(schema, body);
                if ((problems is null) != valid)
                {
                    failures.Add($"{route} {body.ToJsonString()}: the schema says {problems ?? "valid"}, expected {(valid ? "valid" : "invalid")}");
                }
                using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
                using var request = new HttpRequestMessage(new HttpMethod(route.Method), route.PathWith(ids)) { Content = content };
                using var response = await _server.Api.SendAsync(request, TestContext.Current.CancellationToken);
                var status = (int)response.StatusCode;
                if (valid ? status is < 200 or > 299 : status != 400)
                {
                    failures.Add($"{route} {body.ToJsonString()}: the server answered {status}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
                }
            }
        }
        // The README's examples (curl ... -X POST|PATCH localhost:5080/<path> -d '<body>'), placeholders filled with an id.
        var readme = await File.ReadAllTextAsync(Repository.PathOf("README.md"), TestContext.Current.CancellationToken);
        var examples = ReadmeExample().Matches(readme);
        Assert.True(examples.Count >= 3, $"found {examples.Count} README examples");
        foreach (Match example in examples)
        {
            var template = TemplateOf(example.Groups["path"].Value);
            var body = JsonNode.Parse(Placeholder().Replace(example.Groups["body"].Value, Guid.NewGuid().ToString()));
            if (template is null)
            {
                failures.Add($"README: {example.Value}: no documented route matches");
            }
            else if (schemas.Problems(RequestSchema(template, example.Groups["method"].Value), body) is { } problems)
            {
                failures.Add($"README: {example.Value}: {problems}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.InRange(checkedBodies, 25, 200);
    }

    private JsonNode RequestSchema(string template, string method) =>
        _document["paths"]![template]![method.ToLowerInvariant()]!["requestBody"]!["content"]!.AsObject().First().Value!["schema"]!;

    /// <summary>The documented template a concrete README path matches (a placeholder segment matches a parameter).</summary>
    private string? TemplateOf(string path)
    {
        var segments = path.Split('?')[0].Trim('/').Split('/');
        return _document["paths"]!.AsObject().Select(p => p.Key).FirstOrDefault(t =>
        {
            var parts = t.Trim('/').Split('/');
            return parts.Length == segments.Length && parts.Zip(segments).All(p => p.First.StartsWith('{') || p.First == p.Second);
        });
    }

    [GeneratedRegex(@"-X (?<method>POST|PATCH) (?:https?://)?(?:localhost|127\.0\.0\.1):\d+(?<path>/api/\S+) -d '(?<body>\{[^']*\})'")]
    private static partial Regex ReadmeExample();

    /// <summary>An id the reader fills in: <c>"&lt;client Id&gt;"</c>, <c>"$CLIENT"</c>, <c>"${CLIENT}"</c>.</summary>
    [GeneratedRegex(@"(?<=\x22)(<[^>\x22]+>|\$\{?\w+\}?)(?=\x22)")]
    private static partial Regex Placeholder();

    /// <summary>For each operation with a body: bodies the server takes and bodies it refuses (400).</summary>
    private static Dictionary<string, (JsonNode[] Valid, JsonNode[] Invalid)> SampleBodies(Guid enterpriseId, Guid clientId, Guid otherClientId)
    {
        static JsonNode J(string json) => JsonNode.Parse(json)!;
        var recover = (new[] { J("""{"Since":"2026-01-01T00:00:00Z"}"""), J("""{"Since":"2026-01-01T00:00:00Z","Until":null,"Channel":"General"}""") },
            new[] { J("""{"Until":"2026-01-01T00:00:00Z"}"""), J("""{"Since":"2026-01-01T00:00:00Z","Channel":"Email"}""") });
        return new(StringComparer.Ordinal)
        {
            ["CreateEnterprise"] = ([J("""{"Name":"Sample Chain Hotel 1"}"""), J($$"""{"Name":"Second Hotel","Id":"{{Guid.NewGuid()}}"}""")],
                [J("""{"Id":null}"""), J("""{"Name":"Hotel","Colour":"red"}""")]),
            ["CreateService"] = ([J("""{"Name":"Accommodation"}""")], [J("""{}"""), J("""{"Name":null}""")]),
            ["CreateClient"] = ([J("""{"Name":"WebhookTEST","IntegrationWebhookUrl":"http://127.0.0.1:4000/hook?Token=s3cret"}"""),
                    J("""{"Name":"Ed App","GeneralWebhookUrl":null,"ContractVersion":"2019-12","SigningScheme":"Ed25519"}""")],
                [J("""{"IntegrationWebhookUrl":"http://127.0.0.1:4000/hook"}"""), J("""{"Name":"App","ContractVersion":"2030-01"}""")]),
            ["UpdateClient"] = ([J("""{"Name":"Renamed App"}"""), J("""{"GeneralWebhookUrl":null,"ContractVersion":"2025-08"}""")],
                [J("""{"ContractVersion":null}"""), J("""{"Colour":"red"}""")]),
            ["CreateIntegration"] = ([J($$"""{"EnterpriseId":"{{enterpriseId}}","ClientId":"{{clientId}}"}"""),
                    J($$$"""{"EnterpriseId":"{{{enterpriseId}}}","ClientId":"{{{otherClientId}}}","Name":"Front desk","IsEnabled":false,"ServiceId":null,"Requestor":{"Name":"Jane Doe","Email":"jane@example.com"}}""")],
                [J($$$"""{"EnterpriseId":"{{{enterpriseId}}}"}"""), J($$$"""{"EnterpriseId":"{{{enterpriseId}}}","ClientId":"{{{clientId}}}","Requestor":{"Name":"Jane"}}""")]),
            ["UpdateIntegrationSubscriptions"] = ([J("""{"GeneralEvents":["CustomerAdded"],"WebSocketEvents":null}"""), J("""{}""")],
                [J("""{"GeneralEvents":["Nope"]}"""), J("""{"GeneralEvents":"CustomerAdded"}""")]),
            ["IngestEvents"] = ([J("""{"Events":[{"Discriminator":"CustomerAdded","Value":{"Id":"c2f1d888-232e-49eb-87ac-5f75363af13b"}}]}"""),
                    J("""{"Events":[{"Type":"Resource","Id":"5ee074b1-6c86-48e8-915f-c7aa4702086f","State":"Dirty"},{"Type":"PriceUpdate","Id":"bd75f159-f22a-4685-abdb-aac0008e2af3","StartUtc":"2019-09-07T22:00:00Z","EndUtc":null,"RateId":null,"ResourceCategoryId":null}]}""")],
                [J("""{"Events":[]}"""), J("""{"Events":[{"Discriminator":"CustomerAdded","Type":"Resource","Value":{"Id":"c2f1d888-232e-49eb-87ac-5f75363af13b"}}]}"""),
                    J("""{"Events":[{"Type":"Reservation","Id":"bfee2c44-1f84-4326-a862-5289598f6e2d","State":"Processed"}]}""")]),
            ["RecoverClientMessages"] = recover,
            ["RecoverIntegrationMessages"] = recover,
            ["CreateApiKey"] = ([J("""{"Name":"Dashboard","Role":"Reader"}"""), J($$"""{"Name":"Producer","Role":"Producer","EnterpriseIds":["{{enterpriseId}}"]}""")],
                [J("""{"Name":"No role"}"""), J("""{"Name":"Bad","Role":"Root"}""")]),
        };
    }
}
