using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests.Faults;

/// <summary>
/// The SQLite data folder on a real tmpfs that fills up or turns read-only. Pinned to SQLite whatever
/// CONNECTOR_EVENTS_TEST_STORAGE says: these faults are about the data folder.
/// </summary>
public sealed class DataFolderFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(10);

    private static Dictionary<string, string?> Sqlite() => new(DeliveryAccounting.ShortSchedule(entries: 8, step: "00:00:00.200"))
    {
        ["Storage:Provider"] = "Sqlite",
    };

    /// <summary>Drives toggles and General events, and keeps what the API acknowledged.</summary>
    private sealed class Traffic(RunningServer server, Guid enterpriseId, Guid[] integrations)
    {
        /// <summary>The server the traffic goes to; replaced after a restart.</summary>
        public RunningServer Server { get; set; } = server;

        private readonly Dictionary<Guid, bool> _enabled = integrations.ToDictionary(i => i, _ => true);

        public Dictionary<Guid, int> Acknowledged { get; } = integrations.ToDictionary(i => i, _ => 0);

        public List<string> AcceptedEvents { get; } = [];

        public int Refused { get; private set; }

        /// <summary>One command per integration and one batch of <paramref name="events"/> events; returns the statuses.</summary>
        public async Task<List<int>> RoundAsync(int events)
        {
            var statuses = new List<int>();
            foreach (var id in integrations)
            {
                using var response = await SendAsync(() => Server.Api.PostAsync(
                    $"/api/v1/integrations/{id}/{(_enabled[id] ? "disable" : "enable")}", null, Delivery.Ct));
                statuses.Add(await CheckAsync(response));
                if (response.IsSuccessStatusCode)
                {
                    _enabled[id] = !_enabled[id];
                    Acknowledged[id]++;
                }
            }
            var ids = Enumerable.Range(0, events).Select(_ => Guid.NewGuid().ToString()).ToArray();
            using (var response = await SendAsync(() => Server.Api.PostAsJsonAsync($"/api/v1/enterprises/{enterpriseId}/events",
                new { Events = ids.Select(i => new { Discriminator = "ServiceOrderUpdated", Value = new { Id = i } }).ToArray() }, Delivery.Ct)))
            {
                statuses.Add(await CheckAsync(response));
                if (response.IsSuccessStatusCode)
                {
                    AcceptedEvents.AddRange(ids);
                }
            }
            return statuses;
        }

        /// <summary>Bounded: a request that hangs fails the test.</summary>
        private static async Task<HttpResponseMessage> SendAsync(Func<Task<HttpResponseMessage>> send)
        {
            var clock = Stopwatch.StartNew();
            var response = await send().WaitAsync(AnswerBound, Delivery.Ct);
            Assert.True(clock.Elapsed < AnswerBound, "the API hung on a storage fault");
            return response;
        }

        /// <summary>2xx, or a 503 problem that says storage is unavailable; a 409 would mean a refused command was applied.</summary>
        private async Task<int> CheckAsync(HttpResponseMessage response)
        {
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(Delivery.Ct);
            if (response.IsSuccessStatusCode)
            {
                return status;
            }
            Assert.True(status == 503, $"a storage fault answered {status}, not 503: {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = (JsonObject)JsonNode.Parse(text)!;
            Assert.Equal(503, (int)problem["status"]!);
            Assert.Equal("Storage is unavailable.", (string?)problem["title"]);
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.DoesNotContain(RunningServer.AdminKey, text, StringComparison.Ordinal);
            Refused++;
            return status;
        }

        /// <summary>Every acknowledged command has its webhook; every accepted event reached the receiver.</summary>
        public async Task AssertAccountedAsync(IReadOnlyList<ReceivedWebhook> received)
        {
            foreach (var id in integrations)
            {
                var messages = await Server.MessagesAsync(id);
                var own = messages.Count(m => (string)m["Channel"]! == "Integration");
                // Exactly: a refused (503) command must not have been applied behind the caller's back.
                Assert.Equal(1 + Acknowledged[id], own);
            }
            Assert.Equal(0, MissingEvents(received));
        }

        /// <summary>Accepted events not yet in a General message the receiver got; events still in the log form no message yet.</summary>
        public int MissingEvents(IReadOnlyList<ReceivedWebhook> received)
        {
            var generalText = string.Concat(received.Where(r => r.Path == "/general").Select(r => r.BodyText));
            return AcceptedEvents.Count(e => !generalText.Contains(e, StringComparison.Ordinal));
        }
    }

    private static async Task<Traffic> SeedAsync(RunningServer server, WebhookSink sink)
    {
        var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = "Disk Hotel" });
        var client = await server.PostAsync("/api/v1/clients",
            new { Name = "Disk App", IntegrationWebhookUrl = sink.Url("/integration"), GeneralWebhookUrl = sink.Url("/general") });
        var enterpriseId = Guid.Parse((string)enterprise["Id"]!);
        var clientId = Guid.Parse((string)client["Id"]!);
        // The first stays Enabled (the General events' receiver); the others toggle.
        var steady = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var toggled = new[] { await server.CreateIntegrationAsync(enterpriseId, clientId), await server.CreateIntegrationAsync(enterpriseId, clientId) };
        await server.PatchGeneralOffAsync(toggled);
        return new Traffic(server, enterpriseId, toggled) { };
    }

    [Fact]
    public async Task Fault_a_full_data_folder_answers_503_problems_applies_nothing_it_refused_and_recovers()
    {
        using var folder = TmpfsFolder.Mount(megabytes: 24);
        // Deliveries are held at the receiver while the disk fills, so their outcomes come back to a full disk.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = 0;
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = async (context, _) =>
        {
            Interlocked.Increment(ref held);
            await gate.Task.WaitAsync(context.RequestAborted);
        };
        await using var server = await RunningServer.StartAsync(Sqlite(), dataDirectory: Path.Combine(folder.Path, "data"));
        var traffic = await SeedAsync(server, sink);
        await traffic.RoundAsync(events: 5);
        await Delivery.WaitUntilAsync(() => Volatile.Read(ref held) >= 3, "deliveries were held at the receiver");

        var filled = folder.Fill();
        var during = new List<int>();
        for (var round = 0; round < 6; round++)
        {
            // Large batches: the WAL reuses pages it already has, so small writes may still fit.
            during.AddRange(await traffic.RoundAsync(events: 1000));
            if (round == 1)
            {
                gate.TrySetResult();
            }
        }
        output.WriteLine($"filled {filled} bytes; answers while full: {string.Join(",", during)}");
        Assert.Contains(503, during);

        folder.Unfill();
        // Lifted: the very next writes succeed.
        var after = new List<int>();
        for (var round = 0; round < 3; round++)
        {
            after.AddRange(await traffic.RoundAsync(events: 5));
        }
        Assert.All(after, s => Assert.InRange(s, 200, 299));

        await Delivery.WaitUntilAsync(() => traffic.MissingEvents(sink.Received) == 0, "every accepted event arrived");
        await DeliveryAccounting.AssertAllAccountedAsync(server.Api, () => sink.Received, new AccountingPolicy
        {
            // A delivery whose outcome could not be written while full is sent again.
            UnrecordedAttemptsPerMessage = 3,
        });
        await traffic.AssertAccountedAsync(sink.Received);
    }

    [Fact]
    public async Task Fault_a_read_only_data_folder_stops_the_start_with_a_clear_error_and_nothing_is_lost_once_writable()
    {
        using var folder = TmpfsFolder.Mount(megabytes: 24);
        var lifted = false;
        await using var sink = await WebhookSink.StartAsync();
        // Failing until the fault is lifted, so work is still pending when the folder turns read-only.
        sink.Respond = (context, _) => Delivery.Answer(context, Volatile.Read(ref lifted) ? 200 : 503);
        var data = Path.Combine(folder.Path, "data");
        var settings = new Dictionary<string, string?>(DeliveryAccounting.ShortSchedule(entries: 100, step: "00:00:00.200"))
        {
            ["Storage:Provider"] = "Sqlite",
        };
        Traffic traffic;
        await using (var first = await RunningServer.StartAsync(settings, dataDirectory: data))
        {
            traffic = await SeedAsync(first, sink);
            Assert.All(await traffic.RoundAsync(events: 5), s => Assert.InRange(s, 200, 299));
            Assert.All(await traffic.RoundAsync(events: 5), s => Assert.InRange(s, 200, 299));
            await sink.WaitForAsync(3, Delivery.WaitLimit);
            // The kernel refuses to remount a file system read-only while files on it are open for writing (SQLite's),
            // so a live server only ever meets the full disk (above); read-only is met at the next start.
            Assert.NotEqual(0, folder.Remount(readOnly: true).Code);
        }
        var (code, error) = folder.Remount(readOnly: true);
        Assert.True(code == 0, $"remount,ro failed: {error}");

        var clock = Stopwatch.StartNew();
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var _ = await RunningServer.StartAsync(settings, dataDirectory: data);
        });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"a read-only data folder took {clock.Elapsed} to refuse the start");
        var message = string.Join(" | ", Chain(refused).Select(e => e.Message));
        Assert.Contains("cannot be opened for writing", message, StringComparison.Ordinal);
        Assert.Contains(data, message, StringComparison.Ordinal);
        Assert.DoesNotContain(RunningServer.AdminKey, message, StringComparison.Ordinal);

        (code, error) = folder.Remount(readOnly: false);
        Assert.True(code == 0, $"remount,rw failed: {error}");
        Volatile.Write(ref lifted, true);
        await using var second = await RunningServer.StartAsync(settings, dataDirectory: data);
        traffic.Server = second;
        Assert.All(await traffic.RoundAsync(events: 5), s => Assert.InRange(s, 200, 299));

        await Delivery.WaitUntilAsync(() => traffic.MissingEvents(sink.Received) == 0, "every accepted event arrived");
        var details = await DeliveryAccounting.AssertAllAccountedAsync(second.Api, () => sink.Received, new AccountingPolicy
        {
            UnrecordedAttemptsPerMessage = 1, // a send cut off by the graceful stop
        });
        await traffic.AssertAccountedAsync(sink.Received);
        // The work pending across the read-only start was kept and went out once writable.
        Assert.Contains(details.Values, d => StatusCodes(d).Contains(503) && StatusCodes(d)[^1] == 200);
    }

    private static int[] StatusCodes(JsonObject detail) =>
        Delivery.AttemptsOf(detail).Select(a => a["StatusCode"] is { } s ? (int)s : 0).ToArray();

    private static IEnumerable<Exception> Chain(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain))
                {
                    yield return inner;
                }
            }
        }
    }
}

internal static class GeneralSubscriptions
{
    /// <summary>Subscribes the integrations to no General event, so only the steady one receives them.</summary>
    public static async Task PatchGeneralOffAsync(this RunningServer server, IEnumerable<Guid> integrations)
    {
        foreach (var id in integrations)
        {
            await server.SendAsync(HttpMethod.Patch, $"/api/v1/integrations/{id}", new { GeneralEvents = Array.Empty<string>() });
        }
    }
}
