using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace ConnectorEvents.Server.Tests.Abuse;

/// <summary>
/// Every route the server's own OpenAPI document lists (plus the WebSocket endpoint), fed what a hostile or broken caller
/// sends: bad keys, bad ids, bad query values, broken, mistyped, oversized, deep and oddly encoded bodies. Each answer must
/// be a 4xx problem details that repeats no secret, the server must stay ready, and it must still deliver at the end.
/// </summary>
public sealed class ApiAbuseTests : IAsyncLifetime
{
    private const string ProducerKey = "abuse-producer-key-0123456789abcdef";
    private const string ProblemJson = "application/problem+json";

    private RunningServer _server = null!;
    private HttpClient _http = null!;
    private readonly List<string> _failures = [];
    private readonly List<string> _secrets = [RunningServer.AdminKey, ProducerKey];
    private int _requests;
    private int _cases;
    private long _mostStreamed;

    public async ValueTask InitializeAsync()
    {
        _server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Security:ProducerApiKeys:0"] = ProducerKey });
        _http = new HttpClient { BaseAddress = _server.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private sealed record Answer(int Status, string ContentType, string Body, string Headers = "");

    [Fact]
    public async Task Every_route_refuses_abuse_with_problem_details_and_the_server_keeps_delivering()
    {
        var clock = Stopwatch.StartNew();
        var openApi = JsonNode.Parse(await _http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken))!;
        var routes = DiscoveredRoute.Parse(openApi).ToList();
        // A discovery that finds little would make every loop below pass vacuously.
        Assert.True(routes.Count >= AbuseCases.KnownOperations.Length - 1,
            $"OpenAPI lists {routes.Count} operations; at least {AbuseCases.KnownOperations.Length - 1} are known: "
            + string.Join(", ", routes));
        var missing = AbuseCases.KnownOperations.Where(o => o != "ConnectWebSocket" && routes.All(r => r.OperationId != o)).ToList();
        Assert.True(missing.Count == 0, "OpenAPI does not list " + string.Join(", ", missing));
        if (routes.All(r => r.Template != "/ws/connector"))
        {
            routes.Add(new DiscoveredRoute("GET", "/ws/connector", "ConnectWebSocket", [], [], []));
        }
        var unknownBodies = routes.Where(r => r.HasBody && !AbuseCases.Bodies.ContainsKey(r.OperationId)).ToList();
        Assert.True(unknownBodies.Count == 0, "Describe the body of " + string.Join(", ", unknownBodies) + " in AbuseCases.Bodies.");
        Assert.Contains(routes, r => r.OperationId == "IngestEvents" && r.HasBody);

        var (ids, tokens) = await SeedAsync();
        foreach (var route in routes)
        {
            if (route.OperationId == "ConnectWebSocket")
            {
                await AbuseWebSocketAsync(route, ids, tokens);
            }
            else
            {
                await AbuseRouteAsync(route, routes, ids, tokens);
            }
            var ready = await SendAsync(HttpMethod.Get, "/healthz/ready", null, auth: null);
            if (ready.Status != 200)
            {
                _failures.Add($"{route} | after its batch, /healthz/ready answered {ready.Status}: {Cut(ready.Body)}");
            }
        }

        await AbuseUnlistedPathsAsync(ids);
        try
        {
            await AssertStillDeliversAsync();
        }
        catch (Exception ex) when (ex is TimeoutException or HttpRequestException or Xunit.Sdk.XunitException)
        {
            // Reported beside the other failures, so a broken delivery does not hide which case broke it.
            _failures.Add($"(after all cases) | a real Integration Webhook was not delivered: {ex.Message}");
        }
        clock.Stop();
        var summary = $"Abuse: {routes.Count} routes, {_cases} cases, {_requests} requests, {clock.Elapsed.TotalSeconds:F1} s on {RunningServer.StorageUnderTest}; "
            + $"at most {_mostStreamed / 1024 / 1024} MiB of a 1 GiB streamed body were sent before its 413.";
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        Console.WriteLine(summary);
        Assert.True(_failures.Count == 0, $"{_failures.Count} of {_cases} cases failed:\n" + string.Join("\n", _failures));
        Assert.InRange(_requests, 500, 5000);
        if (RunningServer.StorageUnderTest == "Sqlite")
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), summary);
        }
    }

    private async Task<(AbuseIds Ids, Dictionary<string, string> Tokens)> SeedAsync()
    {
        var seed = await AbuseSeed.CreateAsync(_server);
        var tokens = new Dictionary<string, string>
        {
            ["ClientToken"] = seed.EnabledClientToken,
            ["SigningSecret"] = seed.SigningSecret,
            ["AccessToken"] = seed.EnabledAccessToken,
            ["OtherClientToken"] = seed.OtherClientToken,
            ["OtherSigningSecret"] = seed.OtherSigningSecret,
            ["DisabledAccessToken"] = seed.DisabledAccessToken,
        };
        _secrets.AddRange(tokens.Values);
        _secrets.Add(seed.ApiKey);
        // On PostgreSQL, the database password must not surface in any error either.
        var connection = _server.Services.GetService<IConfiguration>()?["ConnectionStrings:Postgres"];
        if (connection is not null && new Npgsql.NpgsqlConnectionStringBuilder(connection).Password is { Length: >= 4 } password)
        {
            _secrets.Add(password);
        }
        return (seed.Ids, tokens);
    }

    private async Task AbuseRouteAsync(DiscoveredRoute route, IReadOnlyList<DiscoveredRoute> all, AbuseIds ids, Dictionary<string, string> tokens)
    {
        var method = new HttpMethod(route.Method);
        var path = route.PathWith(ids);
        if (path is null)
        {
            _failures.Add($"{route} | its path parameters cannot be filled; teach DiscoveredRoute.PathWith the entity they name.");
            return;
        }
        var rules = route.HasBody ? AbuseCases.Bodies[route.OperationId] : null;
        var validBody = rules?.ValidBody(ids).ToJsonString();
        HttpContent? Valid() => validBody is null ? null : Json(Encoding.UTF8.GetBytes(validBody));

        if (route.UnderApi)
        {
            foreach (var (@case, header) in AbuseCases.BadAuthorizations(RunningServer.AdminKey, tokens["ClientToken"], tokens["SigningSecret"], tokens["AccessToken"]))
            {
                Expect(route, "auth: " + @case, await SendAsync(method, path, Valid(), header), 401);
            }
            if (route.OperationId != "IngestEvents")
            {
                Expect(route, "auth: a producer key", await SendAsync(method, path, Valid(), "Bearer " + ProducerKey), 403);
            }
        }

        foreach (var parameter in route.PathParameters)
        {
            var other = parameter.Kind is "clients" or "signing-keys" ? ids.EnterpriseId.ToString() : ids.ClientId.ToString();
            foreach (var (@case, segment) in AbuseCases.BadIds(other))
            {
                var bad = route.PathWith(ids, parameter.Name, segment)!;
                var answer = await SendAsync(method, bad, Valid());
                if (segment == "%00" && answer is { Status: 400, Body.Length: 0 })
                {
                    // Kestrel itself refuses a NUL in the path before any application code runs: a bare 400, not a problem.
                    Count();
                    continue;
                }
                Expect(route, $"path {{{parameter.Name}}}: {@case}", answer, 404);
            }
        }

        foreach (var query in route.QueryParameters)
        {
            foreach (var value in AbuseCases.BadQueryValues)
            {
                Expect(route, $"query {query}={Cut(value, 40)}", await SendAsync(method, $"{path}?{query}={value}", Valid()), 400);
            }
        }

        var listed = all.Where(r => r.Template == route.Template).Select(r => r.Method).ToHashSet();
        if (all.First(r => r.Template == route.Template) == route)
        {
            foreach (var other in new[] { "GET", "POST", "PUT", "PATCH", "DELETE" }.Where(m => !listed.Contains(m)))
            {
                Expect(route, $"method {other}", await SendAsync(new HttpMethod(other), path, null), 405);
            }
        }

        if (route.OperationId == "IngestEvents")
        {
            await AbuseIngestHeadersAsync(route, path, validBody!);
        }

        if (rules is not null)
        {
            await AbuseBodyAsync(route, method, path, rules, validBody!, ids);
        }
    }

    private async Task AbuseBodyAsync(DiscoveredRoute route, HttpMethod method, string path, BodyRules rules, string validBody, AbuseIds ids)
    {
        if (route.BodyFields.Count == 0)
        {
            // Without fields from the schema, the wrong-type cases below would pass by testing nothing.
            _failures.Add($"{route} | OpenAPI describes no field of its body");
        }
        foreach (var (@case, body) in AbuseCases.MalformedBodies(validBody))
        {
            Expect(route, "body: " + @case, await SendAsync(method, path, Json(body)), 400);
        }

        foreach (var (fieldPath, kind) in Fields(route.BodyFields, rules.ValidBody(ids), []))
        {
            foreach (var (@case, value) in AbuseCases.WrongValues(kind))
            {
                var body = rules.ValidBody(ids);
                Set(body, fieldPath, value);
                Expect(route, $"field {Describe(fieldPath)} ({kind}) as {@case}", await SendAsync(method, path, Json(body)), 400);
            }
        }

        foreach (var field in rules.Required)
        {
            var body = rules.ValidBody(ids);
            body[field] = null;
            Expect(route, $"field {field} null", await SendAsync(method, path, Json(body)), 400);
        }

        var unknown = rules.ValidBody(ids);
        unknown["Colour"] = "red";
        Expect(route, "an unknown field", await SendAsync(method, path, Json(unknown)), 400);
        foreach (var fieldPath in NestedObjects(rules.ValidBody(ids), []))
        {
            var body = rules.ValidBody(ids);
            ((JsonObject)Get(body, fieldPath)!)["Colour"] = "red";
            Expect(route, $"an unknown field in {Describe(fieldPath)}", await SendAsync(method, path, Json(body)), 400);
        }
        // A field twice, in two spellings: names are read without regard to case, so it is one field given twice (InputHygieneTests).
        var firstField = rules.ValidBody(ids).First();
        var twice = Encoding.UTF8.GetBytes(validBody[..^1] + $",\"{firstField.Key.ToLowerInvariant()}\":{firstField.Value!.ToJsonString()}}}");
        Expect(route, "a field twice", await SendAsync(method, path, Json(twice)), 400);

        foreach (var odd in AbuseCases.OddTexts())
        {
            var body = rules.ValidBody(ids);
            Set(body, rules.TextField, "\u0001ODD\u0001");
            var text = body.ToJsonString();
            var marker = "\"\\u0001ODD\\u0001\"";
            var at = text.IndexOf(marker, StringComparison.Ordinal);
            byte[] bytes = [.. Encoding.UTF8.GetBytes(text[..at]), .. odd.Json, .. Encoding.UTF8.GetBytes(text[(at + marker.Length)..])];
            var answer = await SendAsync(method, path, Json(bytes));
            var @case = $"text {Describe(rules.TextField)}: {odd.Case}";
            // Names refuse control characters; an event's State is the producer's own text, carried as it is.
            var mustReject = odd.IsControl ? rules.TextRefusesControl : odd.MustReject;
            if (mustReject || !rules.TextCanBeValid)
            {
                Expect(route, @case, answer, 400);
            }
            else if (answer.Status is >= 200 and < 300)
            {
                // Accepted text must come back exactly as sent.
                var echoed = rules.EchoedTextField is null ? odd.Decoded : (string?)JsonNode.Parse(answer.Body)?[rules.EchoedTextField];
                Count();
                if (echoed != odd.Decoded)
                {
                    Fail(route, @case, answer, $"accepted, but the text came back as {JsonSerializer.Serialize(echoed)}");
                }
            }
            else
            {
                Expect(route, @case, answer, 400);
            }
        }
        foreach (var odd in AbuseCases.OddTexts())
        {
            // The same text as a field name: never a known field, always refused.
            var text = rules.ValidBody(ids).ToJsonString();
            byte[] bytes = [(byte)'{', .. odd.Json, .. ":1,"u8, .. Encoding.UTF8.GetBytes(text[1..])];
            Expect(route, $"field name: {odd.Case}", await SendAsync(method, path, Json(bytes)), 400);
        }
        byte[] withBom = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(validBody)];
        var bomAnswer = await SendAsync(method, path, Json(withBom));
        if (bomAnswer.Status is < 200 or > 299)
        {
            Expect(route, "a BOM before the body", bomAnswer, 400);
        }

        var utf16 = new ByteArrayContent(Encoding.Unicode.GetBytes(validBody));
        utf16.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=utf-16");
        Expect(route, "a UTF-16 body", await SendAsync(method, path, utf16), 415);
        foreach (var contentType in AbuseCases.WrongContentTypes)
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(validBody));
            if (contentType is not null)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
            Expect(route, $"Content-Type {contentType ?? "(none)"}", await SendAsync(method, path, content), 415);
        }

        var limit = route.OperationId == "IngestEvents" ? 4 * 1024 * 1024 : 64 * 1024;
        Expect(route, "body exactly at the limit", await SendAsync(method, path, Json(Padded(limit))), 400);
        var head = $"{route.Method} {path} HTTP/1.1\r\nAuthorization: Bearer {RunningServer.AdminKey}\r\nContent-Type: application/json";
        // Without a length the body is read into a buffer that doubles as it fills, up to the limit: full there, it is
        // one read more that tells the end from a byte too many.
        var atLimit = await RawAsync(ct => RawHttp.SendAsync(_server.BaseUri, head, Padded(limit), chunked: true, ct));
        Expect(route, "chunked body exactly at the limit", new Answer(atLimit.Status, atLimit.ContentType, atLimit.Body), 400);
        foreach (var chunked in new[] { false, true })
        {
            var over = await RawAsync(ct => RawHttp.SendAsync(_server.BaseUri, head, Padded(limit + 1), chunked, ct));
            Expect(route, chunked ? "chunked body 1 byte over the limit" : "body 1 byte over the limit",
                new Answer(over.Status, over.ContentType, over.Body), 413);
        }
        var planned = 1024L * 1024 * 1024;
        Count();
        var streamed = await RawAsync(ct => RawHttp.StreamAsync(_server.BaseUri, head, planned, ct));
        Expect(route, "a 1 GiB streamed body", new Answer(streamed.Status, streamed.ContentType, streamed.Body), 413);
        // Loopback and socket buffers hold a few MiB; a server reading the whole body would answer only after the 1 GiB.
        _mostStreamed = Math.Max(_mostStreamed, streamed.BytesSentBeforeAnswer);
        if (streamed.BytesSentBeforeAnswer > limit + 32L * 1024 * 1024)
        {
            Fail(route, "a 1 GiB streamed body", new Answer(streamed.Status, streamed.ContentType, streamed.Body),
                $"the answer came only after {streamed.BytesSentBeforeAnswer / 1024 / 1024} MiB were sent");
        }

        var first = route.BodyFields.Count > 0 ? route.BodyFields[0].Name : "Name";
        var arrays = $"{{\"{first}\":" + new string('[', 10_000) + new string(']', 10_000) + "}";
        Expect(route, "10,000 nested arrays", await SendAsync(method, path, Json(Encoding.UTF8.GetBytes(arrays))), 400);
        // One-letter keys keep 10,000 levels under the 64 KiB limit, so the depth is what is refused.
        var objects = new StringBuilder().Insert(0, "{\"a\":", 10_000).Append('1').Append('}', 10_000).ToString();
        Expect(route, "10,000 nested objects", await SendAsync(method, path, Json(Encoding.UTF8.GetBytes(objects))), 400);
    }

    /// <summary>The ingest route's own inputs: the Idempotency-Key header, and a producer key with a bad body.</summary>
    private async Task AbuseIngestHeadersAsync(DiscoveredRoute route, string path, string validBody)
    {
        var keys = new (string Case, string[] Values)[]
        {
            ("empty", [""]),
            ("256 characters", [new string('k', 256)]),
            ("10 KB", [new string('k', 10 * 1024)]),
            ("a space", ["batch 1"]),
            ("a control character", ["batch\u0001"]),
            ("two values", ["batch-1", "batch-2"]),
            ("a DEL character", ["batch-\u007f"]),
        };
        foreach (var (@case, values) in keys)
        {
            var content = Json(Encoding.UTF8.GetBytes(validBody));
            Expect(route, "Idempotency-Key: " + @case, await SendAsync(HttpMethod.Post, path, content, extra: r =>
            {
                foreach (var value in values)
                {
                    r.Headers.TryAddWithoutValidation("Idempotency-Key", value);
                }
            }), 400);
        }
        // The same key with another body: 422, as a problem.
        var idempotencyKey = "abuse-" + Guid.NewGuid().ToString("N");
        void WithKey(HttpRequestMessage r) => r.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        var firstTime = await SendAsync(HttpMethod.Post, path, Json(Encoding.UTF8.GetBytes(validBody)), extra: WithKey);
        Count();
        if (firstTime.Status != 202)
        {
            Fail(route, "Idempotency-Key, first use", firstTime, "expected 202");
        }
        var other = JsonNode.Parse(validBody)!.AsObject();
        other["Events"]![0]!["State"] = "Clean";
        Expect(route, "Idempotency-Key reused with another body", await SendAsync(HttpMethod.Post, path, Json(other), extra: WithKey), 422);
        foreach (var (@case, body) in AbuseCases.MalformedBodies(validBody).Take(6))
        {
            Expect(route, "producer key, body: " + @case, await SendAsync(HttpMethod.Post, path, Json(body), "Bearer " + ProducerKey), 400);
        }
        var unknown = JsonNode.Parse(validBody)!.AsObject();
        unknown["Colour"] = "red";
        Expect(route, "producer key, an unknown field", await SendAsync(HttpMethod.Post, path, Json(unknown), "Bearer " + ProducerKey), 400);
        // Over 1,000 events, each small: the count limit, not the size limit, refuses it.
        var many = new JsonObject { ["Events"] = new JsonArray(Enumerable.Range(0, 1001).Select(_ => (JsonNode?)JsonNode.Parse("{\"Type\":\"Resource\",\"Id\":\"5ee074b1-6c86-48e8-915f-c7aa4702086f\",\"State\":\"Dirty\"}")).ToArray()) };
        Expect(route, "1,001 events", await SendAsync(HttpMethod.Post, path, Json(many)), 400);
    }

    /// <summary>Paths no route matches, with and without the key.</summary>
    private async Task AbuseUnlistedPathsAsync(AbuseIds ids)
    {
        var route = new DiscoveredRoute("ANY", "(unlisted paths)", "", [], [], []);
        foreach (var path in new[] { "/api/v1/nope", "/api/v2/enterprises", $"/api/v1/enterprises/{ids.EnterpriseId}/nope", "/api/v1/clients/a/b/c/d", "/nope" })
        {
            Expect(route, $"GET {path} with the admin key", await SendAsync(HttpMethod.Get, path, null), 404);
            if (path.StartsWith("/api/", StringComparison.Ordinal))
            {
                Expect(route, $"GET {path} without a key", await SendAsync(HttpMethod.Get, path, null, auth: null), 401);
            }
        }
        foreach (var method in new[] { "OPTIONS", "TRACE", "PROPFIND" })
        {
            Expect(route, $"{method} /api/v1/enterprises", await SendAsync(new HttpMethod(method), "/api/v1/enterprises", null), 405);
        }
    }

    private async Task AbuseWebSocketAsync(DiscoveredRoute route, AbuseIds ids, Dictionary<string, string> tokens)
    {
        _ = ids;
        const string upgrade = "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
        var cases = new (string Case, string Headers, int Status)[]
        {
            ("upgrade without cookies", upgrade, 401),
            ("plain GET without cookies", "Connection: close", 401),
            ("upgrade with the admin key instead", upgrade + $"\r\nAuthorization: Bearer {RunningServer.AdminKey}", 401),
            ("upgrade with unknown tokens", upgrade + "\r\nCookie: ClientToken=nope; AccessToken=nope", 401),
            ("upgrade with empty tokens", upgrade + "\r\nCookie: ClientToken=; AccessToken=", 401),
            ("upgrade with only the client token", upgrade + $"\r\nCookie: ClientToken={tokens["ClientToken"]}", 401),
            ("upgrade with only the access token", upgrade + $"\r\nCookie: AccessToken={tokens["AccessToken"]}", 401),
            ("upgrade with a wrong access token", upgrade + $"\r\nCookie: ClientToken={tokens["ClientToken"]}; AccessToken={tokens["AccessToken"]}x", 401),
            ("upgrade with the tokens swapped", upgrade + $"\r\nCookie: ClientToken={tokens["AccessToken"]}; AccessToken={tokens["ClientToken"]}", 401),
            ("upgrade with another client's token", upgrade + $"\r\nCookie: ClientToken={tokens["OtherClientToken"]}; AccessToken={tokens["AccessToken"]}", 401),
            ("upgrade with a signing secret as the client token", upgrade + $"\r\nCookie: ClientToken={tokens["SigningSecret"]}; AccessToken={tokens["AccessToken"]}", 401),
            ("upgrade with encoded NUL tokens", upgrade + "\r\nCookie: ClientToken=%00; AccessToken=%00", 401),
            ("upgrade with encoded invalid UTF-8 tokens", upgrade + "\r\nCookie: ClientToken=%FF%ED%A0%80; AccessToken=%C0%AF", 401),
            ("upgrade with encoded RTL/emoji tokens", upgrade + "\r\nCookie: ClientToken=%E2%80%AE%F0%9F%8F%A8; AccessToken=%E2%80%AE", 401),
            ("upgrade with 10 KB tokens", upgrade + $"\r\nCookie: ClientToken={new string('c', 5000)}; AccessToken={new string('a', 5000)}", 401),
            ("upgrade with a disabled integration's tokens", upgrade + $"\r\nCookie: ClientToken={tokens["OtherClientToken"]}; AccessToken={tokens["DisabledAccessToken"]}", 403),
            ("plain GET with valid tokens", $"Connection: close\r\nCookie: ClientToken={tokens["ClientToken"]}; AccessToken={tokens["AccessToken"]}", 400),
            ("upgrade with a wrong WebSocket version", $"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: x\r\nCookie: ClientToken={tokens["ClientToken"]}; AccessToken={tokens["AccessToken"]}", 400),
        };
        foreach (var (@case, headers, status) in cases)
        {
            var answer = await RawAsync(ct => RawHttp.SendAsync(_server.BaseUri, $"GET {route.Template} HTTP/1.1\r\n{headers}", ct: ct));
            Expect(route, "ws: " + @case, new Answer(answer.Status, answer.ContentType, answer.Body), status);
        }
        foreach (var query in new[] { "?ClientToken=x&AccessToken=y", "?access_token=" + RunningServer.AdminKey })
        {
            var answer = await RawAsync(ct => RawHttp.SendAsync(_server.BaseUri, $"GET {route.Template}{query} HTTP/1.1\r\n{upgrade}", ct: ct));
            Expect(route, "ws: tokens in the query " + Cut(query, 20), new Answer(answer.Status, answer.ContentType, answer.Body), 401);
        }
        foreach (var method in new[] { "POST", "PUT", "DELETE" })
        {
            Expect(route, $"method {method}", await SendAsync(new HttpMethod(method), route.Template, null, auth: null), 405);
        }
    }

    /// <summary>After all of it, a real Integration Webhook still reaches a receiver.</summary>
    private async Task AssertStillDeliversAsync()
    {
        await using var sink = await WebhookSink.StartAsync();
        var (enterpriseId, clientId, _) = await _server.SeedAsync(sink.Url(), "After abuse");
        var integrationId = await _server.CreateIntegrationAsync(enterpriseId, clientId);
        await _server.PostAsync($"/api/v1/integrations/{integrationId}/disable");
        await sink.WaitForAsync(2, TimeSpan.FromSeconds(20));
        Assert.Contains(sink.Received, w => w.BodyText.Contains("\"IntegrationDisabled\"", StringComparison.Ordinal));
    }

    private async Task<Answer> SendAsync(HttpMethod method, string path, HttpContent? content, string? auth = "Bearer " + RunningServer.AdminKey,
        Action<HttpRequestMessage>? extra = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        if (!string.IsNullOrEmpty(auth))
        {
            request.Headers.TryAddWithoutValidation("Authorization", auth);
        }
        extra?.Invoke(request);
        _requests++;
        try
        {
            using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            return new Answer((int)response.StatusCode, response.Content.Headers.ContentType?.ToString() ?? "", body,
                response.Headers.ToString() + response.Content.Headers);
        }
        catch (HttpRequestException ex)
        {
            // A reset or a closed connection is an answer too, and a wrong one: status 0 names it in the failure list.
            return new Answer(0, "", $"(no answer: {ex.Message} {ex.InnerException?.Message})");
        }
        catch (TaskCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            return new Answer(0, "", "(no answer within 10 s: the server hangs on this request)");
        }
    }

    private void Count() => _cases++;

    /// <summary>A raw exchange, bounded in time; a hang or a broken connection becomes status 0 in the failure list.</summary>
    private async Task<RawAnswer> RawAsync(Func<CancellationToken, Task<RawAnswer>> send)
    {
        _requests++;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            return await send(timeout.Token);
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            return new RawAnswer(0, "", "(no answer within 15 s: the server hangs on this request)", 0);
        }
        catch (IOException ex)
        {
            return new RawAnswer(0, "", $"(the connection failed: {ex.Message})", 0);
        }
    }

    /// <summary>A 4xx of the given status(es), as problem details with a matching status, a title and a detail, and no secret.</summary>
    private void Expect(DiscoveredRoute route, string @case, Answer answer, params int[] statuses)
    {
        Count();
        if (!statuses.Contains(answer.Status))
        {
            Fail(route, @case, answer, $"expected {string.Join(" or ", statuses)}");
            return;
        }
        if (!answer.ContentType.StartsWith(ProblemJson, StringComparison.OrdinalIgnoreCase))
        {
            Fail(route, @case, answer, "not application/problem+json");
            return;
        }
        JsonNode? problem;
        try
        {
            problem = JsonNode.Parse(answer.Body);
        }
        catch (JsonException)
        {
            Fail(route, @case, answer, "the problem details are not JSON");
            return;
        }
        if ((int?)problem?["status"] != answer.Status)
        {
            Fail(route, @case, answer, "the problem's status differs from the HTTP status");
        }
        else if (string.IsNullOrWhiteSpace((string?)problem["title"]) || string.IsNullOrWhiteSpace((string?)problem["detail"]))
        {
            Fail(route, @case, answer, "the problem has no title or no detail");
        }
        else if (_secrets.FirstOrDefault(s => answer.Body.Contains(s, StringComparison.Ordinal) || answer.Headers.Contains(s, StringComparison.Ordinal)) is { } secret)
        {
            Fail(route, @case, answer, $"the body repeats a secret ({secret[..4]}…)");
        }
    }

    private void Fail(DiscoveredRoute route, string @case, Answer answer, string why) =>
        _failures.Add($"{route} | {@case} → {answer.Status} {answer.ContentType} {Cut(answer.Body)}: {why}");

    private static string Cut(string text, int max = 300) => text.Length <= max ? text : text[..max] + "…";

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static ByteArrayContent Json(JsonObject body) => Json(Encoding.UTF8.GetBytes(body.ToJsonString()));

    /// <summary>A JSON object of exactly <paramref name="length"/> bytes.</summary>
    private static byte[] Padded(int length)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill((byte)'a');
        "{\"Name\":\""u8.CopyTo(bytes);
        "\"}"u8.CopyTo(bytes.AsSpan(length - 2));
        return bytes;
    }

    /// <summary>Every field the schema names at the top, and every field present in nested objects of the valid body.</summary>
    private static IEnumerable<(object[] Path, FieldKind Kind)> Fields(IReadOnlyList<BodyField> fields, JsonNode? body, object[] at)
    {
        foreach (var field in fields)
        {
            var value = (body as JsonObject)?[field.Name];
            if (at.Length > 0 && value is null)
            {
                continue;
            }
            object[] here = [.. at, field.Name];
            if (field.Kind != FieldKind.Any)
            {
                yield return (here, field.Kind);
            }
            if (field.Kind == FieldKind.Record && value is JsonObject)
            {
                foreach (var inner in Fields(field.Fields, value, here))
                {
                    yield return inner;
                }
            }
            if (field.Kind == FieldKind.List && value is JsonArray { Count: > 0 } list && list[0] is JsonObject)
            {
                foreach (var inner in Fields(field.Fields, list[0], [.. here, 0]))
                {
                    yield return inner;
                }
            }
        }
    }

    private static IEnumerable<object[]> NestedObjects(JsonNode node, object[] at)
    {
        var children = node switch
        {
            JsonObject o => o.Select(p => ((object)p.Key, p.Value)).ToList(),
            JsonArray a => a.Select((v, i) => ((object)i, v)).ToList(),
            _ => [],
        };
        foreach (var (key, child) in children)
        {
            if (child is JsonObject)
            {
                yield return [.. at, key];
            }
            if (child is not null)
            {
                foreach (var deeper in NestedObjects(child, [.. at, key]))
                {
                    yield return deeper;
                }
            }
        }
    }

    private static JsonNode? Get(JsonNode node, IReadOnlyList<object> path) =>
        path.Aggregate((JsonNode?)node, (n, key) => key is int i ? n?[i] : n?[(string)key]);

    private static void Set(JsonObject body, IReadOnlyList<object> path, JsonNode? value)
    {
        var parent = Get(body, path.Take(path.Count - 1).ToList())!;
        if (path[^1] is int index)
        {
            parent[index] = value;
        }
        else
        {
            parent[(string)path[^1]] = value;
        }
    }

    private static string Describe(IReadOnlyList<object> path) =>
        string.Concat(path.Select((p, i) => p is int n ? $"[{n}]" : (i == 0 ? "" : ".") + p));
}
