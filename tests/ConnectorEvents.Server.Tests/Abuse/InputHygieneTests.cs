using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests.Abuse;

/// <summary>
/// What the server acts on is what the caller meant, or the request is refused saying where: a field given twice, in any
/// spelling, anywhere in a body (which one won depended on the route); a webhook URL holding a character that System.Uri
/// silently drops or that hides in a listing; a body said to be in a charset other than UTF-8.
/// </summary>
public sealed class InputHygieneTests : IAsyncLifetime
{
    private const string ProblemJson = "application/problem+json";
    private const string Secret = "s3cret-hygiene-token";
    private const string GoodUrl = "http://127.0.0.1:9/hook?Token=" + Secret;

    private RunningServer _server = null!;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await RunningServer.StartAsync();
        _http = new HttpClient { BaseAddress = _server.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        _http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + RunningServer.AdminKey);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private sealed record Answer(int Status, string ContentType, string Body)
    {
        public override string ToString() => $"{Status} {ContentType} {(Body.Length <= 300 ? Body : Body[..300] + "…")}";
    }

    [Fact]
    public async Task A_field_given_twice_in_any_spelling_anywhere_in_a_body_is_refused_naming_it_on_every_route_that_takes_one()
    {
        var ct = TestContext.Current.CancellationToken;
        var routes = (await DiscoveredRoute.DiscoverAsync(_http, ct)).Where(r => r.HasBody).ToList();
        Assert.Equal(AbuseCases.Bodies.Keys.Order(), routes.Select(r => r.OperationId).Order());
        var ids = (await AbuseSeed.CreateAsync(_server)).Ids;
        var failures = new List<string>();
        var cases = 0;
        foreach (var route in routes)
        {
            var path = route.PathWith(ids)!;
            foreach (var body in BodiesOf(route, ids))
            {
                var sent = await SendAsync(route.Method, path, Encoding.UTF8.GetBytes(body.ToJsonString()), "application/json", ct);
                if (sent.Status is < 200 or > 299)
                {
                    failures.Add($"{route} | the valid body {body.ToJsonString()} → {sent}: expected 2xx");
                    continue;
                }
                foreach (var at in ObjectsIn(body, []))
                {
                    var (name, value) = ((JsonObject)Get(body, at)!).First();
                    foreach (var spelling in new[] { name, name.ToLowerInvariant(), name.ToUpperInvariant(), Escaped(name) })
                    {
                        cases++;
                        var text = WithRepeated(body, at, spelling, value);
                        var field = Describe([.. at, name]);
                        var answer = await SendAsync(route.Method, path, Encoding.UTF8.GetBytes(text), "application/json", ct);
                        if (WhyNotInvalid(answer, field) is { } why)
                        {
                            failures.Add($"{route} | {text} → {answer}: {why}");
                        }
                    }
                }
            }
        }
        // The two the issue found: a name given twice (the last won) and a discriminator given twice (the first won).
        var enterprise = $"/api/v1/enterprises/{ids.EnterpriseId}/events";
        var general = $$"""{"Events":[{"Discriminator":"CustomerAdded","Value":{"Id":"{{Guid.NewGuid()}}"},"Discriminator":"ResourceUpdated"}]}""";
        // And in a wide object, which is searched another way than the few fields of a usual one.
        var wide = "{\"Name\":\"First\"," + string.Concat(Enumerable.Range(0, 40).Select(i => $"\"Field{i}\":{i},")) + "\"NAME\":\"Second\"}";
        foreach (var (path, text, field) in new[]
                 {
                     ("/api/v1/enterprises", """{"Name":"First","Name":"Second"}""", "Name"),
                     (enterprise, general, "Events[0].Discriminator"),
                     ("/api/v1/enterprises", wide, "Name"),
                 })
        {
            cases++;
            var answer = await SendAsync("POST", path, Encoding.UTF8.GetBytes(text), "application/json", ct);
            if (WhyNotInvalid(answer, field) is { } why)
            {
                failures.Add($"POST {path} | {text} → {answer}: {why}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} cases failed:\n" + string.Join("\n", failures.Take(40)));
        Assert.InRange(cases, 40, 1000);
    }

    [Fact]
    public async Task A_webhook_url_with_a_control_space_or_invisible_character_is_refused_naming_the_field_and_nothing_is_trimmed()
    {
        var ct = TestContext.Current.CancellationToken;
        var client = await _server.PostAsync("/api/v1/clients", new { Name = "Hygiene App", IntegrationWebhookUrl = GoodUrl, GeneralWebhookUrl = GoodUrl });
        var clientPath = $"/api/v1/clients/{(string)client["Id"]!}";
        var hidden = new (string Case, string Url)[]
        {
            ("a leading space", " " + GoodUrl),
            ("a trailing space", GoodUrl + " "),
            ("a trailing line feed", GoodUrl + "\n"),
            ("a trailing CR LF", GoodUrl + "\r\n"),
            ("a space inside", GoodUrl.Replace("/hook", "/ho ok", StringComparison.Ordinal)),
        }.Concat(new (string, char)[]
        {
            ("a tab", '\t'), ("a line feed", '\n'), ("a carriage return", '\r'), ("a NUL", '\0'), ("U+0001", '\u0001'),
            ("U+001F", '\u001f'), ("DEL", '\u007f'), ("NEL (U+0085)", '\u0085'), ("a no-break space", '\u00a0'),
            ("a line separator (U+2028)", '\u2028'), ("a paragraph separator (U+2029)", '\u2029'), ("a right-to-left override", '\u202e'),
            ("a left-to-right isolate", '\u2066'), ("a zero-width space", '\u200b'), ("a zero-width joiner", '\u200d'),
            ("a byte order mark", '\ufeff'), ("a soft hyphen", '\u00ad'), ("an ideographic space", '\u3000'),
        }.Select(c => (c.Item1, GoodUrl.Replace("/hook", $"/ho{c.Item2}ok", StringComparison.Ordinal)))).ToList();
        var failures = new List<string>();
        foreach (var field in new[] { "IntegrationWebhookUrl", "GeneralWebhookUrl" })
        {
            foreach (var (@case, url) in hidden)
            {
                var create = new JsonObject { ["Name"] = "Hygiene App", [field] = url };
                var patch = new JsonObject { [field] = url };
                foreach (var (method, path, body) in new[] { ("POST", "/api/v1/clients", create), ("PATCH", clientPath, patch) })
                {
                    var answer = await SendAsync(method, path, Encoding.UTF8.GetBytes(body.ToJsonString()), "application/json", ct);
                    if (WhyNotInvalid(answer, field) is { } why)
                    {
                        failures.Add($"{method} {path} {field}: {@case} → {answer}: {why}");
                    }
                    else if (answer.Body.Contains(Secret, StringComparison.Ordinal))
                    {
                        failures.Add($"{method} {path} {field}: {@case} → {answer}: the refusal repeats the URL's token");
                    }
                }
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {hidden.Count * 4} refusals failed:\n" + string.Join("\n", failures));
        var stored = await _server.GetAsync(clientPath);
        Assert.Equal(GoodUrl, (string?)stored["IntegrationWebhookUrl"]);
        Assert.Equal(GoodUrl, (string?)stored["GeneralWebhookUrl"]);

        // Percent-encoded, such characters are part of the URL; so are letters beyond ASCII. Both are kept exactly as sent.
        foreach (var url in new[] { "http://127.0.0.1:9/ho%09ok?Token=a%0D%0Ab", "http://127.0.0.1:9/h\u00f4tel/\u65c5\u9928?Token=x" })
        {
            var updated = await _server.SendAsync(HttpMethod.Patch, clientPath, new { IntegrationWebhookUrl = url });
            Assert.Equal(url, (string?)updated["IntegrationWebhookUrl"]);
        }
    }

    [Fact]
    public async Task An_ingest_body_read_event_by_event_is_refused_at_its_first_flaw_naming_the_place_as_a_whole_body_parse_did()
    {
        // The ingest route parses its body one event at a time (RequestReading.LargeBodies); every other route parses the
        // whole body at once. The places and words of a refusal must not tell the two apart.
        var ct = TestContext.Current.CancellationToken;
        var ids = (await AbuseSeed.CreateAsync(_server)).Ids;
        var path = $"/api/v1/enterprises/{ids.EnterpriseId}/events";
        var valid = $$$"""{"Discriminator":"CustomerAdded","Value":{"Id":"{{{Guid.NewGuid()}}}"}}""";
        var failures = new List<string>();
        foreach (var (@case, text, field) in new[]
                 {
                     ("a field twice in the second event",
                         $$$"""{"Events":[{{{valid}}},{"Discriminator":"CustomerAdded","Value":{"Id":"{{{Guid.NewGuid()}}}","id":"{{{Guid.NewGuid()}}}"}}]}""",
                         "Events[1].Value.Id"),
                     ("a lone surrogate in the second event", $$"""{"Events":[{{valid}},{"Type":"Resource","Id":"{{Guid.NewGuid()}}","State":"\ud800"}]}""",
                         "Events[1].State"),
                     ("Events twice", $$"""{"Events":[{{valid}}],"events":[{{valid}}]}""", "Events"),
                     ("Events an object", """{"Events":{}}""", "Events"),
                     ("no Events", "{}", "Events"),
                     ("no event", """{"Events":[]}""", "Events"),
                     ("an unknown field before Events", $$"""{"Colour":"red","Events":[{{valid}}]}""", "Colour"),
                     ("a lone surrogate in a field name", $$"""{"\udc00":1,"Events":[{{valid}}]}""", "body (a field name)"),
                     ("a million and a half items (3 MiB)", "{\"Events\":[" + string.Join(',', Enumerable.Repeat('1', 1_500_000)) + "]}", "Events"),
                     // Events are parsed some 32 KiB at a time; white space spreads these over three such parts.
                     ("a field twice in the 38th of 40 events, two parts in",
                         "{\"Events\":[" + string.Join("," + new string(' ', 2048), Enumerable.Range(0, 40).Select(i => i == 37
                             ? $$$"""{"Discriminator":"CustomerAdded","Value":{"Id":"{{{Guid.NewGuid()}}}","ID":"{{{Guid.NewGuid()}}}"}}"""
                             : $$$"""{"Discriminator":"CustomerAdded","Value":{"Id":"{{{Guid.NewGuid()}}}"}}""")) + "]}",
                         "Events[37].Value.Id"),
                     ("the second event a number", $$"""{"Events":[{{valid}},5]}""", "Events[1]"),
                     ("an unknown field in the third event", $$"""{"Events":[{{valid}},{{valid}},{{valid[..^1]}},"Colour":1}]}""", "Events[2].Colour"),
                     // Sixteen levels, the most any body may have, are read; the event is then refused for its shape.
                     ("16 levels deep", $$"""{"Events":[{"Discriminator":"CustomerAdded","Value":{{new string('[', 13)}}{{new string(']', 13)}}}]}""",
                         "Events[0].Value"),
                 })
        {
            var answer = await SendAsync("POST", path, Encoding.UTF8.GetBytes(text), "application/json", ct);
            if (WhyNotInvalid(answer, field) is { } why)
            {
                failures.Add($"{@case}: {text} → {answer}: {why}");
            }
        }
        foreach (var (@case, text, detail) in new[]
                 {
                     ("text after the object", $$"""{"Events":[{{valid}}]} x""", "Invalid JSON at line 1"),
                     ("a colon missing on the third line", "{\"Events\":[\n" + valid + ",\n{\"Discriminator\" \"CustomerAdded\"}]}", "Invalid JSON at line 3"),
                     ("cut short after an event", $$"""{"Events":[{{valid}}""", "Invalid JSON at line 1"),
                     ("17 levels deep", $$"""{"Events":[{"Discriminator":"CustomerAdded","Value":{{new string('[', 14)}}{{new string(']', 14)}}}]}""",
                         "Invalid JSON at line 1"),
                     ("an array, not an object", $"[{valid}]", "The body must be a JSON object."),
                     ("only white space", "  \n ", "Invalid JSON at line"),
                 })
        {
            var answer = await SendAsync("POST", path, Encoding.UTF8.GetBytes(text), "application/json", ct);
            if (answer.Status != 400 || !answer.ContentType.StartsWith(ProblemJson, StringComparison.Ordinal)
                || !answer.Body.Contains(detail, StringComparison.Ordinal))
            {
                failures.Add($"{@case}: {text} → {answer}: expected 400 problem details saying '{detail}'");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} cases failed:\n" + string.Join("\n", failures));
    }

    [Fact]
    public async Task A_body_said_to_be_in_a_charset_other_than_UTF_8_is_415_on_every_route_while_UTF_8_in_any_spelling_is_read()
    {
        var ct = TestContext.Current.CancellationToken;
        var routes = (await DiscoveredRoute.DiscoverAsync(_http, ct)).Where(r => r.HasBody).ToList();
        var ids = (await AbuseSeed.CreateAsync(_server)).Ids;
        string[] refused =
        [
            "application/json; charset=iso-8859-1", "application/json; charset=utf-16", "application/json; charset=UTF-16LE",
            "application/json; charset=utf-32", "application/json; charset=us-ascii", "application/json; charset=windows-1252",
            "application/json; charset=\"latin1\"", "application/json; charset=utf-7", "application/json; charset=utf8x",
            "application/json; charset=", "application/json; charset=utf-8; charset=iso-8859-1",
            "application/merge-patch+json; charset=utf-16",
        ];
        string[] read =
        [
            "application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8", "application/json; charset=\"utf-8\"",
            "Application/JSON ; Charset = Utf-8",
        ];
        var failures = new List<string>();
        foreach (var route in routes)
        {
            var path = route.PathWith(ids)!;
            var body = Encoding.UTF8.GetBytes(AbuseCases.Bodies[route.OperationId].ValidBody(ids).ToJsonString());
            foreach (var contentType in refused)
            {
                var answer = await SendAsync(route.Method, path, body, contentType, ct);
                if (answer.Status != 415 || !answer.ContentType.StartsWith(ProblemJson, StringComparison.Ordinal)
                    || !answer.Body.Contains("UTF-8", StringComparison.Ordinal))
                {
                    failures.Add($"{route} | Content-Type: {contentType} → {answer}: expected 415 problem details asking for UTF-8");
                }
            }
            foreach (var contentType in read)
            {
                var answer = await SendAsync(route.Method, path, body, contentType, ct);
                if (answer.Status is < 200 or > 299)
                {
                    failures.Add($"{route} | Content-Type: {contentType} → {answer}: expected 2xx");
                }
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {routes.Count * (refused.Length + read.Length)} cases failed:\n"
            + string.Join("\n", failures));
        Assert.Equal(AbuseCases.Bodies.Count, routes.Count);
    }

    /// <summary>The route's valid body, and for ingest also a General event, whose Value is an object inside the event.</summary>
    private static IEnumerable<JsonObject> BodiesOf(DiscoveredRoute route, AbuseIds ids)
    {
        yield return AbuseCases.Bodies[route.OperationId].ValidBody(ids);
        if (route.OperationId == "IngestEvents")
        {
            yield return new JsonObject
            {
                ["Events"] = new JsonArray(new JsonObject
                {
                    ["Discriminator"] = "CustomerAdded",
                    ["Value"] = new JsonObject { ["Id"] = Guid.NewGuid().ToString() },
                }),
            };
        }
    }

    /// <summary>The body's text with <paramref name="spelling"/> added after the fields of the object at <paramref name="at"/>.</summary>
    private static string WithRepeated(JsonObject body, object[] at, string spelling, JsonNode? value)
    {
        const string placeholder = "PLACEHOLDER-FOR-THE-REPEATED-FIELD";
        var copy = body.DeepClone().AsObject();
        ((JsonObject)Get(copy, at)!)[placeholder] = 0;
        return copy.ToJsonString().Replace($"\"{placeholder}\":0", $"\"{spelling}\":{value?.ToJsonString() ?? "null"}", StringComparison.Ordinal);
    }

    /// <summary>The name with its second letter written as a JSON escape: the same name to a reader, other bytes on the wire.</summary>
    private static string Escaped(string name) => name[..1] + $"\\u{(int)name[1]:x4}" + name[2..];

    private static IEnumerable<object[]> ObjectsIn(JsonNode node, object[] at)
    {
        if (node is JsonObject)
        {
            yield return at;
        }
        var children = node switch
        {
            JsonObject o => o.Select(p => ((object)p.Key, p.Value)).ToList(),
            JsonArray a => a.Select((v, i) => ((object)i, v)).ToList(),
            _ => [],
        };
        foreach (var (key, child) in children)
        {
            if (child is not null)
            {
                foreach (var deeper in ObjectsIn(child, [.. at, key]))
                {
                    yield return deeper;
                }
            }
        }
    }

    private static JsonNode? Get(JsonNode node, IReadOnlyList<object> path) =>
        path.Aggregate((JsonNode?)node, (n, key) => key is int i ? n?[i] : n?[(string)key]);

    private static string Describe(IReadOnlyList<object> path) =>
        string.Concat(path.Select((p, i) => p is int n ? $"[{n}]" : (i == 0 ? "" : ".") + p));

    private async Task<Answer> SendAsync(string method, string path, byte[] body, string contentType, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await _http.SendAsync(request, ct);
        return new Answer((int)response.StatusCode, response.Content.Headers.ContentType?.ToString() ?? "", await response.Content.ReadAsStringAsync(ct));
    }

    /// <summary>Why the answer is not a 400 problem naming <paramref name="field"/> among its errors, or null when it is.</summary>
    private static string? WhyNotInvalid(Answer answer, string field)
    {
        if (answer.Status != 400 || !answer.ContentType.StartsWith(ProblemJson, StringComparison.Ordinal))
        {
            return "expected 400 problem details";
        }
        try
        {
            return JsonNode.Parse(answer.Body)?["errors"]?[field] is JsonArray { Count: > 0 } ? null : $"the problem's errors do not name {field}";
        }
        catch (JsonException)
        {
            return "the body is not JSON";
        }
    }
}
