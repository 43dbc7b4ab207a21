using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>
/// One trace per change: the API request (or ingest), its commit, each delivery attempt, with the <c>webhook-id</c>. The
/// caller's <c>traceparent</c> names the trace, so this test finds its own spans among those of tests running beside it.
/// </summary>
public sealed class TracingTests : IDisposable
{
    private readonly ConcurrentBag<Activity> _stopped = [];
    private readonly ActivityListener _listener;

    public TracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "ConnectorEvents" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Add,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public async Task An_API_command_its_commit_and_each_delivery_attempt_are_one_trace_carrying_the_webhook_id()
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, sink.Count == 0 ? 500 : 200); // the first attempt fails
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Delivery:RetrySchedule:0"] = "00:00:00.1" });
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url("/hook?Token=trace-secret"));

        var trace = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/integrations")
        {
            Content = JsonContent.Create(new { EnterpriseId = enterpriseId, ClientId = clientId }),
        };
        request.Headers.Add("traceparent", $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var response = await server.Api.SendAsync(request, Delivery.Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Delivery.Ct));
        var integrationId = (string)JsonNode.Parse(await response.Content.ReadAsStringAsync(Delivery.Ct))!["Id"]!;
        await sink.WaitForAsync(2, Delivery.WaitLimit);
        var webhookId = sink.Received[1].MessageId;
        await Delivery.WaitUntilAsync(() => Spans(trace).Count(s => s.OperationName == "deliver") == 2, "both attempts' spans");

        var spans = Spans(trace);
        var http = Assert.Single(spans, s => s.Source.Name == "Microsoft.AspNetCore");
        var commit = Assert.Single(spans, s => s.OperationName == "commit");
        Assert.Equal(http.SpanId, commit.ParentSpanId);
        var attempts = spans.Where(s => s.OperationName == "deliver").OrderBy(s => s.StartTimeUtc).ToList();
        Assert.All(attempts, a =>
        {
            Assert.Equal(commit.SpanId, a.ParentSpanId);
            Assert.Equal(ActivityKind.Client, a.Kind);
            Assert.Equal(webhookId, a.GetTagItem("webhook.id"));
            Assert.Equal("Integration", a.GetTagItem("connector_events.channel"));
            Assert.Equal(integrationId, a.GetTagItem("connector_events.integration_id"));
            Assert.Equal(sink.Url("/hook") + "?…", a.GetTagItem("url.full")); // the query (its token) cut
        });
        Assert.Equal([1, 2], attempts.Select(a => (int)a.GetTagItem("connector_events.attempt")!));
        Assert.Equal(["http_error", "success"], attempts.Select(a => (string)a.GetTagItem("connector_events.outcome")!));
        Assert.Equal([500, 200], attempts.Select(a => (int)a.GetTagItem("http.response.status_code")!));
        Assert.Equal([ActivityStatusCode.Error, ActivityStatusCode.Unset], attempts.Select(a => a.Status));
        Assert.All(sink.Received, r => Assert.Equal("", r.Header("traceparent"))); // the partner sees the contract's headers only
        Assert.DoesNotContain(spans.SelectMany(s => s.TagObjects), t => t.Value?.ToString()?.Contains("trace-secret", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task An_ingest_its_commit_and_the_General_webhook_it_starts_are_one_trace()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync();
        var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = "Traced Hotel" });
        var client = await server.PostAsync("/api/v1/clients", new { Name = "Traced", GeneralWebhookUrl = sink.Url("/general") });
        await server.PostAsync("/api/v1/integrations", new { EnterpriseId = enterprise["Id"], ClientId = client["Id"] });

        var trace = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/enterprises/{enterprise["Id"]}/events")
        {
            Content = JsonContent.Create(new { Events = new[] { new { Discriminator = "ResourceUpdated", Value = new { Id = Guid.NewGuid() } } } }),
        };
        request.Headers.Add("traceparent", $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var response = await server.Api.SendAsync(request, Delivery.Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Delivery.Ct));
        await sink.WaitForAsync(1, Delivery.WaitLimit);
        await Delivery.WaitUntilAsync(() => Spans(trace).Any(s => s.OperationName == "deliver"), "the General webhook's span");

        var spans = Spans(trace);
        var http = Assert.Single(spans, s => s.Source.Name == "Microsoft.AspNetCore");
        var commit = Assert.Single(spans, s => s.OperationName == "commit");
        Assert.Equal(http.SpanId, commit.ParentSpanId);
        var attempt = Assert.Single(spans, s => s.OperationName == "deliver");
        Assert.Equal(commit.SpanId, attempt.ParentSpanId);
        Assert.Equal("General", attempt.GetTagItem("connector_events.channel"));
        Assert.Equal(sink.Received[0].MessageId, attempt.GetTagItem("webhook.id"));
    }

    private List<Activity> Spans(ActivityTraceId trace) => _stopped.Where(a => a.TraceId == trace).ToList();

    public void Dispose() => _listener.Dispose();
}
