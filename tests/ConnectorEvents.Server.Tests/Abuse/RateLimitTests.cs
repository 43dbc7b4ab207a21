using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using ConnectorEvents.Server.Api;
using ConnectorEvents.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests.Abuse;

/// <summary>
/// Rate limits per API key, per address, and on failed authentications, with tiny budgets so that no test has to be fast.
/// Several addresses are loopback ones (127.0.0.2, 127.0.0.3): the client binds its socket to them.
/// </summary>
public sealed class RateLimitTests
{
    /// <summary>An HTTP client whose connections come from <paramref name="from"/> (a loopback address), with a key.</summary>
    private static HttpClient ClientFrom(RunningServer server, string from, string? key = RunningServer.AdminKey)
    {
        var http = new HttpClient(HandlerFrom(from)) { BaseAddress = server.BaseUri };
        if (key is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return http;
    }

    private static SocketsHttpHandler HandlerFrom(string from) => new()
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
            await socket.ConnectAsync(context.DnsEndPoint, ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
    };

    private static async Task<List<HttpResponseMessage>> BurstAsync(HttpClient http, string path, int count)
    {
        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < count; i++)
        {
            answers.Add(await http.GetAsync(path, Delivery.Ct));
        }
        return answers;
    }

    private static async Task AssertTooManyAsync(HttpResponseMessage answer)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, answer.StatusCode);
        Assert.True(answer.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {answer.Headers.RetryAfter}");
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await answer.Content.ReadAsStringAsync(Delivery.Ct))!;
        Assert.Equal(429, (int)problem["status"]!);
    }

    [Fact]
    public async Task A_key_past_its_rate_gets_429_with_retry_after_while_other_keys_go_on()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["RateLimits:PerKeyRequestsPerSecond"] = "5" });
        var reader = (string)(await server.PostAsync("/api/v1/api-keys", new { Name = "Busy", Role = "Reader" }))["Key"]!;
        using var busy = ClientFrom(server, "127.0.0.1", reader);
        using var admin = ClientFrom(server, "127.0.0.1");

        var answers = await BurstAsync(busy, "/api/v1/enterprises", 40);
        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused); // a bucket of 10 refills by 5 a second: 40 back-to-back requests cannot all pass
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        await AssertTooManyAsync(refused[0]);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/enterprises", Delivery.Ct)).StatusCode);
    }

    [Fact]
    public async Task An_address_past_its_rate_gets_429_while_other_addresses_and_health_checks_go_on()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["RateLimits:PerAddressRequestsPerSecond"] = "5" });
        using var noisy = ClientFrom(server, "127.0.0.2");
        using var quiet = ClientFrom(server, "127.0.0.3");

        var answers = await BurstAsync(noisy, "/api/v1/enterprises", 40);
        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        await AssertTooManyAsync(refused[0]);
        Assert.Equal(HttpStatusCode.OK, (await quiet.GetAsync("/api/v1/enterprises", Delivery.Ct)).StatusCode);
        Assert.All(await BurstAsync(noisy, "/healthz/ready", 20), a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
    }

    [Fact]
    public async Task Failed_authentications_past_the_limit_shut_the_address_out_for_the_minute_even_with_the_right_key()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await RunningServer.StartAsync(
            new Dictionary<string, string?> { ["RateLimits:FailedAuthenticationsPerMinute"] = "3" }, time);
        using var guesser = ClientFrom(server, "127.0.0.2", "cek_0000000000000000000000000000000000000000000000000");
        using var guesserWithTheKey = ClientFrom(server, "127.0.0.2");
        using var other = ClientFrom(server, "127.0.0.3");

        Assert.All(await BurstAsync(guesser, "/api/v1/enterprises", 2), a => Assert.Equal(HttpStatusCode.Unauthorized, a.StatusCode));
        // Wrong WebSocket tokens count as failed authentications too.
        using (var socket = new ClientWebSocket())
        using (var invoker = new HttpMessageInvoker(HandlerFrom("127.0.0.2")))
        {
            socket.Options.SetRequestHeader("Cookie", "ClientToken=nope; AccessToken=nope");
            socket.Options.CollectHttpResponseDetails = true;
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(
                new UriBuilder(server.BaseUri) { Scheme = "ws", Path = "/ws/connector" }.Uri, invoker, Delivery.Ct));
            Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
        }

        var shut = await guesser.GetAsync("/api/v1/enterprises", Delivery.Ct);
        await AssertTooManyAsync(shut);
        Assert.InRange(shut.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(60));
        await AssertTooManyAsync(await guesserWithTheKey.GetAsync("/api/v1/enterprises", Delivery.Ct));
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/v1/enterprises", Delivery.Ct)).StatusCode);

        time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(HttpStatusCode.OK, (await guesserWithTheKey.GetAsync("/api/v1/enterprises", Delivery.Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.GetAsync("/api/v1/enterprises", Delivery.Ct)).StatusCode);
    }

    [Fact]
    public async Task By_default_the_twenty_first_failed_authentication_in_a_minute_is_429()
    {
        await using var server = await RunningServer.StartAsync(
            new Dictionary<string, string?> { ["RateLimits:FailedAuthenticationsPerMinute"] = null }); // the default, not the tests' own
        using var guesser = ClientFrom(server, "127.0.0.2", "wrong-key-wrong-key-wrong-key");
        Assert.All(await BurstAsync(guesser, "/api/v1/enterprises", 20), a => Assert.Equal(HttpStatusCode.Unauthorized, a.StatusCode));
        await AssertTooManyAsync(await guesser.GetAsync("/api/v1/enterprises", Delivery.Ct));
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_each_forwarded_client_is_counted_and_a_forwarded_header_from_anyone_else_is_ignored()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["RateLimits:FailedAuthenticationsPerMinute"] = "3",
            ["Proxy:TrustedNetworks:0"] = "127.0.0.2/32",
        });
        async Task<HttpStatusCode> SendAsync(string from, string forwardedFor, string key)
        {
            using var http = ClientFrom(server, from, key);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/enterprises");
            request.Headers.Add("X-Forwarded-For", forwardedFor);
            using var answer = await http.SendAsync(request, Delivery.Ct);
            return answer.StatusCode;
        }

        // Through the proxy: the guesser (203.0.113.7) is shut out, another client of the same proxy is not.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync("127.0.0.2", "203.0.113.7", "wrong-key-wrong-key-wrong-key"));
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync("127.0.0.2", "203.0.113.7", RunningServer.AdminKey));
        Assert.Equal(HttpStatusCode.OK, await SendAsync("127.0.0.2", "203.0.113.8", RunningServer.AdminKey));

        // Not a proxy: its X-Forwarded-For is its own invention, so its failures count against it whatever it claims.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync("127.0.0.3", $"198.51.100.{i}", "wrong-key-wrong-key-wrong-key"));
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, await SendAsync("127.0.0.3", "198.51.100.99", RunningServer.AdminKey));
    }

    [Fact]
    public void An_IPv6_source_is_its_64_prefix_and_an_IPv4_mapped_address_its_IPv4_address()
    {
        Assert.Equal(IPAddress.Parse("2001:db8:1:2::"), FailedAuthentications.SourceOf(IPAddress.Parse("2001:db8:1:2:aaaa:bbbb:cccc:dddd")));
        Assert.Equal(FailedAuthentications.SourceOf(IPAddress.Parse("2001:db8:1:2::1")), FailedAuthentications.SourceOf(IPAddress.Parse("2001:db8:1:2::2")));
        Assert.NotEqual(FailedAuthentications.SourceOf(IPAddress.Parse("2001:db8:1:2::1")), FailedAuthentications.SourceOf(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.Equal(IPAddress.Parse("192.0.2.7"), FailedAuthentications.SourceOf(IPAddress.Parse("::ffff:192.0.2.7")));
        Assert.Equal(IPAddress.Parse("192.0.2.7"), FailedAuthentications.SourceOf(IPAddress.Parse("192.0.2.7")));
    }

    [Fact]
    public void Failures_from_very_many_addresses_are_counted_in_bounded_memory_and_logged_once_for_the_overflow()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var log = new CapturedLog();
        using var logs = LoggerFactory.Create(b => b.AddProvider(log));
        var failures = new FailedAuthentications(
            Microsoft.Extensions.Options.Options.Create(new Hosting.RateLimitOptions { FailedAuthenticationsPerMinute = 3 }), time,
            logs.CreateLogger<FailedAuthentications>());
        // A scan: 30,000 addresses of one IPv6 /64 (one source), then 12,000 distinct IPv4 addresses.
        for (var i = 0; i < 30_000; i++)
        {
            failures.Record(IPAddress.Parse($"2001:db8::{i % 65536:x}:{i / 65536:x}"), "a wrong API key");
        }
        for (var i = 0; i < 12_000; i++)
        {
            failures.Record(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]), "a wrong API key");
        }
        Assert.Throws<ApiProblemException>(() => failures.ThrowIfBlocked(IPAddress.Parse("2001:db8::ffff:ffff")));
        // One Warning for the /64, one per counted IPv4 address, one for all the addresses past the bound: not 42,000.
        var warnings = log.Entries.Count(e => e.EventId.Id == LogEventIds.FailedAuthentication);
        Assert.Equal(1 + (FailedAuthentications.MaxSources - 1) + 1, warnings);
        Assert.Single(log.Entries, e => e.Message.Contains($"more than {FailedAuthentications.MaxSources}", StringComparison.Ordinal));

        // A minute later the old windows are dropped and new addresses are counted one by one again.
        time.Advance(TimeSpan.FromMinutes(2));
        failures.Record(IPAddress.Parse("192.0.2.1"), "a wrong API key");
        Assert.Contains(log.Entries, e => e.Message.Contains("192.0.2.1", StringComparison.Ordinal));
    }
}
