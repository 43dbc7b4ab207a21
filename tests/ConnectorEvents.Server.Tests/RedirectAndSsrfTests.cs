using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>307/308 are followed with the same POST; other redirects are not; every hop passes the address guard.</summary>
public sealed class RedirectAndSsrfTests
{
    [Theory]
    [InlineData(307, false)]
    [InlineData(307, true)]
    [InlineData(308, false)]
    [InlineData(308, true)]
    public async Task A_307_or_308_is_followed_with_the_same_body_and_headers(int status, bool absoluteLocation)
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, received) => received.Path == "/hook"
            ? Delivery.Redirect(context, status, absoluteLocation ? sink.Url("/moved?Token=new") : "/moved?Token=new")
            : Delivery.Answer(context, 200);
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, secret) = await server.SeedAsync(sink.Url("/hook?Token=old"));
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);

        var detail = await server.WaitForMessageAsync(messageId, "Delivered");
        Assert.Equal(200, (int)Assert.Single(Delivery.AttemptsOf(detail))["StatusCode"]!);
        Assert.Equal(2, sink.Count);
        var (original, moved) = (sink.Received[0], sink.Received[1]);
        Assert.Equal(("/hook", "?Token=old"), (original.Path, original.QueryString));
        Assert.Equal(("/moved", "?Token=new"), (moved.Path, moved.QueryString));
        Assert.Equal(original.Body, moved.Body);
        foreach (var header in new[] { "Content-Type", "User-Agent", "webhook-id", "webhook-timestamp", "webhook-signature" })
        {
            Assert.Equal(original.Header(header), moved.Header(header));
        }
        Assert.Equal(messageId, moved.MessageId);
        Assert.True(StandardWebhooks.IsSignedBy(moved, secret));
    }

    [Theory]
    [InlineData(5, true)]
    [InlineData(6, false)]
    public async Task Five_redirects_are_followed_and_a_sixth_is_TooManyRedirects(int redirects, bool delivered)
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, received) =>
        {
            var hop = int.Parse(received.Path["/r/".Length..], CultureInfo.InvariantCulture);
            return hop < redirects ? Delivery.Redirect(context, 307, $"/r/{hop + 1}") : Delivery.Answer(context, 200);
        };
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/r/0"));
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);

        if (delivered)
        {
            await server.WaitForMessageAsync(messageId, "Delivered");
            Assert.Equal(redirects + 1, sink.Count);
            return;
        }
        var detail = await server.WaitForAttemptsAsync(messageId, 1);
        var attempt = Delivery.AttemptsOf(detail)[0];
        Assert.Equal("TooManyRedirects", (string)attempt["ErrorKind"]!);
        Assert.Equal(307, (int)attempt["StatusCode"]!);
        Assert.Equal("Pending", (string)detail["Message"]!["Status"]!); // a failure like any other: retried later
        await sink.WaitForAsync(6, Delivery.WaitLimit);
        Assert.Equal(6, sink.Count);
        Assert.DoesNotContain(sink.Received, r => r.Path == "/r/6");
    }

    [Fact]
    public async Task A_307_without_a_location_is_an_InvalidRedirect_attempt()
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, 307);
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var detail = await server.WaitForAttemptsAsync(await server.SingleMessageIdAsync(id), 1);

        var attempt = Delivery.AttemptsOf(detail)[0];
        Assert.Equal("InvalidRedirect", (string)attempt["ErrorKind"]!);
        Assert.Equal(307, (int)attempt["StatusCode"]!);
        Assert.Equal("Pending", (string)detail["Message"]!["Status"]!);
    }

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(303)]
    public async Task A_redirect_that_may_change_the_method_is_not_followed_and_counts_as_a_failure(int status)
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, received) =>
            received.Path == "/hook" ? Delivery.Redirect(context, status, "/moved") : Delivery.Answer(context, 200);
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);

        var detail = await server.WaitForAttemptsAsync(messageId, 1);
        var attempt = Assert.Single(Delivery.AttemptsOf(detail));
        Assert.Equal(status, (int)attempt["StatusCode"]!);
        Assert.Equal("Pending", (string)detail["Message"]!["Status"]!);
        Assert.NotNull(detail["Message"]!["NextAttemptUtc"]);
        await Delivery.QuietPeriodAsync();
        Assert.DoesNotContain(sink.Received, r => r.Path == "/moved");
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://192.168.0.10/hook")]
    [InlineData("http://[::1]:8080/hook")]
    [InlineData("http://[::ffff:127.0.0.1]/hook")]
    [InlineData("http://[::ffff:0:127.0.0.1]:8080/hook")]     // IPv4-translated loopback
    [InlineData("http://[64:ff9b:1::7f00:1]:8080/hook")]      // local-use NAT64 of loopback
    [InlineData("http://[64:ff9b::a9fe:a9fe]/hook")]          // NAT64 of the metadata address
    [InlineData("http://[::127.0.0.1]/hook")]                 // IPv4-compatible loopback
    [InlineData("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook")] // Teredo
    [InlineData("http://[fd12:3456:789a::1]/hook")]           // unique local
    [InlineData("http://[fe80::1]/hook")]                     // link-local
    public async Task An_ip_literal_the_guard_refuses_is_refused_when_the_client_is_created(string url)
    {
        await using var server = await RunningServer.StartAsync(
            new Dictionary<string, string?> { ["Delivery:AllowedNetworks:0"] = "203.0.113.0/24" });
        using var response = await server.Api.PostAsJsonAsync("/api/v1/clients", new { Name = "Probe", IntegrationWebhookUrl = url },
            Delivery.Ct);
        Assert.Equal(400, (int)response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>(Delivery.Ct);
        Assert.Contains("IntegrationWebhookUrl", (string)problem!["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_name_resolving_to_loopback_is_blocked_at_connect_time_and_nothing_reaches_the_receiver()
    {
        var arrived = 0;
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) =>
        {
            Interlocked.Increment(ref arrived);
            return Delivery.Answer(context, 200);
        };
        await using var server = await RunningServer.StartAsync(
            new Dictionary<string, string?> { ["Delivery:AllowedNetworks:0"] = "203.0.113.0/24" });
        var (enterpriseId, clientId, _) = await server.SeedAsync($"http://localhost:{sink.BaseUri.Port}/hook");
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);

        var detail = await server.WaitForAttemptsAsync(messageId, 1);
        var attempt = Delivery.AttemptsOf(detail)[0];
        Assert.Equal("AddressBlocked", (string)attempt["ErrorKind"]!);
        Assert.Null(attempt["StatusCode"]);
        Assert.Contains("localhost", (string)attempt["Error"]!, StringComparison.Ordinal);
        Assert.Equal("Pending", (string)detail["Message"]!["Status"]!);
        await Delivery.QuietPeriodAsync();
        Assert.Equal(0, Volatile.Read(ref arrived));
        Assert.Equal(0, sink.Count);
    }

    [Theory]
    [InlineData("127.0.0.1/32", false)]
    [InlineData("127.0.0.0/8", true)]
    public async Task A_redirect_target_is_checked_against_the_guard_again(string allowed, bool reachable)
    {
        var arrivedAtSecond = 0;
        await using var second = await WebhookSink.StartAsync("127.0.0.2");
        second.Respond = (context, _) =>
        {
            Interlocked.Increment(ref arrivedAtSecond);
            return Delivery.Answer(context, 200);
        };
        await using var first = await WebhookSink.StartAsync();
        first.Respond = (context, _) => Delivery.Redirect(context, 307, second.Url("/hook"));
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Delivery:AllowedNetworks:0"] = allowed });
        var (enterpriseId, clientId, _) = await server.SeedAsync(first.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);

        if (reachable)
        {
            // The control case: with 127.0.0.2 allowed the same redirect is delivered.
            await server.WaitForMessageAsync(messageId, "Delivered");
            Assert.Equal(1, second.Count);
            return;
        }
        var detail = await server.WaitForAttemptsAsync(messageId, 1);
        var attempt = Delivery.AttemptsOf(detail)[0];
        Assert.Equal("AddressBlocked", (string)attempt["ErrorKind"]!);
        Assert.Contains("127.0.0.2", (string)attempt["Error"]!, StringComparison.Ordinal);
        Assert.Equal(1, first.Count);
        await Delivery.QuietPeriodAsync();
        Assert.Equal(0, Volatile.Read(ref arrivedAtSecond));
        Assert.Equal(0, second.Count);
    }

    [Theory]
    [InlineData("::ffff:0:127.0.0.1")] // IPv4-translated
    [InlineData("64:ff9b:1::7f00:1")]  // local-use NAT64
    [InlineData("64:ff9b::7f00:1")]    // NAT64, well-known prefix
    [InlineData("::127.0.0.1")]        // IPv4-compatible
    [InlineData("2002:7f00:1::1")]     // 6to4
    public async Task A_redirect_to_an_ipv6_form_of_loopback_is_refused_at_connect_time_although_loopback_itself_is_allowed(string address)
    {
        // The test server opens 127.0.0.0/8 (so the first hop reaches the sink): that must not open the forms a translator
        // or relay would carry to some 127.0.0.1 of its own.
        var arrivedAtMoved = 0;
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, received) =>
        {
            if (received.Path == "/hook")
            {
                return Delivery.Redirect(context, 307, $"http://[{address}]:{sink.BaseUri.Port}/moved");
            }
            Interlocked.Increment(ref arrivedAtMoved);
            return Delivery.Answer(context, 200);
        };
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);

        var detail = await server.WaitForAttemptsAsync(messageId, 1);
        var attempt = Delivery.AttemptsOf(detail)[0];
        Assert.Equal("AddressBlocked", (string?)attempt["ErrorKind"]);
        Assert.Contains(System.Net.IPAddress.Parse(address).ToString(), (string)attempt["Error"]!, StringComparison.Ordinal);
        Assert.Equal("Pending", (string)detail["Message"]!["Status"]!);
        await Delivery.QuietPeriodAsync();
        Assert.Equal(0, Volatile.Read(ref arrivedAtMoved));
    }

    [Theory]
    [InlineData("http://webhook-user:s3cret-pw@127.0.0.1:{port}/moved?Token=abc-token", "InvalidRedirect")]
    [InlineData("http://127.0.0.1:{closed}/moved?Token=abc-token", "ConnectionFailed")]
    public async Task An_attempt_records_neither_the_user_information_nor_the_query_of_a_redirect_target(string location, string errorKind)
    {
        using var closed = Delivery.ClosedPort(out var closedPort);
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, received) => received.Path == "/hook"
            ? Delivery.Redirect(context, 307, location
                .Replace("{port}", sink.BaseUri.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{closed}", closedPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal))
            : Delivery.Answer(context, 200);
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/hook?Token=first-token"));
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);

        var detail = await server.WaitForAttemptsAsync(messageId, 1);
        var attempt = Delivery.AttemptsOf(detail)[0];
        Assert.Equal(errorKind, (string?)attempt["ErrorKind"]);
        var recorded = (string)attempt["Url"]! + " " + (string)attempt["Error"]!;
        foreach (var secret in new[] { "webhook-user", "s3cret-pw", "abc-token", "first-token", "Token=" })
        {
            Assert.DoesNotContain(secret, recorded, StringComparison.Ordinal);
        }
        // A URL with credentials is not followed at all: nothing reached /moved.
        await Delivery.QuietPeriodAsync();
        Assert.DoesNotContain(sink.Received, r => r.Path == "/moved");
    }
}
