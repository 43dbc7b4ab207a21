using System.Net;
using System.Text.RegularExpressions;
using ConnectorEvents.Server.OperatorConsole;
using ConnectorEvents.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using static ConnectorEvents.Core.Storage.WebhookChannel;

namespace ConnectorEvents.Server.Tests.OperatorConsole;

/// <summary>The console's promises seen from HTTP: its cookie, its headers, who may open it and for how long, and no secret in it.</summary>
public sealed partial class ConsoleTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_session_cookie_is_http_only_same_site_strict_on_the_console_path_and_secure_under_https()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Proxy:TrustedNetworks:0"] = "127.0.0.0/8" });
        using var plain = new ConsoleSessionClient(server.BaseUri);
        using var signedIn = await plain.SignInAsync(RunningServer.AdminKey);
        Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);
        Assert.Equal("/console", signedIn.Headers.Location!.ToString());
        var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ce_console=", StringComparison.Ordinal));
        Assert.Contains("path=/console", cookie, StringComparison.Ordinal);
        Assert.Contains("samesite=strict", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.Ordinal);
        Assert.DoesNotContain("secure", cookie, StringComparison.Ordinal);
        Assert.DoesNotContain(RunningServer.AdminKey, cookie, StringComparison.Ordinal);

        // Behind a trusted proxy that terminated HTTPS, the cookie may only travel over HTTPS.
        using var https = new ConsoleSessionClient(server.BaseUri, new Dictionary<string, string> { ["X-Forwarded-Proto"] = "https" });
        using var secure = await https.SignInAsync(RunningServer.AdminKey);
        Assert.Contains(secure.Headers.GetValues("Set-Cookie"), c => c.StartsWith("ce_console=", StringComparison.Ordinal) && c.Contains("secure", StringComparison.Ordinal));

        // Only the console's pages read its cookie: as the one registered scheme it would have been the default, read for
        // every request by the authentication middleware the host adds (the API and ingest included).
        var schemes = server.Services.GetRequiredService<Microsoft.AspNetCore.Authentication.IAuthenticationSchemeProvider>();
        Assert.Null(await schemes.GetDefaultAuthenticateSchemeAsync());

        var token = await plain.TokenAsync("/console"); // the sign-out form's
        using var signedOut = await plain.PostAsync("/console/sign-out", new() { ["__antiforgery"] = token });
        Assert.Equal(HttpStatusCode.Found, signedOut.StatusCode);
        using var after = await plain.GetAsync("/console");
        Assert.Equal(HttpStatusCode.Found, after.StatusCode);
        Assert.StartsWith("/console/sign-in", after.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_page_has_a_strict_content_security_policy_no_inline_script_or_style_and_is_not_cached()
    {
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, _) = await server.SeedAsync(null);
        var integrationId = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var message = (string)(await server.GetAsync("/api/v1/messages?limit=1"))["Messages"]![0]!["Id"]!;
        using var console = new ConsoleSessionClient(server.BaseUri);
        (await console.SignInAsync(RunningServer.AdminKey)).Dispose();
        foreach (var page in new[]
        {
            "/console", "/console?handler=live", "/console/clients", $"/console/clients/{clientId}", "/console/integrations",
            $"/console/integrations/{integrationId}", "/console/messages", $"/console/messages/{message}", "/console/live",
            "/console/live?handler=live", "/console/cluster", "/console/sign-in",
        })
        {
            using var response = await console.GetAsync(page);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{page}: {response.StatusCode}");
            var csp = response.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            Assert.Contains("no-store", response.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
            var html = await response.Content.ReadAsStringAsync(Cancel);
            Assert.DoesNotMatch(InlineScript(), html);
            Assert.DoesNotContain(" style=", html, StringComparison.Ordinal);
            Assert.DoesNotMatch(OnHandler(), html);
        }
        using var css = await console.GetAsync("/console/assets/console.css");
        Assert.Equal("text/css; charset=utf-8", css.Content.Headers.ContentType!.ToString());
        using var missing = await console.GetAsync("/console/assets/nothing.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task A_session_ends_when_its_key_is_deleted_and_a_session_opens_on_any_process_sharing_the_master_key()
    {
        await using var server = await RunningServer.StartAsync();
        var made = await server.PostAsync("/api/v1/api-keys", new { Name = "Ops", Role = "Admin" });
        using var console = new ConsoleSessionClient(server.BaseUri);
        (await console.SignInAsync((string)made["Key"]!)).Dispose();
        using (var open = await console.GetAsync("/console/clients"))
        {
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        }

        // Another process (same master key and admin key, its own storage): the admin's session cookie opens it too.
        await using var other = await RunningServer.StartAsync();
        using var admin = new ConsoleSessionClient(server.BaseUri);
        (await admin.SignInAsync(RunningServer.AdminKey)).Dispose();
        var session = admin.Cookies["ce_console"];
        using var elsewhere = new ConsoleSessionClient(other.BaseUri);
        elsewhere.Cookies["ce_console"] = session;
        using (var opened = await elsewhere.GetAsync("/console/cluster"))
        {
            Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        }

        await server.SendAsync(HttpMethod.Delete, $"/api/v1/api-keys/{made["Id"]}", expectedStatus: 204);
        using var closed = await console.GetAsync("/console/clients");
        Assert.Equal(HttpStatusCode.Found, closed.StatusCode);
        Assert.StartsWith("/console/sign-in", closed.Headers.Location!.PathAndQuery, StringComparison.Ordinal);

        // A cookie sealed by a server with another master key opens nothing.
        await using var stranger = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Security:EncryptionKey"] = Convert.ToBase64String(new byte[32]),
        });
        using var forged = new ConsoleSessionClient(stranger.BaseUri);
        forged.Cookies["ce_console"] = session;
        using var refused = await forged.GetAsync("/console/cluster");
        Assert.Equal(HttpStatusCode.Found, refused.StatusCode);
    }

    [Fact]
    public async Task A_rotated_secret_and_a_new_access_token_show_once_and_never_in_a_later_page_or_the_log()
    {
        var log = new CapturedLog();
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync(configure: b => b.Logging.AddProvider(log));
        var (enterpriseId, clientId, firstSecret) = await server.SeedAsync(sink.Url("/hook?Token=url-token-in-the-query"));
        var integrationId = await server.CreateIntegrationAsync(enterpriseId, clientId);
        using var console = new ConsoleSessionClient(server.BaseUri);
        (await console.SignInAsync(RunningServer.AdminKey)).Dispose();

        var token = await console.TokenAsync($"/console/clients/{clientId}");
        using var rotated = await console.PostAsync($"/console/clients/{clientId}?handler=Rotate", new() { ["__antiforgery"] = token });
        var shown = await rotated.Content.ReadAsStringAsync(Cancel);
        var secret = SecretField().Match(shown).Groups[1].Value;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Contains("no-store", rotated.Headers.CacheControl!.ToString(), StringComparison.Ordinal);

        token = await console.TokenAsync($"/console/integrations/{integrationId}");
        using var regenerated = await console.PostAsync($"/console/integrations/{integrationId}",
            new() { ["__antiforgery"] = token, ["command"] = "RegenerateAccessToken" });
        var accessToken = TokenValue().Match(await regenerated.Content.ReadAsStringAsync(Cancel)).Groups[1].Value;
        Assert.NotEmpty(accessToken);

        var everything = new List<string>();
        // Each page read as served to the signed-in admin: a redirect to sign-in or an error page would search nothing.
        async Task ReadAsync(string page)
        {
            using var response = await console.GetAsync(page);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{page}: {(int)response.StatusCode}");
            var html = await response.Content.ReadAsStringAsync(Cancel);
            Assert.Contains("Sign out", html, StringComparison.Ordinal);
            everything.Add(html);
        }
        foreach (var page in new[] { $"/console/clients/{clientId}", "/console/clients", $"/console/integrations/{integrationId}", "/console/messages", "/console" })
        {
            await ReadAsync(page);
        }
        var messages = await server.GetAsync($"/api/v1/messages?integrationId={integrationId}");
        foreach (var listed in messages["Messages"]!.AsArray())
        {
            await ReadAsync($"/console/messages/{listed!["Id"]}");
        }
        everything.AddRange(log.Entries.Select(e => e.ToString()));
        foreach (var secretText in new[] { secret, firstSecret, accessToken, "url-token-in-the-query", RunningServer.AdminKey })
        {
            Assert.DoesNotContain(everything, text => text.Contains(secretText, StringComparison.Ordinal));
        }
        // Pages with forms, seen and posted: not a Warning from the framework among them (antiforgery warns of cache headers it overrides).
        Assert.DoesNotContain(log.Entries, e => e.Level >= LogLevel.Warning && e.Category.StartsWith("Microsoft.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_overview_charts_count_this_processs_deliveries_attempts_and_failures_in_ten_second_steps()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = await WebhookSink.StartAsync();
        // 410 Gone fails its message at once (no retry waits on the fake clock) and disables the endpoint.
        sink.Respond = (context, _) => Delivery.Answer(context, context.Request.Path == "/gone" ? 410 : 200);
        await using var server = await RunningServer.StartAsync(time: time);
        // Three deliveries (created, disabled, enabled) and one message failed, all in the step under way.
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/ok"));
        var integrationId = await server.CreateIntegrationAsync(enterpriseId, clientId);
        await server.PostAsync($"/api/v1/integrations/{integrationId}/disable");
        await server.PostAsync($"/api/v1/integrations/{integrationId}/enable");
        var (_, failingClient, _) = await server.SeedAsync(sink.Url("/gone"), "Failing");
        await server.CreateIntegrationAsync(enterpriseId, failingClient);
        await sink.WaitForAsync(4, Delivery.WaitLimit);
        using var console = new ConsoleSessionClient(server.BaseUri);
        (await console.SignInAsync(RunningServer.AdminKey)).Dispose();
        await Delivery.WaitUntilAsync(() => Chart(console, "Messages per second").Contains("delivered 0.3", StringComparison.Ordinal),
            "the deliveries counted");

        // The step closes ten seconds on, and the charts say its figures (the next, under way, starts empty).
        time.Advance(ConsoleMetrics.StepLength);
        var attempts = Chart(console, "Attempts per second by outcome");
        Assert.True(attempts.StartsWith("Attempts per second by outcome, last hour: success 0.3, HTTP error 0.1,", StringComparison.Ordinal), attempts);
        var html = await (await console.GetAsync("/console?handler=live")).Content.ReadAsStringAsync(Cancel);
        Assert.Matches("Failing App</a></td>\\s*<td>Integration</td>\\s*<td><span class=\"state state-disabled\">Disabled", html); // the worst endpoint
        // The closed step: 3 delivered, 1 failed, 3 successes and 1 HTTP error, on the Integration channel.
        var steps = server.Services.GetRequiredService<ConsoleMetrics>().Read();
        Assert.Equal(2, steps.Count);
        Assert.Equal((3L, 1L, 3L, 1L), (steps[0].DeliveredOf(Integration), steps[0].FailedOf(Integration), steps[0].AttemptsOf(Integration, 0), steps[0].AttemptsOf(Integration, 1)));
        Assert.Equal(0L, steps[0].DeliveredOf(General));
        Assert.NotNull(steps[0].LatencyAt(Integration, 0.99));
        Assert.Equal((0L, 0L), (steps[1].DeliveredOf(Integration), steps[1].FailedOf(Integration)));
    }

    [Fact]
    public async Task The_backlog_is_counted_only_while_someone_looks_at_the_console()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, 503);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Delivery:RetrySchedule:0"] = "01:00:00", ["Delivery:Jitter"] = "0",
        }, time);
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/busy"));
        await server.CreateIntegrationAsync(enterpriseId, clientId);
        await sink.WaitForAsync(1, Delivery.WaitLimit); // one message pending, waiting an hour for its retry
        var metrics = server.Services.GetRequiredService<ConsoleMetrics>();

        // Nobody looks: a minute and more of steps, and no count.
        for (var i = 0; i < 7; i++)
        {
            time.Advance(ConsoleMetrics.StepLength);
        }
        Assert.All(metrics.Read(), s => Assert.Equal(0L, s.PendingOf(Integration)));

        // Signing in and a page without the backlog start nothing; the Overview, which shows it, is counted from the next step.
        using var console = new ConsoleSessionClient(server.BaseUri);
        (await console.SignInAsync(RunningServer.AdminKey)).Dispose();
        (await console.GetAsync("/console/clients")).Dispose();
        time.Advance(ConsoleMetrics.StepLength);
        Assert.All(metrics.Read(), s => Assert.Equal(0L, s.PendingOf(Integration)));
        (await console.GetAsync("/console")).Dispose();
        time.Advance(ConsoleMetrics.StepLength);
        var steps = metrics.Read();
        Assert.Equal(1L, steps[^2].PendingOf(Integration));
        Assert.True(steps[^2].OldestAgeOf(Integration) >= 70, $"{steps[^2].OldestAgeOf(Integration)} s");

        // Past the watching time without a page, the count stops (the steps keep the last figure).
        time.Advance(ConsoleMetrics.Watching);
        time.Advance(ConsoleMetrics.StepLength);
        var last = metrics.Read()[^2].OldestAgeOf(Integration);
        for (var i = 0; i < 7; i++)
        {
            time.Advance(ConsoleMetrics.StepLength);
        }
        Assert.Equal(last, metrics.Read()[^2].OldestAgeOf(Integration));
    }

    /// <summary>A chart's accessible summary on the overview's live part: its title and latest values.</summary>
    private static string Chart(ConsoleSessionClient console, string title)
    {
        using var response = console.GetAsync("/console?handler=live").Result;
        var html = response.Content.ReadAsStringAsync().Result;
        return Regex.Match(html, $"aria-label=\"({Regex.Escape(title)}, last hour: [^\"]*)\"").Groups[1].Value;
    }

    [Fact]
    public async Task Turned_off_the_console_answers_404_and_the_api_still_works()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Console:Enabled"] = "false" });
        using var console = new ConsoleSessionClient(server.BaseUri);
        using var page = await console.GetAsync("/console");
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        using var asset = await console.GetAsync("/console/assets/console.css");
        Assert.Equal(HttpStatusCode.NotFound, asset.StatusCode);
        await server.GetAsync("/api/v1/clients");
    }

    [Fact]
    public async Task A_bad_return_url_or_a_page_that_does_not_exist_is_refused_plainly()
    {
        await using var server = await RunningServer.StartAsync();
        using var console = new ConsoleSessionClient(server.BaseUri);
        var token = await console.TokenAsync("/console/sign-in");
        using var offsite = await console.PostAsync("/console/sign-in?returnUrl=https%3A%2F%2Fevil.example%2F",
            new() { ["ApiKey"] = RunningServer.AdminKey, ["__antiforgery"] = token });
        Assert.Equal("/console", offsite.Headers.Location!.ToString());
        using var message = await console.GetAsync("/console/messages/msg_nothing");
        Assert.Equal(HttpStatusCode.NotFound, message.StatusCode);
        using var client = await console.GetAsync($"/console/clients/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, client.StatusCode);
        // An unknown filter value is left out and named, not an error page.
        using var filter = await console.GetAsync("/console/messages?status=Nonsense&since=yesterday&channel=General");
        Assert.Equal(HttpStatusCode.OK, filter.StatusCode);
        Assert.Contains("Left out, not a value this page knows: status, since.", await filter.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
    }

    [GeneratedRegex("<script(?![^>]*\\ssrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();

    [GeneratedRegex("<[^>]*\\son[a-z]+\\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex OnHandler();

    [GeneratedRegex("id=\"new-secret\" class=\"mono\" readonly value=\"([^\"]+)\"")]
    private static partial Regex SecretField();

    [GeneratedRegex("id=\"new-token\" class=\"mono\" readonly value=\"([^\"]+)\"")]
    private static partial Regex TokenValue();
}
