using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace ConnectorEvents.Server.Tests.Faults;

/// <summary>
/// A misbehaving receiver, one fault per test, under real traffic (integration commands, General events) to a real
/// Kestrel sink; every test ends with <see cref="DeliveryAccounting"/>.
/// </summary>
public sealed class ReceiverFaultTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>How many times the sink has seen each webhook-id, counted on arrival (1 for the first).</summary>
    private sealed class ArrivalCounter
    {
        private readonly ConcurrentDictionary<string, int> _seen = new(StringComparer.Ordinal);

        public int Next(ReceivedWebhook webhook) => _seen.AddOrUpdate(webhook.MessageId, 1, (_, n) => n + 1);
    }

    private static async Task<(Guid EnterpriseId, Guid ClientId)> SeedAsync(
        RunningServer server, string integrationUrl, string? generalUrl = null, string name = "Fault")
    {
        var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = name + " Hotel" });
        var client = await server.PostAsync("/api/v1/clients",
            new { Name = name + " App", IntegrationWebhookUrl = integrationUrl, GeneralWebhookUrl = generalUrl });
        return (Guid.Parse((string)enterprise["Id"]!), Guid.Parse((string)client["Id"]!));
    }

    /// <summary>Create, disable, enable: three Integration Webhooks per integration, in that order.</summary>
    private static async Task<Guid[]> DriveCommandsAsync(RunningServer server, Guid enterpriseId, Guid clientId, int integrations)
    {
        var ids = new Guid[integrations];
        for (var i = 0; i < integrations; i++)
        {
            ids[i] = await server.CreateIntegrationAsync(enterpriseId, clientId);
            await server.PostAsync($"/api/v1/integrations/{ids[i]}/disable");
            await server.PostAsync($"/api/v1/integrations/{ids[i]}/enable");
        }
        return ids;
    }

    private static Task<JsonObject> PostGeneralEventsAsync(RunningServer server, Guid enterpriseId, int count) =>
        server.PostAsync($"/api/v1/enterprises/{enterpriseId}/events", new
        {
            Events = Enumerable.Range(0, count).Select(_ => new { Discriminator = "ServiceOrderUpdated", Value = new { Id = Guid.NewGuid() } }).ToArray(),
        }, expectedStatus: 202);

    private static int[] StatusCodes(JsonObject detail) =>
        Delivery.AttemptsOf(detail).Select(a => a["StatusCode"] is { } s ? (int)s : 0).ToArray();

    private static string?[] ErrorKinds(JsonObject detail) =>
        Delivery.AttemptsOf(detail).Select(a => (string?)a["ErrorKind"]).ToArray();

    /// <summary>
    /// Three webhooks per integration for <paramref name="integrations"/> integrations, as fast as the API takes the commands;
    /// then <paramref name="spaced"/> more on the first integration, each once every webhook so far was answered and the
    /// connections then stood idle for <paramref name="gap"/>. Returns how many webhooks that makes.
    /// </summary>
    private static async Task<int> DriveBurstThenSpacedAsync(
        RunningServer server, Guid enterpriseId, Guid clientId, int integrations, int spaced, TimeSpan gap, Func<int> answered)
    {
        var ids = await DriveCommandsAsync(server, enterpriseId, clientId, integrations);
        var expected = integrations * 3;
        for (var i = 0; i < spaced; i++)
        {
            await Delivery.WaitUntilAsync(() => answered() >= expected, $"{expected} webhooks were answered");
            await Task.Delay(gap, Delivery.Ct);
            await server.PostAsync($"/api/v1/integrations/{ids[0]}/{(i % 2 == 0 ? "disable" : "enable")}");
            expected++;
        }
        return expected;
    }

    [Theory]
    [InlineData("HTTP/1.0 200 OK", "")]                       // Python's http.server, many embedded servers
    [InlineData("HTTP/1.0 200 OK", "Connection: close\r\n")]
    [InlineData("HTTP/1.1 200 OK", "Connection: close\r\n")]
    public async Task Fault_a_receiver_closing_after_each_answer_costs_no_attempt_and_gets_no_request_on_a_closing_connection(
        string statusLine, string fields)
    {
        // It closes 100 ms after answering, as a receiver finishing its work does: long enough for a pooled connection to be
        // handed to the next webhook, which then meets the close.
        await using var receiver = new RawReceiver(_ => RawAnswer.ThenClose(statusLine, fields, TimeSpan.FromMilliseconds(100)));
        await using var server = await RunningServer.StartAsync(DeliveryAccounting.ShortSchedule());
        var (enterpriseId, clientId) = await SeedAsync(server, receiver.Url());

        var webhooks = await DriveBurstThenSpacedAsync(server, enterpriseId, clientId, integrations: 67, spaced: 3,
            gap: TimeSpan.FromMilliseconds(300), () => receiver.Answered.Count);

        var details = await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => receiver.Receipts);
        Assert.Equal(webhooks, details.Count);
        Assert.All(details.Values, d => Assert.Equal([200], StatusCodes(d))); // one attempt each: not one failed
        Assert.Equal(0, receiver.RequestsAfterClose); // an answer that said it closes ended its connection's use
        Assert.Empty(receiver.Dropped);
        Assert.Equal(webhooks, receiver.Answered.Count);
    }

    [Theory]
    [InlineData(false)] // closed with a FIN: the sender reads the end of the stream
    [InlineData(true)]  // closed with a reset
    public async Task Fault_a_receiver_closing_idle_connections_costs_no_attempt_and_the_lost_request_goes_again_with_its_webhook_id(
        bool reset)
    {
        // HTTP/1.1 keep-alive, but a connection idle for 300 ms is closed as the next request arrives: the race that a
        // keep-alive time-out (Node's is 5 s) loses now and then, made certain. The request is read, never answered.
        var idleLimit = TimeSpan.FromMilliseconds(300);
        await using var receiver = new RawReceiver(r =>
            r.IndexOnConnection > 0 && r.IdleBefore > idleLimit ? RawAnswer.Drop(reset) : RawAnswer.KeepAlive());
        await using var server = await RunningServer.StartAsync(DeliveryAccounting.ShortSchedule());
        var (enterpriseId, clientId) = await SeedAsync(server, receiver.Url());

        var webhooks = await DriveBurstThenSpacedAsync(server, enterpriseId, clientId, integrations: 67, spaced: 3,
            gap: TimeSpan.FromMilliseconds(500), () => receiver.Answered.Count);

        var details = await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => receiver.Receipts);
        Assert.Equal(webhooks, details.Count);
        Assert.All(details.Values, d => Assert.Equal([200], StatusCodes(d))); // one attempt each: not one failed
        // At least the first spaced webhook met an idle pooled connection (later ones may find the pool empty by then).
        var lost = receiver.Dropped;
        Assert.NotEmpty(lost);
        foreach (var request in lost)
        {
            // Sent again at once on a new connection: the same webhook-id, timestamp, signature and body.
            var again = Assert.Single(receiver.Answered, r => r.Webhook.MessageId == request.Webhook.MessageId);
            Assert.Equal(0, again.IndexOnConnection);
            foreach (var header in new[] { "webhook-id", "webhook-timestamp", "webhook-signature" })
            {
                Assert.Equal(request.Webhook.Header(header), again.Webhook.Header(header));
            }
            Assert.Equal(request.Webhook.Body, again.Webhook.Body);
        }
    }

    [Fact]
    public async Task Fault_a_send_failing_on_a_new_connection_is_one_failed_attempt_and_is_not_sent_again_at_once()
    {
        // Only a connection that had answered before can be stale: a new one that fails is a receiver's failure.
        var arrivals = new ArrivalCounter();
        await using var receiver = new RawReceiver(r =>
            r.IndexOnConnection == 0 && arrivals.Next(r.Webhook) == 1 ? RawAnswer.Drop() : RawAnswer.KeepAlive());
        await using var server = await RunningServer.StartAsync(DeliveryAccounting.ShortSchedule());
        var (enterpriseId, clientId) = await SeedAsync(server, receiver.Url());
        await server.CreateIntegrationAsync(enterpriseId, clientId);

        var details = await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => receiver.Receipts);
        var detail = Assert.Single(details.Values);
        Assert.Equal(["ConnectionFailed", ""], ErrorKinds(detail).Select(k => k ?? ""));
        Assert.Equal([0, 200], StatusCodes(detail));
        Assert.Single(receiver.Dropped);
        Assert.Single(receiver.Answered);
    }

    [Fact]
    public async Task Fault_500_then_503_then_recovery_is_retried_and_delivered_with_every_status_recorded()
    {
        var arrivals = new ArrivalCounter();
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, received) => Delivery.Answer(context, arrivals.Next(received) switch { 1 => 500, 2 => 503, _ => 200 });
        await using var server = await RunningServer.StartAsync(DeliveryAccounting.ShortSchedule());
        var (enterpriseId, clientId) = await SeedAsync(server, sink.Url("/integration"), sink.Url("/general"));

        await DriveCommandsAsync(server, enterpriseId, clientId, integrations: 2);
        await PostGeneralEventsAsync(server, enterpriseId, 3);

        var details = await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => sink.Received);
        Assert.Equal(6, details.Values.Count(d => (string)d["Message"]!["Channel"]! == "Integration"));
        Assert.Contains(details.Values, d => (string)d["Message"]!["Channel"]! == "General");
        Assert.All(details.Values, d => Assert.Equal([500, 503, 200], StatusCodes(d)));
        Assert.All(details.Values, d => Assert.Equal([1, 2, 3], Delivery.AttemptsOf(d).Select(a => (int)a["AttemptNumber"]!)));
        // Exactly three copies each: the retries, and no more.
        Assert.All(sink.Received.GroupBy(r => r.MessageId), g => Assert.Equal(3, g.Count()));
    }

    [Theory]
    [InlineData("2", "01:00:00", 2.0)]          // honoured as given
    [InlineData("3600", "00:00:01.500", 1.5)]   // capped by Delivery:MaxRetryAfter
    public async Task Fault_429_with_retry_after_delays_the_next_attempt_by_it_within_the_configured_cap(
        string retryAfter, string maxRetryAfter, double expectedSeconds)
    {
        var arrivals = new ArrivalCounter();
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, received) =>
        {
            if (arrivals.Next(received) == 1)
            {
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = retryAfter;
            }
            return Task.CompletedTask;
        };
        // The schedule alone would retry after 100 ms: a later retry can only come from the Retry-After.
        var settings = DeliveryAccounting.ShortSchedule();
        settings["Delivery:MaxRetryAfter"] = maxRetryAfter;
        await using var server = await RunningServer.StartAsync(settings);
        var (enterpriseId, clientId) = await SeedAsync(server, sink.Url());
        await server.CreateIntegrationAsync(enterpriseId, clientId);

        var details = await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => sink.Received);
        var detail = Assert.Single(details.Values);
        Assert.Equal([429, 200], StatusCodes(detail));
        var copies = sink.Received;
        Assert.Equal(2, copies.Count);
        var gap = Stopwatch.GetElapsedTime(copies[0].ReceivedTimestamp, copies[1].ReceivedTimestamp).TotalSeconds;
        // Not before the Retry-After (less 50 ms of clock granularity), and not much after it either.
        Assert.InRange(gap, expectedSeconds - 0.05, expectedSeconds + 2.5);
    }

    [Fact]
    public async Task Fault_a_receiver_hanging_past_the_timeout_is_a_Timeout_attempt_retried_while_other_endpoints_go_on()
    {
        var arrivals = new ArrivalCounter();
        long hangEnded = 0;
        var hangStarted = 0;
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = async (context, received) =>
        {
            if (received.Path == "/slow" && arrivals.Next(received) == 1)
            {
                Volatile.Write(ref hangStarted, 1);
                await Delivery.Hang(context);
                Interlocked.CompareExchange(ref hangEnded, Stopwatch.GetTimestamp(), 0);
            }
        };
        var settings = DeliveryAccounting.ShortSchedule();
        settings["Delivery:Timeout"] = "00:00:02";
        await using var server = await RunningServer.StartAsync(settings);
        var (slowEnterprise, slowClient) = await SeedAsync(server, sink.Url("/slow"), name: "Slow");
        var (fastEnterprise, fastClient) = await SeedAsync(server, sink.Url("/fast"), name: "Fast");

        await server.CreateIntegrationAsync(slowEnterprise, slowClient);
        await Delivery.WaitUntilAsync(() => Volatile.Read(ref hangStarted) == 1, "the slow receiver got its request");
        await DriveCommandsAsync(server, fastEnterprise, fastClient, integrations: 2);
        await Delivery.WaitUntilAsync(() => sink.Received.Count(r => r.Path == "/fast") >= 6, "the fast receiver got its six webhooks");

        var details = await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => sink.Received);
        var slow = details.Values.Single(d => (Guid)d["Message"]!["ClientId"]! == slowClient);
        Assert.Equal("Timeout", ErrorKinds(slow)[0]);
        Assert.Null(Delivery.AttemptsOf(slow)[0]["StatusCode"]);
        Assert.InRange((double)Delivery.AttemptsOf(slow)[0]["DurationMs"]!, 1900, 5000);
        Assert.Equal(200, StatusCodes(slow)[^1]);
        // The fast endpoint was served while the slow one held its connection.
        var ended = Volatile.Read(ref hangEnded);
        Assert.NotEqual(0, ended);
        Assert.All(sink.Received.Where(r => r.Path == "/fast"), r => Assert.True(r.ReceivedTimestamp < ended,
            "A fast endpoint's webhook waited for the slow endpoint's time-out."));
        Assert.Equal(6, sink.Received.Count(r => r.Path == "/fast"));
    }

    [Theory]
    [InlineData(false)] // reset before any answer
    [InlineData(true)]  // a 500 flushed, then the reset in the middle of its body
    public async Task Fault_a_connection_reset_is_a_failed_attempt_and_the_message_is_retried(bool afterStatus)
    {
        var arrivals = new ArrivalCounter();
        var requestsPerConnection = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var resetOnNewConnection = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = async (context, received) =>
        {
            var onNewConnection = requestsPerConnection.AddOrUpdate(context.Connection.Id, 1, (_, n) => n + 1) == 1;
            if (arrivals.Next(received) > 1)
            {
                return;
            }
            resetOnNewConnection[received.MessageId] = onNewConnection;
            if (afterStatus)
            {
                context.Response.StatusCode = 500;
                context.Response.ContentLength = 10_000;
                await context.Response.WriteAsync("partial", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                // Let the headers be read first: a reset discards whatever the peer has not read yet.
                await Task.Delay(200, context.RequestAborted);
            }
            context.Abort();
        };
        await using var server = await RunningServer.StartAsync(DeliveryAccounting.ShortSchedule());
        var (enterpriseId, clientId) = await SeedAsync(server, sink.Url());
        await DriveCommandsAsync(server, enterpriseId, clientId, integrations: 2);

        // A reset before any answer on a reused connection looks like a receiver that had closed it: that send goes again at
        // once on a new connection, without an attempt of its own.
        var details = await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => sink.Received,
            new AccountingPolicy { UnrecordedAttemptsPerMessage = afterStatus ? 0 : 1 });
        Assert.Equal(6, details.Count);
        foreach (var (id, detail) in details)
        {
            var attempts = Delivery.AttemptsOf(detail);
            if (afterStatus)
            {
                // The status line is the answer; the broken body does not hide it.
                Assert.Equal(2, attempts.Length);
                Assert.Equal(500, (int)attempts[0]["StatusCode"]!);
                Assert.Equal("partial", (string?)attempts[0]["ResponseBody"]);
            }
            else if (resetOnNewConnection[id])
            {
                Assert.Equal(2, attempts.Length);
                Assert.Equal("ConnectionFailed", (string)attempts[0]["ErrorKind"]!);
                Assert.Null(attempts[0]["StatusCode"]);
            }
            else
            {
                Assert.Single(attempts);
            }
            Assert.Equal(200, (int)attempts[^1]["StatusCode"]!);
            Assert.Equal(2, sink.Received.Count(r => r.MessageId == id));
        }
        if (!afterStatus)
        {
            // Both cases happened: the first webhooks opened connections, later ones found them pooled.
            Assert.Contains(true, resetOnNewConnection.Values);
            Assert.Contains(false, resetOnNewConnection.Values);
        }
    }

    [Fact]
    public async Task Fault_a_2xx_whose_body_trickles_is_delivered_at_the_timeout_keeping_what_came()
    {
        // Documented: the status line is the answer; a body slower than the time-out keeps what came (README, attempts).
        var arrivals = new ArrivalCounter();
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = async (context, received) =>
        {
            if (arrivals.Next(received) > 1)
            {
                return;
            }
            context.Response.StatusCode = 200;
            context.Response.ContentLength = 1_000;
            try
            {
                for (var i = 0; i < 100; i++)
                {
                    await context.Response.WriteAsync("t", context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    await Task.Delay(100, context.RequestAborted);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                // the sender hung up: what we expect
            }
        };
        var settings = DeliveryAccounting.ShortSchedule();
        settings["Delivery:Timeout"] = "00:00:01";
        await using var server = await RunningServer.StartAsync(settings);
        var (enterpriseId, clientId) = await SeedAsync(server, sink.Url());
        var integrationId = await server.CreateIntegrationAsync(enterpriseId, clientId);
        await server.PostAsync($"/api/v1/integrations/{integrationId}/disable");

        // The sink counts a request once its handler ends, and the trickling one ends only when it notices the sender hung up,
        // a few milliseconds after the sender recorded the delivery.
        await sink.WaitForAsync(2);
        var details = await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => sink.Received);
        Assert.Equal(2, details.Count);
        foreach (var detail in details.Values)
        {
            var attempt = Assert.Single(Delivery.AttemptsOf(detail));
            Assert.Equal(200, (int)attempt["StatusCode"]!);
            Assert.Null(attempt["ErrorKind"]);
            var body = (string)attempt["ResponseBody"]!;
            Assert.Matches("^t{3,12}$", body);
            // Bounded by the time-out: it does not wait for the 10 s the whole body would take.
            Assert.InRange((double)attempt["DurationMs"]!, 900, 3000);
        }
        Assert.Equal(2, sink.Count);
    }

    [Theory]
    [InlineData(307)]
    [InlineData(308)]
    public async Task Fault_a_redirect_to_a_good_url_is_delivered_there(int status)
    {
        await using var target = await WebhookSink.StartAsync();
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Redirect(context, status, target.Url("/moved"));
        await using var server = await RunningServer.StartAsync(DeliveryAccounting.ShortSchedule());
        var (enterpriseId, clientId) = await SeedAsync(server, sink.Url("/hook"));
        await DriveCommandsAsync(server, enterpriseId, clientId, integrations: 1);

        var details = await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => target.Received);
        Assert.Equal(3, details.Count);
        Assert.All(details.Values, d => Assert.Equal([200], StatusCodes(d)));
        Assert.All(details.Values, d => Assert.StartsWith(target.Url("/moved"), (string)Delivery.AttemptsOf(d)[0]["Url"]!, StringComparison.Ordinal));
        Assert.Equal(3, sink.Count);
        Assert.Equal(3, target.Count);
        Assert.Equal(sink.Received.Select(r => r.MessageId), target.Received.Select(r => r.MessageId));
    }

    [Theory]
    [InlineData(307)]
    [InlineData(308)]
    public async Task Fault_a_redirect_to_cloud_metadata_is_refused_recorded_and_not_followed(int status)
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Redirect(context, status, "http://169.254.169.254/latest/meta-data");
        await using var server = await RunningServer.StartAsync(DeliveryAccounting.ShortSchedule(entries: 2));
        var (enterpriseId, clientId) = await SeedAsync(server, sink.Url("/hook"));
        await server.CreateIntegrationAsync(enterpriseId, clientId);

        // The first hop is no receipt; the redirect target never got anything.
        var details = await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => sink.Received, new AccountingPolicy
        {
            IsReceipt = r => r.Path != "/hook",
            MayFail = d => ErrorKinds(d).All(k => k == "AddressBlocked")
                && ((string)d["Message"]!["StatusReason"]!).Contains("3 attempts", StringComparison.Ordinal),
        });
        var detail = Assert.Single(details.Values);
        Assert.Equal("Failed", (string)detail["Message"]!["Status"]!);
        var attempts = Delivery.AttemptsOf(detail);
        Assert.Equal(3, attempts.Length);
        Assert.All(attempts, a => Assert.Contains("169.254.169.254", (string)a["Error"]!, StringComparison.Ordinal));
        Assert.Equal(3, sink.Count); // one first hop per attempt, never more
    }

    [Fact]
    public async Task Fault_410_stops_the_message_and_holds_later_integration_webhooks_while_general_ones_flow_until_patch()
    {
        var gone = 0;
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, received) => Delivery.Answer(context,
            received.Path == "/integration" && Interlocked.CompareExchange(ref gone, 1, 0) == 0 ? 410 : 200);
        await using var server = await RunningServer.StartAsync(DeliveryAccounting.ShortSchedule());
        var url = sink.Url("/integration");
        var (enterpriseId, clientId) = await SeedAsync(server, url, sink.Url("/general"));
        var first = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var goneId = await server.SingleMessageIdAsync(first);
        await server.WaitForMessageAsync(goneId, "Failed");
        await server.WaitForClientAsync(clientId, c => !(bool)c["IntegrationWebhookEnabled"]!, "its Integration URL disabled");

        // While disabled: commands are accepted and kept; General events (another URL) still go out.
        await server.PostAsync($"/api/v1/integrations/{first}/disable");
        await server.PostAsync($"/api/v1/integrations/{first}/enable");
        await DriveCommandsAsync(server, enterpriseId, clientId, integrations: 1);
        await PostGeneralEventsAsync(server, enterpriseId, 4);
        await Delivery.WaitUntilAsync(() => sink.Received.Count(r => r.Path == "/general") >= 2, "both integrations got General webhooks");
        await Delivery.QuietPeriodAsync(300);
        Assert.Equal(1, sink.Received.Count(r => r.Path == "/integration"));
        var held = (await DeliveryAccounting.ListAllAsync(server.Api))
            .Where(m => (string)m["Channel"]! == "Integration" && (string)m["Id"]! != goneId).ToArray();
        Assert.Equal(5, held.Length);
        Assert.All(held, m => Assert.Equal(("Pending", 0), ((string)m["Status"]!, (int)m["AttemptCount"]!)));

        await server.SendAsync(HttpMethod.Patch, $"/api/v1/clients/{clientId}", new { IntegrationWebhookUrl = url });

        var details = await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => sink.Received, new AccountingPolicy
        {
            MayFail = d => (string)d["Message"]!["Id"]! == goneId && StatusCodes(d) is [410],
        });
        Assert.Equal("Failed", (string)details[goneId]["Message"]!["Status"]!);
        Assert.Equal(1, sink.Received.Count(r => r.MessageId == goneId)); // stopped: never sent again
        Assert.Equal(6, sink.Received.Count(r => r.Path == "/integration"));
    }

    [Fact]
    public async Task Fault_a_50_MB_answer_keeps_only_its_first_KiB_reads_no_more_and_delivers()
    {
        const long huge = 50L * 1024 * 1024;
        var chunk = new byte[64 * 1024];
        for (var i = 0; i < chunk.Length; i++)
        {
            chunk[i] = (byte)('a' + (i % 26));
        }
        // A bare socket, not Kestrel: a send completes only once the kernel took the bytes, so what it counts is what the
        // server's side could have read (Kestrel completes writes to a connection it has not yet seen closed).
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var received = new ConcurrentQueue<ReceivedWebhook>();
        long written = 0;
        var receiver = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(Delivery.Ct);
            var request = await ReadRequestAsync(socket);
            received.Enqueue(request);
            await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(
                $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {huge}\r\n\r\n"), Delivery.Ct);
            try
            {
                while (written < huge)
                {
                    written += await socket.SendAsync(chunk, Delivery.Ct);
                }
            }
            catch (SocketException)
            {
                // the sender stopped reading and closed the connection
            }
        });
        await using var server = await RunningServer.StartAsync(DeliveryAccounting.ShortSchedule());
        var (enterpriseId, clientId) = await SeedAsync(server, $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/hook");
        await server.CreateIntegrationAsync(enterpriseId, clientId);

        var details = await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => received.ToArray());
        var attempt = Assert.Single(Delivery.AttemptsOf(Assert.Single(details.Values)));
        Assert.Equal(200, (int)attempt["StatusCode"]!);
        Assert.Equal(System.Text.Encoding.ASCII.GetString(chunk, 0, 1024), (string)attempt["ResponseBody"]!);
        await receiver.WaitAsync(Bound, Delivery.Ct);
        // The sender read the first KiB and let go: only socket buffers' worth of the 50 MB could be pushed.
        Assert.True(written < 16 * 1024 * 1024, $"the receiver wrote {written} bytes: the answer was read on");
    }

    /// <summary>One HTTP/1.1 request off a bare socket: headers, then a Content-Length body.</summary>
    private static async Task<ReceivedWebhook> ReadRequestAsync(Socket socket)
    {
        var buffer = new List<byte>();
        var one = new byte[8192];
        int headerEnd;
        while ((headerEnd = IndexOfHeaderEnd(buffer)) < 0)
        {
            var n = await socket.ReceiveAsync(one, Delivery.Ct);
            Assert.True(n > 0, "the sender closed before its request was whole");
            buffer.AddRange(one.AsSpan(0, n).ToArray());
        }
        var lines = System.Text.Encoding.ASCII.GetString(buffer.GetRange(0, headerEnd).ToArray()).Split("\r\n");
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
        var length = int.Parse(headers["content-length"], System.Globalization.CultureInfo.InvariantCulture);
        while (buffer.Count < headerEnd + 4 + length)
        {
            var n = await socket.ReceiveAsync(one, Delivery.Ct);
            Assert.True(n > 0, "the sender closed before its body was whole");
            buffer.AddRange(one.AsSpan(0, n).ToArray());
        }
        var target = lines[0].Split(' ')[1];
        var query = target.IndexOf('?', StringComparison.Ordinal);
        return new ReceivedWebhook(query < 0 ? target : target[..query], query < 0 ? "" : target[query..], headers,
            buffer.GetRange(headerEnd + 4, length).ToArray(), Stopwatch.GetTimestamp());
    }

    private static int IndexOfHeaderEnd(List<byte> buffer)
    {
        for (var i = 0; i + 3 < buffer.Count; i++)
        {
            if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n')
            {
                return i;
            }
        }
        return -1;
    }

    [Fact]
    public async Task Fault_a_host_that_does_not_resolve_is_HostNotFound_retried_then_Failed_while_others_deliver()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync(DeliveryAccounting.ShortSchedule(entries: 2));
        var (lostEnterprise, lostClient) = await SeedAsync(server, "http://hooks.connector-events.invalid/hook?Token=t", name: "Lost");
        var (goodEnterprise, goodClient) = await SeedAsync(server, sink.Url(), name: "Good");
        await server.CreateIntegrationAsync(lostEnterprise, lostClient);
        await DriveCommandsAsync(server, goodEnterprise, goodClient, integrations: 1);

        var details = await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => sink.Received, new AccountingPolicy
        {
            MayFail = d => (Guid)d["Message"]!["ClientId"]! == lostClient,
        });
        var lost = details.Values.Single(d => (Guid)d["Message"]!["ClientId"]! == lostClient);
        Assert.Equal("Failed", (string)lost["Message"]!["Status"]!);
        Assert.Contains("3 attempts", (string)lost["Message"]!["StatusReason"]!, StringComparison.Ordinal);
        Assert.Equal(["HostNotFound", "HostNotFound", "HostNotFound"], ErrorKinds(lost).Select(k => k ?? ""));
        Assert.All(Delivery.AttemptsOf(lost), a => Assert.Null(a["StatusCode"]));
        Assert.Equal(3, details.Values.Count(d => (string)d["Message"]!["Status"]! == "Delivered"));
    }
}
