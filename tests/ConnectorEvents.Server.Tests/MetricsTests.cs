using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConnectorEvents.Testing;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>
/// <c>/metrics</c> after known work, in a server process of its own (so no other test's work is counted): every count
/// exact, and the scrape guarded by a Reader or Admin key.
/// </summary>
public sealed partial class MetricsTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_scrape_counts_exactly_what_was_created_delivered_failed_skipped_attempted_and_ingested()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Limit);
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, context.Request.Path.StartsWithSegments("/gone") ? 410 : 200);
        var data = ServerProcess.NewDataDirectory("metrics");
        await using var server = await ServerProcess.StartAsync(data, ServerProcess.FreePort());
        using var api = server.CreateApiClient();

        var enterprise = await api.PostJsonAsync("/api/v1/enterprises", new { Name = "Metrics Hotel" });
        var delivering = await api.PostJsonAsync("/api/v1/clients", new { Name = "Delivering", IntegrationWebhookUrl = sink.Url("/ok?Token=t1") });
        var withoutUrl = await api.PostJsonAsync("/api/v1/clients", new { Name = "No URL" });
        var gone = await api.PostJsonAsync("/api/v1/clients", new { Name = "Gone", IntegrationWebhookUrl = sink.Url("/gone?Token=t2") });
        var integration = await api.PostJsonAsync("/api/v1/integrations", new { EnterpriseId = enterprise["Id"], ClientId = delivering["Id"] });
        await api.PostJsonAsync($"/api/v1/integrations/{integration["Id"]}/disable", null);
        await api.PostJsonAsync($"/api/v1/integrations/{integration["Id"]}/enable", null);
        await api.PostJsonAsync("/api/v1/integrations", new { EnterpriseId = enterprise["Id"], ClientId = withoutUrl["Id"] });
        await api.PostJsonAsync("/api/v1/integrations", new { EnterpriseId = enterprise["Id"], ClientId = gone["Id"] });
        await api.PostJsonAsync($"/api/v1/enterprises/{enterprise["Id"]}/events", new
        {
            Events = Enumerable.Range(0, 4).Select(_ => new { Type = "Resource", Id = Guid.NewGuid(), State = "Dirty" }),
        });
        var reader = await api.PostJsonAsync("/api/v1/api-keys", new { Name = "scraper", Role = "Reader" });
        var producer = await api.PostJsonAsync("/api/v1/api-keys", new { Name = "producer", Role = "Producer" });
        using var scraper = new HttpClient { BaseAddress = server.BaseUri };
        scraper.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)reader["Key"]!);

        // Three delivered and one failed settle the known work; then every figure is read from one scrape.
        // The backlog gauge is measured at most every 10 s, so it may trail the counters by that much.
        var samples = await ScrapeUntilAsync(scraper, s => s.Value("connector_events_messages_delivered_total", ("channel", "Integration")) == 3
            && s.Value("connector_events_messages_failed_total", ("channel", "Integration")) == 1
            && s.Value("connector_events_backlog_messages", ("channel", "Integration")) == 0, cts.Token);

        Assert.Equal(5, samples.Value("connector_events_messages_created_total", ("channel", "Integration")));
        Assert.Equal(1, samples.Value("connector_events_messages_skipped_total", ("channel", "Integration")));
        Assert.Equal(3, samples.Value("connector_events_delivery_attempts_total", ("channel", "Integration"), ("outcome", "success")));
        Assert.Equal(1, samples.Value("connector_events_delivery_attempts_total", ("channel", "Integration"), ("outcome", "http_error")));
        Assert.Equal(4, samples.Sum("connector_events_delivery_attempts_total"));
        Assert.Equal(3, samples.Value("connector_events_delivery_latency_seconds_count", ("channel", "Integration")));
        Assert.Equal(4, samples.Value("connector_events_attempt_duration_seconds_count", ("channel", "Integration")));
        Assert.Equal(4, samples.Value("connector_events_ingest_events_total"));
        Assert.Null(samples.Value("connector_events_messages_created_total", ("channel", "General")));
        Assert.Equal(0, samples.Value("connector_events_backlog_oldest_age_seconds", ("channel", "Integration")));
        Assert.Equal(0, samples.Value("connector_events_websocket_connections"));
        Assert.Null(samples.Value("connector_events_websocket_frames_total")); // no socket took a frame
        // Each command and each outcome was a unit of some group commit.
        Assert.True(samples.Value("connector_events_storage_commit_units_sum") >= 9 + 4, "commit units: " + samples.Text);
        Assert.True(samples.Value("connector_events_storage_commit_duration_seconds_count") >= 1);
        Assert.Equal(4, sink.Count);
        // The runtime's own meter beside ours, measured in the server's process: collections by generation, allocation, memory.
        Assert.NotNull(samples.Value("dotnet_gc_collections_total", ("gc_heap_generation", "gen2")));
        Assert.True(samples.Value("dotnet_gc_heap_total_allocated_bytes_total") > 1024 * 1024, "allocated: " + samples.Text);
        Assert.True(samples.Value("dotnet_process_memory_working_set_bytes") > 16 * 1024 * 1024, "working set: " + samples.Text);
        Assert.NotNull(samples.Value("dotnet_gc_pause_time_seconds_total"));

        // The scrape is guarded: no key 401, a Producer key 403, both as problem details; the Reader and Admin keys open it.
        using (var anonymous = await new HttpClient { BaseAddress = server.BaseUri }.GetAsync("/metrics", cts.Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
        }
        using var producing = new HttpClient { BaseAddress = server.BaseUri };
        producing.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)producer["Key"]!);
        using (var refused = await producing.GetAsync("/metrics", cts.Token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        using (var admin = await api.GetAsync("/metrics", cts.Token))
        {
            Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        }
        await server.StopAsync(TimeSpan.FromSeconds(15));
        ServerProcess.DeleteDataDirectory(data);
    }

    [Fact]
    public async Task Metrics_AllowAnonymous_opens_the_scrape_and_Metrics_Prometheus_false_removes_it()
    {
        var data = ServerProcess.NewDataDirectory("metrics");
        await using (var open = await ServerProcess.StartAsync(data, ServerProcess.FreePort(),
            new Dictionary<string, string> { ["Metrics__AllowAnonymous"] = "true" }))
        {
            using var anonymous = new HttpClient { BaseAddress = open.BaseUri };
            var text = await anonymous.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
            Assert.Contains("connector_events_websocket_connections", text, StringComparison.Ordinal);
            await open.StopAsync(TimeSpan.FromSeconds(15));
        }
        await using (var off = await ServerProcess.StartAsync(data, ServerProcess.FreePort(),
            new Dictionary<string, string> { ["Metrics__Prometheus"] = "false" }))
        {
            using var api = off.CreateApiClient();
            using var response = await api.GetAsync("/metrics", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            await off.StopAsync(TimeSpan.FromSeconds(15));
        }
        ServerProcess.DeleteDataDirectory(data);
    }

    private static async Task<Samples> ScrapeUntilAsync(HttpClient scraper, Func<Samples, bool> settled, CancellationToken ct)
    {
        while (true)
        {
            using var response = await scraper.GetAsync("/metrics", ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"/metrics answered {(int)response.StatusCode}: {text}");
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            var samples = new Samples(text);
            if (settled(samples))
            {
                return samples;
            }
            try
            {
                await Task.Delay(200, ct);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail("The work did not settle in time. Last scrape:\n" + text);
            }
        }
    }

    /// <summary>The samples of a Prometheus text exposition: <c>name{label="value",…} value [timestamp]</c>.</summary>
    private sealed partial class Samples(string text)
    {
        private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = Parse(text);

        public string Text => text;

        /// <summary>The one sample of <paramref name="name"/> carrying these labels (others ignored), or null when there is none.</summary>
        public double? Value(string name, params (string Key, string Value)[] labels)
        {
            var matching = _samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).ToList();
            Assert.True(matching.Count <= 1, $"{matching.Count} samples of {name} match; name more labels.\n{text}");
            return matching.Count == 0 ? null : matching[0].Value;
        }

        public double Sum(string name) => _samples.Where(s => s.Name == name).Sum(s => s.Value);

        private static List<(string, Dictionary<string, string>, double)> Parse(string text) =>
            text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(line =>
            {
                var match = SampleLine().Match(line);
                Assert.True(match.Success, "not a sample line: " + line);
                var labels = LabelPair().Matches(match.Groups["labels"].Value)
                    .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);
                return (match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture));
            }).ToList();

        [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$""")]
        private static partial Regex SampleLine();

        [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
        private static partial Regex LabelPair();
    }
}
