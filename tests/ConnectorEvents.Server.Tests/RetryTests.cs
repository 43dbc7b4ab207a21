using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>
/// The retry schedule, driven by a fake clock: "does not happen yet" is checked after a short real pause while the
/// fake clock stands still, "does happen" with a bounded wait after the clock moves.
/// </summary>
public sealed class RetryTests
{
    private static Dictionary<string, string?> NoJitter() => new() { ["Delivery:Jitter"] = "0" };

    [Fact]
    public async Task Retry_now_sends_the_clients_messages_waiting_for_a_retry_at_once_and_no_other_clients()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = await WebhookSink.StartAsync();
        var healed = 0;
        // Both receivers fail; then "/healed" is fixed, and its operator asks for a retry now.
        sink.Respond = (context, _) => Delivery.Answer(context, context.Request.Path.StartsWithSegments("/healed") && Volatile.Read(ref healed) == 1 ? 200 : 500);
        await using var server = await RunningServer.StartAsync(NoJitter(), time);
        var (enterpriseId, healedClient, _) = await server.SeedAsync(sink.Url("/healed?Token=h"), "Healed");
        var (_, otherClient, _) = await server.SeedAsync(sink.Url("/other?Token=o"), "Other");
        var healedIntegration = await server.CreateIntegrationAsync(enterpriseId, healedClient);
        await server.CreateIntegrationAsync(enterpriseId, otherClient);
        var messageId = await server.SingleMessageIdAsync(healedIntegration);
        await sink.WaitForAsync(2, Delivery.WaitLimit);
        await server.WaitForAttemptsAsync(messageId, 1);

        // Both wait 5 s for their retry, on a clock that stands still.
        Volatile.Write(ref healed, 1);
        await server.PostAsync($"/api/v1/clients/{healedClient}/retry-now", expectedStatus: 202);

        await sink.WaitForAsync(3, Delivery.WaitLimit);
        var detail = await server.WaitForMessageAsync(messageId, "Delivered");
        Assert.Equal(2, (int)detail["Message"]!["AttemptCount"]!);
        var retried = sink.Received.Where(r => r.Path == "/healed").ToList();
        Assert.Equal(2, retried.Count);
        Assert.All(retried, r => Assert.Equal(messageId, r.MessageId));
        await Delivery.QuietPeriodAsync();
        Assert.Single(sink.Received, r => r.Path == "/other"); // its wait goes on

        using var unknown = await server.Api.PostAsync(new Uri($"/api/v1/clients/{Guid.NewGuid()}/retry-now", UriKind.Relative), null, Delivery.Ct);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, unknown.StatusCode);
        using var malformed = await server.Api.PostAsync(new Uri("/api/v1/clients/not-an-id/retry-now", UriKind.Relative), null, Delivery.Ct);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, malformed.StatusCode); // as every route answers an id that names nothing
    }

    [Fact]
    public async Task A_failing_message_is_retried_after_5_s_then_5_min_then_30_min_with_the_same_webhook_id()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, 500);
        await using var server = await RunningServer.StartAsync(NoJitter(), time);
        var (enterpriseId, clientId, secret) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);

        await sink.WaitForAsync(1, Delivery.WaitLimit);
        var detail = await server.WaitForAttemptsAsync(messageId, 1);
        Assert.Equal("Pending", (string)detail["Message"]!["Status"]!);
        var next = DateTimeOffset.Parse((string)detail["Message"]!["NextAttemptUtc"]!, CultureInfo.InvariantCulture);
        Assert.Equal(time.GetUtcNow().AddSeconds(5).ToUnixTimeSeconds(), next.ToUnixTimeSeconds());

        foreach (var (delay, attempt) in new[] { (TimeSpan.FromSeconds(5), 2), (TimeSpan.FromMinutes(5), 3), (TimeSpan.FromMinutes(30), 4) })
        {
            await Delivery.QuietPeriodAsync();
            Assert.Equal(attempt - 1, sink.Count);
            time.Advance(delay - TimeSpan.FromSeconds(1));
            await Delivery.QuietPeriodAsync();
            Assert.Equal(attempt - 1, sink.Count); // one second early: still nothing
            time.Advance(TimeSpan.FromSeconds(1));
            await sink.WaitForAsync(attempt, Delivery.WaitLimit);
            await server.WaitForAttemptsAsync(messageId, attempt);
            var webhook = sink.Received[attempt - 1];
            Assert.Equal(time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), webhook.Header("webhook-timestamp"));
        }

        Assert.All(sink.Received, r => Assert.Equal(messageId, r.MessageId));
        Assert.All(sink.Received, r => Assert.True(StandardWebhooks.IsSignedBy(r, secret)));
        Assert.Single(sink.Received.Select(r => r.BodyText).Distinct());
        detail = await server.MessageAsync(messageId);
        Assert.Equal("Pending", (string)detail["Message"]!["Status"]!);
        Assert.Equal(4, (int)detail["Message"]!["AttemptCount"]!);
        var attempts = Delivery.AttemptsOf(detail);
        Assert.Equal([1, 2, 3, 4], attempts.Select(a => (int)a["AttemptNumber"]!));
        Assert.All(attempts, a => Assert.Equal(500, (int)a["StatusCode"]!));
    }

    [Fact]
    public async Task Retry_after_on_a_429_sets_the_next_attempt_instead_of_the_schedule()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) =>
        {
            if (sink.Count == 0)
            {
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = "120";
            }
            return Task.CompletedTask;
        };
        await using var server = await RunningServer.StartAsync(NoJitter(), time);
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);
        await sink.WaitForAsync(1, Delivery.WaitLimit);
        var detail = await server.WaitForAttemptsAsync(messageId, 1);
        Assert.Equal(429, (int)Delivery.AttemptsOf(detail)[0]["StatusCode"]!);

        await Delivery.QuietPeriodAsync();
        time.Advance(TimeSpan.FromSeconds(5));
        await Delivery.QuietPeriodAsync();
        Assert.Equal(1, sink.Count); // the schedule's 5 s do not apply
        time.Advance(TimeSpan.FromSeconds(114));
        await Delivery.QuietPeriodAsync();
        Assert.Equal(1, sink.Count); // 119 s: still one second early
        time.Advance(TimeSpan.FromSeconds(1));
        await sink.WaitForAsync(2, Delivery.WaitLimit);
        detail = await server.WaitForMessageAsync(messageId, "Delivered");
        Assert.Equal([429, 200], Delivery.AttemptsOf(detail).Select(a => (int)a["StatusCode"]!));
        Assert.All(sink.Received, r => Assert.Equal(messageId, r.MessageId));
    }

    [Fact]
    public async Task An_exhausted_schedule_fails_the_message_and_a_manual_retry_delivers_it_with_the_same_id()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var accept = false;
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, Volatile.Read(ref accept) ? 200 : 503);
        var settings = NoJitter();
        settings["Delivery:RetrySchedule:0"] = "00:00:01";
        settings["Delivery:RetrySchedule:1"] = "00:00:02";
        await using var server = await RunningServer.StartAsync(settings, time);
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);

        await server.WaitForAttemptsAsync(messageId, 1);
        await Delivery.QuietPeriodAsync();
        time.Advance(TimeSpan.FromSeconds(1));
        await server.WaitForAttemptsAsync(messageId, 2);
        await Delivery.QuietPeriodAsync();
        time.Advance(TimeSpan.FromSeconds(2));
        var detail = await server.WaitForMessageAsync(messageId, "Failed");
        var message = detail["Message"]!;
        Assert.Equal(3, (int)message["AttemptCount"]!);
        Assert.Contains("3 attempts", (string)message["StatusReason"]!, StringComparison.Ordinal);
        Assert.Null(message["NextAttemptUtc"]);
        Assert.NotNull(message["CompletedUtc"]);
        var attempts = Delivery.AttemptsOf(detail);
        Assert.Equal([1, 2, 3], attempts.Select(a => (int)a["AttemptNumber"]!));
        Assert.All(attempts, a => Assert.Equal(503, (int)a["StatusCode"]!));

        // Nothing more happens by itself, however long we wait.
        time.Advance(TimeSpan.FromDays(2));
        await Delivery.QuietPeriodAsync();
        Assert.Equal(3, sink.Count);

        Volatile.Write(ref accept, true);
        using var response = await server.Api.PostAsync($"/api/v1/messages/{messageId}/retry", null, Delivery.Ct);
        Assert.Equal(202, (int)response.StatusCode);
        var requeued = await response.Content.ReadFromJsonAsync<JsonObject>(Delivery.Ct);
        Assert.Equal("Pending", (string)requeued!["Status"]!);
        await sink.WaitForAsync(4, Delivery.WaitLimit);
        detail = await server.WaitForMessageAsync(messageId, "Delivered");
        Assert.Null(detail["Message"]!["StatusReason"]);
        Assert.Equal(4, Delivery.AttemptsOf(detail).Length);
        Assert.Equal(200, (int)Delivery.AttemptsOf(detail)[^1]["StatusCode"]!);
        // Numbering goes on across a manual retry, so the attempt log reads as one history.
        Assert.Equal([1, 2, 3, 4], Delivery.AttemptsOf(detail).Select(a => (int)a["AttemptNumber"]!));
        Assert.All(sink.Received, r => Assert.Equal(messageId, r.MessageId));
        Assert.Single(sink.Received.Select(r => r.BodyText).Distinct());
    }

    [Fact]
    public async Task Retrying_a_message_that_is_still_pending_is_refused_with_409()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, 500);
        await using var server = await RunningServer.StartAsync(NoJitter(), time);
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var messageId = await server.SingleMessageIdAsync(id);
        await server.WaitForAttemptsAsync(messageId, 1);

        using var response = await server.Api.PostAsync($"/api/v1/messages/{messageId}/retry", null, Delivery.Ct);
        Assert.Equal(409, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>(Delivery.Ct);
        Assert.Equal(409, (int)problem!["status"]!);
        Assert.Contains("pending", (string)problem["detail"]!, StringComparison.OrdinalIgnoreCase);

        var detail = await server.MessageAsync(messageId);
        Assert.Equal("Pending", (string)detail["Message"]!["Status"]!);
        Assert.Equal(1, (int)detail["Message"]!["AttemptCount"]!);
        await Delivery.QuietPeriodAsync();
        Assert.Equal(1, sink.Count);

        using var unknown = await server.Api.PostAsync("/api/v1/messages/msg_00000000000000000000000000000000/retry", null, Delivery.Ct);
        Assert.Equal(404, (int)unknown.StatusCode);
    }

    [Theory]
    [InlineData("120", 120)]
    [InlineData("7200", 3600)] // capped by Delivery:MaxRetryAfter (1 h by default)
    [InlineData("date+90", 90)]
    public async Task Retry_after_is_read_as_seconds_or_as_a_date_and_capped(string header, int expectedSeconds)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) =>
        {
            context.Response.StatusCode = 503;
            context.Response.Headers.RetryAfter = header == "date+90"
                ? time.GetUtcNow().AddSeconds(90).ToString("R", CultureInfo.InvariantCulture)
                : header;
            return Task.CompletedTask;
        };
        await using var server = await RunningServer.StartAsync(NoJitter(), time);
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var detail = await server.WaitForAttemptsAsync(await server.SingleMessageIdAsync(id), 1);

        var next = DateTimeOffset.Parse((string)detail["Message"]!["NextAttemptUtc"]!, CultureInfo.InvariantCulture);
        // Second resolution: an HTTP date drops the fraction of the fake clock's current second.
        Assert.InRange((next - time.GetUtcNow()).TotalSeconds, expectedSeconds - 1.001, expectedSeconds + 0.001);
    }

    [Fact]
    public async Task The_default_jitter_spreads_a_delay_by_at_most_a_fifth()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, 500);
        await using var server = await RunningServer.StartAsync(time: time);
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var detail = await server.WaitForAttemptsAsync(await server.SingleMessageIdAsync(id), 1);

        var next = DateTimeOffset.Parse((string)detail["Message"]!["NextAttemptUtc"]!, CultureInfo.InvariantCulture);
        Assert.InRange((next - time.GetUtcNow()).TotalSeconds, 4 - 1, 6 + 0.001);
    }

    [Fact]
    public async Task A_scheduled_retry_survives_a_restart_and_keeps_its_webhook_id()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "ce-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var accept = false;
            await using var sink = await WebhookSink.StartAsync();
            sink.Respond = (context, _) => Delivery.Answer(context, Volatile.Read(ref accept) ? 200 : 500);
            var settings = NoJitter();
            settings["Delivery:RetrySchedule:0"] = "00:00:01";
            string messageId;
            await using (var first = await RunningServer.StartAsync(settings, dataDirectory: dataDirectory))
            {
                var (enterpriseId, clientId, _) = await first.SeedAsync(sink.Url());
                var id = await first.CreateIntegrationAsync(enterpriseId, clientId);
                messageId = await first.SingleMessageIdAsync(id);
                await first.WaitForAttemptsAsync(messageId, 1);
            }
            Volatile.Write(ref accept, true);

            await using var second = await RunningServer.StartAsync(settings, dataDirectory: dataDirectory);
            var detail = await second.WaitForMessageAsync(messageId, "Delivered");
            Assert.Equal([500, 200], Delivery.AttemptsOf(detail).Select(a => (int)a["StatusCode"]!));
            Assert.Equal(2, sink.Count);
            Assert.All(sink.Received, r => Assert.Equal(messageId, r.MessageId));
        }
        finally
        {
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
