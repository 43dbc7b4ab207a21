using ConnectorEvents.Testing;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>4xx, 5xx, time-outs and refused connections are failed attempts, recorded one by one and retried.</summary>
public sealed class FailureKindTests
{
    /// <summary>A real clock with retries 100 ms apart, so a few attempts happen within the test.</summary>
    private static Dictionary<string, string?> ShortSchedule(int entries = 10)
    {
        var settings = new Dictionary<string, string?> { ["Delivery:Jitter"] = "0" };
        for (var i = 0; i < entries; i++)
        {
            settings[$"Delivery:RetrySchedule:{i}"] = "00:00:00.100";
        }
        return settings;
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(422)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task A_non_success_status_is_a_failed_attempt_and_the_message_is_retried(int status)
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, sink.Count == 0 ? status : 200);
        await using var server = await RunningServer.StartAsync(ShortSchedule());
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);

        var detail = await server.WaitForMessageAsync(messageId, "Delivered");
        var attempts = Delivery.AttemptsOf(detail);
        Assert.Equal(2, attempts.Length);
        Assert.Equal(status, (int)attempts[0]["StatusCode"]!);
        Assert.Null(attempts[0]["ErrorKind"]);
        Assert.Equal(200, (int)attempts[1]["StatusCode"]!);
        Assert.Equal(2, (int)detail["Message"]!["AttemptCount"]!);
        Assert.Equal(2, sink.Count);
        Assert.All(sink.Received, r => Assert.Equal(messageId, r.MessageId));
    }

    [Fact]
    public async Task Every_attempt_is_recorded_with_status_error_kind_duration_and_the_first_KiB_of_the_answer()
    {
        var longBody = string.Concat(Enumerable.Range(0, 500).Select(i => (i % 10).ToString(System.Globalization.CultureInfo.InvariantCulture) + "abcdefghi"));
        Assert.Equal(5000, longBody.Length);
        var script = new Func<HttpContext, Task>[]
        {
            c => Delivery.Answer(c, 400),
            c => Delivery.Answer(c, 404),
            async c =>
            {
                c.Response.StatusCode = 503;
                c.Response.ContentType = "text/plain";
                await c.Response.WriteAsync(longBody, c.RequestAborted);
            },
            c => Delivery.Answer(c, 500),
        };
        var calls = 0;
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) =>
        {
            var n = Interlocked.Increment(ref calls) - 1;
            return n < script.Length ? script[n](context) : Delivery.Answer(context, 204);
        };
        await using var server = await RunningServer.StartAsync(ShortSchedule());
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/hook?Token=do-not-store-me"));
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);

        var detail = await server.WaitForMessageAsync(messageId, "Delivered");
        var attempts = Delivery.AttemptsOf(detail);
        Assert.Equal([1, 2, 3, 4, 5], attempts.Select(a => (int)a["AttemptNumber"]!));
        Assert.Equal([400, 404, 503, 500, 204], attempts.Select(a => (int)a["StatusCode"]!));
        Assert.All(attempts, a => Assert.Null(a["ErrorKind"]));
        Assert.All(attempts, a => Assert.True((double)a["DurationMs"]! >= 0));
        Assert.All(attempts, a => Assert.NotNull(a["StartedUtc"]));
        var truncated = (string)attempts[2]["ResponseBody"]!;
        Assert.Equal(1024, truncated.Length);
        Assert.Equal(longBody[..1024], truncated);
        Assert.Null(attempts[4]["ResponseBody"]);
        // The URL's token is a secret of the receiver: the record keeps the path only.
        Assert.All(attempts, a => Assert.DoesNotContain("do-not-store-me", (string)a["Url"]!, StringComparison.Ordinal));
        Assert.All(attempts, a => Assert.StartsWith(sink.Url("/hook"), (string)a["Url"]!, StringComparison.Ordinal));
        Assert.All(sink.Received, r => Assert.Equal("?Token=do-not-store-me", r.QueryString));
    }

    [Fact]
    public async Task A_receiver_slower_than_the_timeout_is_a_Timeout_attempt_and_is_retried()
    {
        var hung = 0;
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = async (context, _) =>
        {
            if (Interlocked.Increment(ref hung) == 1)
            {
                await Delivery.Hang(context);
            }
        };
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>(ShortSchedule())
        {
            ["Delivery:Timeout"] = "00:00:00.500",
        });
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);

        var detail = await server.WaitForMessageAsync(messageId, "Delivered");
        var attempts = Delivery.AttemptsOf(detail);
        Assert.True(attempts.Length >= 2);
        Assert.Equal("Timeout", (string)attempts[0]["ErrorKind"]!);
        Assert.Null(attempts[0]["StatusCode"]);
        Assert.Null(attempts[0]["ResponseBody"]);
        Assert.True((double)attempts[0]["DurationMs"]! >= 400, "the attempt gave up before its time-out");
        Assert.Equal(200, (int)attempts[^1]["StatusCode"]!);
    }

    [Fact]
    public async Task A_closed_port_is_a_ConnectionFailed_attempt()
    {
        using var reserved = Delivery.ClosedPort(out var port);
        await using var server = await RunningServer.StartAsync(ShortSchedule(2));
        var (enterpriseId, clientId, _) = await server.SeedAsync($"http://127.0.0.1:{port}/hook?Token=x");
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);

        var detail = await server.WaitForMessageAsync(messageId, "Failed");
        var attempts = Delivery.AttemptsOf(detail);
        Assert.Equal(3, attempts.Length);
        Assert.All(attempts, a =>
        {
            Assert.Equal("ConnectionFailed", (string)a["ErrorKind"]!);
            Assert.Null(a["StatusCode"]);
            Assert.False(string.IsNullOrEmpty((string?)a["Error"]));
            Assert.Equal($"http://127.0.0.1:{port}/hook?…", (string)a["Url"]!);
        });
        Assert.Contains("3 attempts", (string)detail["Message"]!["StatusReason"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_reset_before_the_answer_is_a_ConnectionFailed_attempt()
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) =>
        {
            if (sink.Count == 0)
            {
                context.Abort();
            }
            return Task.CompletedTask;
        };
        await using var server = await RunningServer.StartAsync(ShortSchedule());
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var detail = await server.WaitForMessageAsync(await server.SingleMessageIdAsync(id), "Delivered");

        var attempts = Delivery.AttemptsOf(detail);
        Assert.Equal(2, attempts.Length);
        Assert.Equal("ConnectionFailed", (string)attempts[0]["ErrorKind"]!);
        Assert.Null(attempts[0]["StatusCode"]);
        Assert.Equal(200, (int)attempts[1]["StatusCode"]!);
    }
}
