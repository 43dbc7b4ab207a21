using ConnectorEvents.Server.OperatorConsole;
using ConnectorEvents.Testing;
using Microsoft.Extensions.Time.Testing;
using OpenQA.Selenium;
using Xunit;

namespace ConnectorEvents.Server.Tests.OperatorConsole;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrowserCollection
{
    public const string Name = "Browser";
}

/// <summary>
/// The operator console in a real browser (headless Chromium) against the real server and a real receiver: the operator's
/// path from a failed delivery to its fix, a Reader who sees no action, a wrong key, a form without its antiforgery token,
/// keyboard use, a phone-width screen, and a screenshot of each page.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ConsoleBrowserTests
{
    private static readonly Dictionary<string, string?> FailFast = new()
    {
        // One quick retry, then the message is Failed.
        ["Delivery:RetrySchedule:0"] = "00:00:00.05", ["Delivery:Jitter"] = "0",
    };

    [Fact]
    public async Task An_operator_sees_a_failed_delivery_opens_it_fixes_the_clients_url_retries_it_and_sees_it_delivered()
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, context.Request.Path == "/fixed" ? 200 : 500);
        await using var server = await RunningServer.StartAsync(FailFast);
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/broken?Token=console-secret-token"), "Broken");
        await server.CreateIntegrationAsync(enterpriseId, clientId);
        var failed = await WaitForFailedAsync(server);

        using var browser = new Browser(server.BaseUri);
        browser.SignIn(RunningServer.AdminKey);
        browser.WaitFor(d => d.Title.StartsWith("Overview", StringComparison.Ordinal), "the overview");
        Assert.Contains("Broken App", browser.Text("#worst-title + table"), StringComparison.Ordinal);
        var failedLink = browser.Link(failed);
        Assert.DoesNotContain("console-secret-token", browser.PageSource, StringComparison.Ordinal);

        failedLink.Click();
        browser.WaitFor(d => d.Url.EndsWith("/console/messages/" + failed, StringComparison.Ordinal), "the message page");
        Assert.Contains("Failed", browser.Text("h1"), StringComparison.Ordinal);
        var attempts = browser.Text("#attempts-title + .table-wrap");
        Assert.Contains("HTTP 500", attempts, StringComparison.Ordinal);
        Assert.Contains(sink.Url("/broken"), attempts, StringComparison.Ordinal);
        Assert.DoesNotContain("console-secret-token", browser.PageSource, StringComparison.Ordinal);

        browser.Link("Broken App").Click();
        browser.WaitFor(d => d.Title.StartsWith("Broken App", StringComparison.Ordinal), "the client page");
        browser.Find("#url-Integration").SendKeys(sink.Url("/fixed?Token=new-console-token"));
        browser.Button("Set URL").Click();
        browser.WaitFor(d => browser.Text(".notice").Contains("URL was set", StringComparison.Ordinal), "the URL set");
        Assert.Contains(sink.Url("/fixed") + "?…", browser.Text("#endpoint-Integration + .facts"), StringComparison.Ordinal);
        Assert.DoesNotContain("new-console-token", browser.PageSource, StringComparison.Ordinal);

        browser.Open("/console/messages/" + failed);
        browser.Button("Retry").Click();
        browser.WaitFor(d => browser.Text(".notice").Contains("queued again", StringComparison.Ordinal), "the retry queued");
        browser.WaitFor(d =>
        {
            d.Navigate().Refresh();
            return browser.Text("h1").Contains("Delivered", StringComparison.Ordinal);
        }, "the message delivered");
        Assert.Contains("HTTP 200", browser.Text("#attempts-title + .table-wrap"), StringComparison.Ordinal);
        Assert.Contains(sink.Received, r => r.MessageId == failed && r.Path == "/fixed");

        // Back on the overview, the endpoint is still among the worst of the newest attempts, and says it recovered.
        browser.Link("Overview").Click();
        browser.WaitFor(d => d.Title.StartsWith("Overview", StringComparison.Ordinal), "the overview");
        Assert.Matches(@"Broken App\s+Integration\s+Recovered", browser.Text("#worst-title + table"));
    }

    [Fact]
    public async Task A_reader_sees_every_page_but_no_action_and_a_form_it_posts_anyway_is_refused()
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, 500);
        await using var server = await RunningServer.StartAsync(FailFast);
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/hook"), "Watched");
        var integrationId = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var failed = await WaitForFailedAsync(server);
        var reader = (string)(await server.PostAsync("/api/v1/api-keys", new { Name = "Night shift", Role = "Reader" }))["Key"]!;

        using var browser = new Browser(server.BaseUri);
        browser.SignIn(reader);
        browser.WaitFor(d => d.Title.StartsWith("Overview", StringComparison.Ordinal), "the overview");
        Assert.Contains("Reader (read-only)", browser.Text(".who"), StringComparison.Ordinal);
        foreach (var page in new[] { $"/console/clients/{clientId}", $"/console/integrations/{integrationId}", $"/console/messages/{failed}" })
        {
            browser.Open(page);
            // The only form that posts is the sign-out.
            var posting = browser.FindAll("form[method='post']").Select(f => f.GetDomAttribute("action")).ToList();
            Assert.Equal(["/console/sign-out"], posting);
            Assert.Empty(browser.FindAll("details.confirm"));
        }

        // Posted anyway, with a valid antiforgery token of the Reader's own session: refused, and nothing retried.
        var status = browser.Script("""
            const token = document.querySelector("input[name='__antiforgery']").value;
            const body = new URLSearchParams({ __antiforgery: token });
            return fetch(arguments[0], { method: "POST", body }).then(r => r.status);
            """, $"/console/messages/{failed}?handler=Retry");
        Assert.Equal(403L, status);
        Assert.Equal("Failed", (string)(await server.GetAsync($"/api/v1/messages/{failed}"))["Message"]!["Status"]!);
    }

    [Fact]
    public async Task A_wrong_key_or_a_producer_key_is_refused_and_gets_no_session()
    {
        await using var server = await RunningServer.StartAsync();
        var producer = (string)(await server.PostAsync("/api/v1/api-keys", new { Name = "Feed", Role = "Producer" }))["Key"]!;
        using var browser = new Browser(server.BaseUri);

        browser.SignIn("cek_not-a-key-of-this-server");
        browser.WaitFor(d => browser.Text("#sign-in-problem").Length > 0, "the refusal");
        Assert.Equal("That key was refused.", browser.Text("#sign-in-problem"));
        Assert.Null(browser.Cookie("ce_console"));
        Assert.DoesNotContain("cek_not-a-key", browser.PageSource, StringComparison.Ordinal);

        browser.SignIn(producer);
        browser.WaitFor(d => browser.Text("#sign-in-problem").Length > 0, "the refusal");
        Assert.Contains("Producer key", browser.Text("#sign-in-problem"), StringComparison.Ordinal);
        Assert.Null(browser.Cookie("ce_console"));

        browser.Open("/console/clients");
        Assert.Contains("/console/sign-in?returnUrl=%2Fconsole%2Fclients", browser.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_form_without_its_antiforgery_token_is_refused_and_changes_nothing()
    {
        await using var server = await RunningServer.StartAsync();
        var (_, clientId, _) = await server.SeedAsync(null, "Guarded");
        using var browser = new Browser(server.BaseUri);
        browser.SignIn(RunningServer.AdminKey);
        browser.WaitFor(d => d.Title.StartsWith("Overview", StringComparison.Ordinal), "the overview");
        browser.Open($"/console/clients/{clientId}");

        browser.Script("document.querySelectorAll(\"input[name='__antiforgery']\").forEach(i => i.remove());");
        browser.Find("#url-Integration").SendKeys("http://127.0.0.1:9/never");
        browser.Button("Set URL").Click();
        browser.WaitFor(d => d.PageSource.Contains("\"status\":400", StringComparison.Ordinal), "the 400 problem");
        Assert.Null((await server.GetAsync($"/api/v1/clients/{clientId}"))["IntegrationWebhookUrl"]);
    }

    [Fact]
    public async Task The_console_works_from_the_keyboard_passes_axe_has_a_label_for_every_field_fits_a_phone_and_is_photographed()
    {
        // Ten minutes of traffic on a fake clock, so the charts have something to show: a healthy client whose integration
        // changes state two to eight times a step and who takes General events, and one whose receiver fails for a while
        // (its messages of that time are given up after three retries, the others recover).
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var flaky = false;
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, context.Request.Path == "/flaky" && Volatile.Read(ref flaky) ? 503 : 200);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Delivery:RetrySchedule:0"] = "00:00:10", ["Delivery:RetrySchedule:1"] = "00:00:30", ["Delivery:RetrySchedule:2"] = "00:01:00",
            ["Delivery:Jitter"] = "0",
        }, time);
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/ok"), "Reservations");
        await server.SendAsync(HttpMethod.Patch, $"/api/v1/clients/{clientId}", new { GeneralWebhookUrl = sink.Url("/general") });
        var integrationId = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var (_, failingClient, _) = await server.SeedAsync(sink.Url("/flaky"), "Housekeeping");
        var failingIntegration = await server.CreateIntegrationAsync(enterpriseId, failingClient);

        using var browser = new Browser(server.BaseUri);
        browser.SignIn(RunningServer.AdminKey); // someone looks: the backlog is counted
        browser.WaitFor(d => d.Title.StartsWith("Overview", StringComparison.Ordinal), "the overview");
        var enabled = (Healthy: true, Failing: true);
        var toOk = 1;
        for (var step = 0; step < 60; step++)
        {
            Volatile.Write(ref flaky, step is >= 20 and < 35);
            for (var n = 0; n < 2 + (int)(3 * (1 + Math.Sin(step / 5.0))); n++, toOk++)
            {
                await server.PostAsync($"/api/v1/integrations/{integrationId}/{(enabled.Healthy ? "disable" : "enable")}");
                enabled.Healthy = !enabled.Healthy;
            }
            await server.PostAsync($"/api/v1/enterprises/{enterpriseId}/events", new
            {
                Events = Enumerable.Range(0, 1 + (step % 4)).Select(_ => new { Discriminator = "ServiceOrderUpdated", Value = new { Id = Guid.NewGuid() } }),
            }, expectedStatus: 202);
            if (step % 2 == 0)
            {
                await server.PostAsync($"/api/v1/integrations/{failingIntegration}/{(enabled.Failing ? "disable" : "enable")}");
                enabled.Failing = !enabled.Failing;
            }
            await Delivery.WaitUntilAsync(() => sink.Received.Count(r => r.Path == "/ok") >= toOk, $"step {step}'s deliveries");
            // A second at a time, with a moment between: lease renewals and retries run as they would.
            for (var second = 0; second < ConsoleMetrics.StepLength.TotalSeconds; second++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(5, TestContext.Current.CancellationToken);
            }
        }
        var failed = await WaitForFailedAsync(server);

        // Keyboard: the first Tab reaches "Skip to content", the next ones the navigation in order.
        browser.Open("/console");
        var focused = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            browser.Driver.SwitchTo().ActiveElement().SendKeys(Keys.Tab);
            focused.Add(browser.Driver.SwitchTo().ActiveElement().Text.Trim());
        }
        Assert.Equal(["Skip to content", "ConnectorEvents", "Overview", "Clients"], focused);
        browser.Driver.SwitchTo().ActiveElement().SendKeys(Keys.Enter);
        browser.WaitFor(d => d.Title.StartsWith("Clients", StringComparison.Ordinal), "the clients page by keyboard");

        var pages = new (string Name, string Path)[]
        {
            ("overview", "/console"), ("clients", "/console/clients"), ("client", $"/console/clients/{failingClient}"),
            ("integrations", "/console/integrations"), ("integration", $"/console/integrations/{integrationId}"),
            ("messages", "/console/messages"), ("message", $"/console/messages/{failed}"), ("live", "/console/live"),
            ("cluster", "/console/cluster"),
        };
        var shots = Environment.GetEnvironmentVariable("CONNECTOR_EVENTS_SCREENSHOTS") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Path.GetTempPath(), "ce-console-screenshots");
        foreach (var (name, path) in pages)
        {
            browser.Viewport(1280, 800);
            browser.Open(path);
            // Every field has a label (or an accessible name), and every page has one h1.
            var unlabeled = browser.Script("""
                return [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
                  .filter(e => e.labels.length === 0 && !e.getAttribute("aria-label")).map(e => e.outerHTML);
                """);
            Assert.Empty((IEnumerable<object>)unlabeled!);
            Assert.Single(browser.FindAll("h1"));
            var violations = browser.AccessibilityViolations();
            Assert.True(violations.Count == 0, $"{path}:\n" + string.Join("\n", violations));
            browser.Screenshot(Path.Combine(shots, $"{name}.png"));
            Assert.Equal((1280L, 800L), ((long)browser.Script("return window.innerWidth;")!, (long)browser.Script("return window.innerHeight;")!));

            // A phone: nothing wider than the screen.
            browser.Viewport(390, 844, mobile: true);
            browser.Open(path);
            // A phone browser widens its layout to fit content too wide, so the page's width is compared with the screen's.
            var overflow = (long)browser.Script("return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - 390;")!;
            Assert.True(overflow <= 0, $"{path} is {overflow} px wider than a 390 px screen");
        }
        browser.Viewport(390, 844, mobile: true);
        browser.Open("/console");
        browser.Screenshot(Path.Combine(shots, "overview-phone.png"));
        Assert.Equal((1280, 800), PngSize(Path.Combine(shots, "overview.png")));
        Assert.Equal((390, 844), PngSize(Path.Combine(shots, "overview-phone.png")));
    }

    /// <summary>A PNG's width and height, from its header (big-endian, at bytes 16 and 20).</summary>
    private static (int Width, int Height) PngSize(string path)
    {
        var header = File.ReadAllBytes(path).AsSpan(0, 24);
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header[16..]), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header[20..]));
    }

    /// <summary>Waits until a message has Failed (its quick retry spent), and returns its id.</summary>
    private static async Task<string> WaitForFailedAsync(RunningServer server)
    {
        string? id = null;
        await Delivery.WaitUntilAsync(() =>
        {
            var page = server.GetAsync("/api/v1/messages?status=Failed&limit=1").Result;
            id = page["Messages"]!.AsArray() is [var first, ..] ? (string?)first!["Id"] : null;
            return id is not null;
        }, "a failed message");
        return id!;
    }
}
