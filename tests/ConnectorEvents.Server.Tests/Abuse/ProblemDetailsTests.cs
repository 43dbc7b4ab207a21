using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace ConnectorEvents.Server.Tests.Abuse;

/// <summary>
/// A client's mistake is answered as problem details whatever the request says it accepts, and costs the log at most one
/// short line below Information: never a stack trace, never a Warning. A real server error still logs one Error with its
/// stack trace. (With <c>Accept: text/html</c> a not-found answered 500 and logged an error with a stack trace; 8,000
/// unauthenticated requests grew the log by 7.5 MiB.)
/// </summary>
public sealed class ProblemDetailsTests : IAsyncLifetime
{
    private const string ProblemJson = "application/problem+json";
    private const string ServerErrorPath = "/test/server-error";
    private const string ServerErrorMessage = "A bug, thrown by the test.";

    /// <summary>Firefox's Accept for a page; Chrome's adds image types before the same */*;q=0.8.</summary>
    private const string BrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    private static readonly (string Name, string? Value)[] Accepts =
    [
        ("a browser's", BrowserAccept),
        ("text/html", "text/html"),
        ("application/xml", "application/xml"),
        ("*/*", "*/*"),
        ("none", null),
        ("garbage", "garbage;;q=x, /"),
        ("JSON refused by q=0", "application/json;q=0, application/problem+json;q=0, text/html;q=1"),
    ];

    /// <summary>The event ids of Warnings logged on purpose: failed authentications, at most once per address and minute.</summary>
    private static readonly HashSet<int> DesignedWarnings = [LogEventIds.FailedAuthentication];

    private readonly CapturedLog _log = new();
    private RunningServer _server = null!;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await RunningServer.StartAsync(configure: builder =>
        {
            builder.Logging.AddProvider(_log);
            // The server's own lines down to Debug, to see what a mistake costs there; the framework's at the levels the settings give.
            builder.Logging.AddFilter<CapturedLog>("ConnectorEvents", LogLevel.Debug);
            builder.Services.AddSingleton<IStartupFilter, ServerErrorRoute>();
        });
        // Cookies as written by the test (the WebSocket's tokens), not from a cookie jar.
        _http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = _server.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    /// <summary>A request with one mistake in it, and the 4xx it must get.</summary>
    private sealed record Mistake(string Case, string Method, string Path, int Status, string? Key = RunningServer.AdminKey,
        byte[]? Body = null, string? ContentType = null, string? Cookie = null);

    private sealed record Answer(int Status, string ContentType, string Body)
    {
        public override string ToString() => $"{Status} {ContentType} {(Body.Length <= 300 ? Body : Body[..300] + "…")}";
    }

    [Fact]
    public async Task Every_client_mistake_on_every_route_is_problem_details_whatever_the_Accept_header()
    {
        var ct = TestContext.Current.CancellationToken;
        var routes = await DiscoveredRoute.DiscoverAsync(_http, ct);
        var seed = await AbuseSeed.CreateAsync(_server);
        var mistakes = Mistakes(routes, seed).ToList();
        var logged = _log.Count;
        var failures = new List<string>();
        foreach (var (accept, value) in Accepts)
        {
            foreach (var mistake in mistakes)
            {
                var answer = await SendAsync(mistake.Method, mistake.Path, value, mistake, ct);
                if (WhyNotProblem(answer, mistake.Status) is { } why)
                {
                    failures.Add($"Accept {accept} | {mistake.Case} → {answer}: {why}");
                }
            }
        }

        Assert.True(failures.Count == 0,
            $"{failures.Count} of {mistakes.Count * Accepts.Length} answers are wrong:\n" + string.Join("\n", failures.Take(60)));
        Assert.Equal([400, 401, 403, 404, 405, 409, 415], mistakes.Select(m => m.Status).Distinct().Order());
        var loud = _log.Since(logged).Where(e => e.Exception is not null || (e.Level >= LogLevel.Warning && !IsDesignedWarning(e))).ToList();
        Assert.True(loud.Count == 0, $"{loud.Count} log entries with an exception or at Warning and above, e.g.\n" + string.Join("\n", loud.Take(3)));
    }

    [Fact]
    public async Task Thousands_of_client_mistakes_from_a_browser_log_no_stack_trace_and_no_warning_while_a_bug_logs_one_error()
    {
        const int requests = 2000;
        var ct = TestContext.Current.CancellationToken;
        var logged = _log.Count;
        var wrong = new ConcurrentQueue<string>();
        // As a browser, a crawler or a scanner sends them: no key, a wrong key, ids that do not exist, the favicon.
        await Parallel.ForAsync(0, requests, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (i, token) =>
        {
            var (path, key, status) = (i % 4) switch
            {
                0 => ("/api/v1/enterprises", null, 401),
                1 => ($"/api/v1/integrations/{Guid.NewGuid()}", "not-the-key-0123456789", 401),
                2 => ($"/api/v1/enterprises/{Guid.NewGuid()}", RunningServer.AdminKey, 404),
                _ => ("/favicon.ico", (string?)null, 404),
            };
            var answer = await SendAsync("GET", path, Accepts[i % 3].Value, new Mistake("", "GET", path, status, key), token);
            if (WhyNotProblem(answer, status) is { } why)
            {
                wrong.Enqueue($"GET {path} → {answer}: {why}");
            }
        });
        var entries = _log.Since(logged);
        var shown = entries.Where(e => e.Level >= LogLevel.Information).ToList();
        var bytes = shown.Sum(e => e.Bytes);
        var summary = $"{requests} client mistakes with browser headers: {entries.Count} log entries ({shown.Count} at Information and above, "
            + $"{bytes} bytes; {entries.Count(e => e.Exception is not null)} with an exception).";
        TestContext.Current.TestOutputHelper?.WriteLine(summary);

        Assert.True(wrong.IsEmpty, $"{wrong.Count} of {requests} answers are wrong, e.g.\n" + string.Join("\n", wrong.Take(5)));
        var withException = entries.Where(e => e.Exception is not null).ToList();
        Assert.True(withException.Count == 0, summary + " E.g.\n" + string.Join("\n", withException.Take(2)));
        var loud = entries.Where(e => e.Level >= LogLevel.Warning && !IsDesignedWarning(e)).ToList();
        Assert.True(loud.Count == 0, summary + " E.g.\n" + string.Join("\n", loud.Take(3)));
        // A stack trace is a kilobyte or more; a short line per request would pass.
        Assert.True(bytes < requests * 100, summary);
        // Below Information too: at most one short line per mistake.
        Assert.True(entries.Count(e => !IsDesignedWarning(e)) <= requests, summary);
        Assert.All(entries, e => Assert.True(e.Bytes < 300, e.ToString()));
        // A thousand failed authentications from one address in well under a minute: one Warning, naming no key.
        var failedAuthentication = Assert.Single(entries, IsDesignedWarning);
        Assert.Contains("127.0.0.1", failedAuthentication.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-key", failedAuthentication.Message, StringComparison.Ordinal);

        // A bug, by contrast, is logged once, at Error, with its stack trace; the caller gets a 500 problem, not the trace.
        logged = _log.Count;
        var bug = await SendAsync("GET", ServerErrorPath, "text/html", new Mistake("", "GET", ServerErrorPath, 500, null), ct);
        Assert.Null(WhyNotProblem(bug, 500));
        Assert.DoesNotContain(ServerErrorMessage, bug.Body, StringComparison.Ordinal);
        var error = Assert.Single(_log.Since(logged), e => e.Level >= LogLevel.Warning);
        Assert.Equal(LogLevel.Error, error.Level);
        Assert.Equal(ServerErrorMessage, error.Exception?.Message);
        Assert.Contains(" at ", error.Exception!.ToString(), StringComparison.Ordinal);
    }

    private static bool IsDesignedWarning(CapturedEntry entry) => DesignedWarnings.Contains(entry.EventId.Id);

    private static IEnumerable<Mistake> Mistakes(IReadOnlyList<DiscoveredRoute> routes, AbuseSeed seed)
    {
        var json = "application/json";
        var ids = seed.Ids;
        foreach (var route in routes)
        {
            var path = route.PathWith(ids) ?? throw new InvalidOperationException($"Teach DiscoveredRoute.PathWith the parameters of {route}.");
            if (route.OperationId == "ConnectWebSocket")
            {
                var tokens = $"ClientToken={seed.EnabledClientToken}; AccessToken={seed.EnabledAccessToken}";
                yield return new($"{route}: no cookies", "GET", path, 401, null);
                yield return new($"{route}: a Disabled integration's tokens", "GET", path, 403, null,
                    Cookie: $"ClientToken={seed.OtherClientToken}; AccessToken={seed.DisabledAccessToken}");
                yield return new($"{route}: valid tokens but no upgrade", "GET", path, 400, null, Cookie: tokens);
                yield return new($"{route}: POST", "POST", path, 405, null, Cookie: tokens);
                continue;
            }
            var valid = route.HasBody ? Encoding.UTF8.GetBytes(AbuseCases.Bodies[route.OperationId].ValidBody(ids).ToJsonString()) : null;
            var type = valid is null ? null : json;
            if (route.UnderApi)
            {
                yield return new($"{route}: no key", route.Method, path, 401, null, valid, type);
                yield return new($"{route}: a wrong key", route.Method, path, 401, "not-the-key-0123456789", valid, type);
            }
            foreach (var (name, _) in route.PathParameters.Take(1))
            {
                yield return new($"{route}: an unknown {name}", route.Method, route.PathWith(ids, name, Guid.NewGuid().ToString())!, 404,
                    Body: valid, ContentType: type);
            }
            if (valid is not null)
            {
                yield return new($"{route}: broken JSON", route.Method, path, 400, Body: "{\"Events\":[{"u8.ToArray(), ContentType: json);
                yield return new($"{route}: a text/plain body", route.Method, path, 415, Body: valid, ContentType: "text/plain");
            }
            if (routes.First(r => r.Template == route.Template) == route)
            {
                var taken = routes.Where(r => r.Template == route.Template).Select(r => r.Method).ToHashSet();
                var other = new[] { "PUT", "PATCH", "DELETE", "POST", "GET" }.First(m => !taken.Contains(m));
                yield return new($"{other} {route.Template}", other, path, 405);
            }
        }
        yield return new("GET a path no route matches, with the key", "GET", "/api/v1/nope", 404);
        yield return new("GET a path no route matches, outside /api", "GET", "/nope", 404, null);
        yield return new("enable an Enabled integration", "POST", $"/api/v1/integrations/{ids.IntegrationId}/enable", 409);
        yield return new("reinstate an integration that is not Canceled", "POST", $"/api/v1/integrations/{ids.IntegrationId}/reinstate", 409);
        yield return new("create an enterprise with an id taken", "POST", "/api/v1/enterprises", 409,
            Body: Encoding.UTF8.GetBytes($"{{\"Name\":\"Again\",\"Id\":\"{ids.EnterpriseId}\"}}"), ContentType: json);
    }

    private async Task<Answer> SendAsync(string method, string path, string? accept, Mistake mistake, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        if (mistake.Body is not null)
        {
            request.Content = new ByteArrayContent(mistake.Body);
            if (mistake.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", mistake.ContentType);
            }
        }
        if (mistake.Key is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + mistake.Key);
        }
        if (mistake.Cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", mistake.Cookie);
        }
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }
        if (accept == BrowserAccept)
        {
            request.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0");
            request.Headers.TryAddWithoutValidation("Accept-Language", "en-US,en;q=0.5");
            request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, deflate, br, zstd");
            request.Headers.TryAddWithoutValidation("Upgrade-Insecure-Requests", "1");
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Dest", "document");
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Mode", "navigate");
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "none");
            request.Headers.TryAddWithoutValidation("Sec-Fetch-User", "?1");
        }
        using var response = await _http.SendAsync(request, ct);
        return new Answer((int)response.StatusCode, response.Content.Headers.ContentType?.ToString() ?? "",
            await response.Content.ReadAsStringAsync(ct));
    }

    /// <summary>Why the answer is not the problem details of <paramref name="status"/>, or null when it is.</summary>
    private static string? WhyNotProblem(Answer answer, int status)
    {
        if (answer.Status != status)
        {
            return $"expected {status}";
        }
        if (!answer.ContentType.StartsWith(ProblemJson, StringComparison.OrdinalIgnoreCase))
        {
            return $"not {ProblemJson}";
        }
        JsonObject? problem;
        try
        {
            problem = JsonNode.Parse(answer.Body) as JsonObject;
        }
        catch (JsonException)
        {
            return "the body is not JSON";
        }
        if (problem?["status"] is not JsonValue value || !value.TryGetValue<int>(out var written) || written != status)
        {
            return "the problem's status is not the HTTP status";
        }
        return problem["title"] is JsonValue title && title.TryGetValue<string>(out var t) && t.Length > 0
            && problem["detail"] is JsonValue detail && detail.TryGetValue<string>(out var d) && d.Length > 0
            ? null
            : "the problem has no title or no detail";
    }

    /// <summary>A path that fails as a bug would: after the server's own middleware, so inside its exception handler.</summary>
    private sealed class ServerErrorRoute : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Use((context, following) => context.Request.Path == ServerErrorPath
                ? throw new InvalidOperationException(ServerErrorMessage)
                : following(context));
        };
    }
}
