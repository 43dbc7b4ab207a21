using System.Diagnostics;
using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests.Faults;

/// <summary>What a fault test expects of the end state; the default is "everything delivered, nothing failed".</summary>
internal sealed record AccountingPolicy
{
    /// <summary>Which messages may end Failed, and why (checked against the message detail). Default: none.</summary>
    public Func<JsonObject, bool> MayFail { get; init; } = _ => false;

    /// <summary>
    /// Attempts that reached the sink but whose outcome was never recorded, per message: a process killed mid-send, or a send
    /// that met a reset on a reused connection before any answer and went again at once (WebhookSender).
    /// </summary>
    public int UnrecordedAttemptsPerMessage { get; init; }

    /// <summary>Which requests the sink saw count as receipts (a redirect's first hop does not). Default: all.</summary>
    public Func<ReceivedWebhook, bool> IsReceipt { get; init; } = _ => true;

    /// <summary>How long the test's schedule may still run before nothing may be Pending any more.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(20);
}

/// <summary>The accounting every fault test ends with: each message the API accepted is delivered or failed by the policy.</summary>
internal static class DeliveryAccounting
{
    /// <summary>Attempt outcomes that may have reached the receiver (a blocked address or an unresolved host never did).</summary>
    private static bool MayHaveReachedReceiver(JsonObject attempt) =>
        attempt["StatusCode"] is not null || (string?)attempt["ErrorKind"] is "Timeout" or "ConnectionFailed";

    /// <summary>
    /// Waits until nothing is Pending, then checks every message against what <paramref name="received"/> holds.
    /// Returns each message's detail by id, for the test's own assertions.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, JsonObject>> AssertAllAccountedAsync(
        HttpClient api, Func<IReadOnlyList<ReceivedWebhook>> received, AccountingPolicy? policy = null)
    {
        policy ??= new AccountingPolicy();
        var clock = Stopwatch.StartNew();
        IReadOnlyList<JsonObject> messages;
        while (true)
        {
            messages = await ListAllAsync(api);
            var pending = messages.Where(m => (string?)m["Status"] == "Pending").ToArray();
            if (pending.Length == 0)
            {
                break;
            }
            if (clock.Elapsed > policy.Settle)
            {
                Assert.Fail($"{pending.Length} of {messages.Count} messages still Pending after {policy.Settle.TotalSeconds} s " +
                    $"(lost or stuck), e.g. {pending[0].ToJsonString()}");
            }
            await Task.Delay(50, Delivery.Ct);
        }

        // Read the sink only now: every delivery the server recorded has been answered by then.
        var receipts = received().Where(policy.IsReceipt).GroupBy(r => r.MessageId).ToDictionary(g => g.Key, g => g.ToList());
        var details = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var message in messages)
        {
            var id = (string)message["Id"]!;
            var detail = await GetAsync(api, $"/api/v1/messages/{id}");
            details[id] = detail;
            var status = (string)detail["Message"]!["Status"]!;
            var attempts = Delivery.AttemptsOf(detail);
            var got = receipts.TryGetValue(id, out var list) ? list : [];
            switch (status)
            {
                case "Delivered":
                    Assert.True(got.Count > 0, $"{id} is Delivered but the receiver never got it.");
                    Assert.True(attempts.Length > 0 && attempts[^1]["StatusCode"] is { } code && (int)code is >= 200 and < 300,
                        $"{id} is Delivered without a 2xx attempt: {Describe(detail)}");
                    // The body as sent is the body as stored, on every copy (same webhook-id, same bytes); the API masks tokens.
                    Assert.All(got, r => Assert.True(JsonNode.DeepEquals(detail["Body"], Delivery.AsShownByTheApi(r.Body)),
                        $"{id}: a copy's body differs from the stored body."));
                    break;
                case "Failed":
                    Assert.True(policy.MayFail(detail), $"{id} is Failed although the policy says it must not be: {Describe(detail)}");
                    break;
                default:
                    Assert.Fail($"{id} ended {status}, which no fault here should cause: {Describe(detail)}");
                    break;
            }
            // Duplicates only from attempts in flight: never more copies than attempts that could have reached the receiver.
            var couldHaveReached = attempts.Count(MayHaveReachedReceiver) + policy.UnrecordedAttemptsPerMessage;
            Assert.True(got.Count <= couldHaveReached,
                $"{id} reached the receiver {got.Count} times but only {couldHaveReached} attempts could have.");
        }
        // Nothing invented: every webhook-id the receiver saw belongs to a message the server keeps.
        var unknown = receipts.Keys.Where(id => !details.ContainsKey(id)).ToArray();
        Assert.True(unknown.Length == 0, $"The receiver got webhook-ids the server does not know: {string.Join(", ", unknown)}");
        return details;
    }

    /// <summary>
    /// A message for a failure text: its summary and attempts, never its body (an IntegrationCreated body carries the
    /// integration's access token, a secret).
    /// </summary>
    public static string Describe(JsonObject detail) =>
        $"{detail["Message"]?.ToJsonString()} attempts {detail["Attempts"]?.ToJsonString()}";

    /// <summary>Every message, following the cursor (the API lists newest first).</summary>
    public static async Task<IReadOnlyList<JsonObject>> ListAllAsync(HttpClient api)
    {
        var all = new List<JsonObject>();
        string? cursor = null;
        do
        {
            var page = await GetAsync(api, "/api/v1/messages?limit=500" + (cursor is null ? "" : "&cursor=" + cursor));
            all.AddRange(((JsonArray)page["Messages"]!).Select(m => (JsonObject)m!));
            cursor = (string?)page["Cursor"];
        }
        while (cursor is not null);
        return all;
    }

    private static async Task<JsonObject> GetAsync(HttpClient api, string path)
    {
        using var response = await api.GetAsync(path, Delivery.Ct);
        var text = await response.Content.ReadAsStringAsync(Delivery.Ct);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {text}");
        return (JsonObject)JsonNode.Parse(text)!;
    }

    /// <summary>Short retries on a real clock, so a whole schedule plays out within a test.</summary>
    public static Dictionary<string, string?> ShortSchedule(int entries = 5, string step = "00:00:00.100")
    {
        var settings = new Dictionary<string, string?> { ["Delivery:Jitter"] = "0" };
        for (var i = 0; i < entries; i++)
        {
            settings[$"Delivery:RetrySchedule:{i}"] = step;
        }
        return settings;
    }
}
