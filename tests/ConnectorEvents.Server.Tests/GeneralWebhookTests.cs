using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConnectorEvents.Contracts;
using ConnectorEvents.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>Producer events in, General Webhooks out: routing, batching, rollover, de-duplication, versions, idempotency.</summary>
public sealed partial class GeneralWebhookTests
{
    private static readonly Guid Customer = Guid.Parse("c2f1d888-232e-49eb-87ac-5f75363af13b");
    private static readonly Guid Reservation = Guid.Parse("bfee2c44-1f84-4326-a862-5289598f6e2d");
    private static readonly Guid Room = Guid.Parse("7cccbdc6-73cf-4cd4-8056-6fd00f4d9699");

    internal sealed record Setup(
        RunningServer Server, WebhookSink Sink, Guid EnterpriseId, Guid ClientId, Guid IntegrationId, string Secret, string ClientToken,
        string AccessToken) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await Sink.DisposeAsync();
        }

        public IReadOnlyList<ReceivedWebhook> General => Sink.Received.Where(r => r.Path == "/general").ToList();
    }

    internal static async Task<Setup> StartAsync(
        Dictionary<string, string?>? settings = null, string version = "2025-08", TimeProvider? time = null)
    {
        var sink = await WebhookSink.StartAsync();
        var server = await RunningServer.StartAsync(settings, time);
        var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = "General Hotel" });
        var client = await server.PostAsync("/api/v1/clients", new
        {
            Name = "General App",
            IntegrationWebhookUrl = sink.Url("/integration"),
            GeneralWebhookUrl = sink.Url("/general"),
            ContractVersion = version,
        });
        var enterpriseId = Guid.Parse((string)enterprise["Id"]!);
        var clientId = Guid.Parse((string)client["Id"]!);
        var integration = await server.PostAsync("/api/v1/integrations", new { EnterpriseId = enterpriseId, ClientId = clientId });
        return new Setup(server, sink, enterpriseId, clientId, Guid.Parse((string)integration["Id"]!), (string)client["SigningSecret"]!,
            (string)client["ClientToken"]!, (string)integration["AccessToken"]!);
    }

    internal static object General(string discriminator, Guid id, object? entity = null) =>
        entity is null ? new { Discriminator = discriminator, Value = new { Id = id } } : new { Discriminator = discriminator, Value = new { Id = id }, Entity = entity };

    internal static Task<JsonObject> IngestAsync(RunningServer server, Guid enterpriseId, params object[] events) =>
        server.PostAsync($"/api/v1/enterprises/{enterpriseId}/events", new { Events = events }, expectedStatus: 202);

    private static JsonObject BodyOf(ReceivedWebhook webhook) => (JsonObject)JsonNode.Parse(webhook.Body)!;

    private static string[] EventsOf(ReceivedWebhook webhook) =>
        ((JsonArray)BodyOf(webhook)["Events"]!).Select(e => $"{e!["Discriminator"]}:{e["Value"]!["Id"]}").ToArray();

    [Fact]
    public async Task A_mixed_batch_arrives_as_one_signed_general_webhook_in_the_documented_shape()
    {
        await using var setup = await StartAsync();
        var ids = Enumerable.Range(0, 7).Select(_ => Guid.NewGuid()).ToArray();
        var receipt = await IngestAsync(setup.Server, setup.EnterpriseId,
            General("ServiceOrderUpdated", ids[0]), General("ResourceUpdated", ids[1]), General("MessageAdded", ids[2]),
            General("ResourceBlockUpdated", ids[3]), General("CustomerAdded", ids[4]), General("CustomerUpdated", ids[5]),
            General("PaymentUpdated", ids[6]),
            new { Type = "Resource", Id = ids[1], State = "Dirty" });
        Assert.Equal(7, (int)receipt["GeneralEventCount"]!);
        Assert.Equal(1, (int)receipt["WebSocketEventCount"]!);
        Assert.Equal(1, (int)receipt["IntegrationCount"]!);
        Assert.Equal(1, (int)receipt["MessageCount"]!);
        Assert.Equal(setup.EnterpriseId, Guid.Parse((string)receipt["EnterpriseId"]!));

        await Delivery.WaitUntilAsync(() => setup.General.Count == 1, "the General webhook arrived");
        var webhook = Assert.Single(setup.General);
        var expected = $$$"""
            {"EnterpriseId":"{{{setup.EnterpriseId}}}","IntegrationId":"{{{setup.IntegrationId}}}","Events":[
            {"Discriminator":"ServiceOrderUpdated","Value":{"Id":"{{{ids[0]}}}"}},
            {"Discriminator":"ResourceUpdated","Value":{"Id":"{{{ids[1]}}}"}},
            {"Discriminator":"MessageAdded","Value":{"Id":"{{{ids[2]}}}"}},
            {"Discriminator":"ResourceBlockUpdated","Value":{"Id":"{{{ids[3]}}}"}},
            {"Discriminator":"CustomerAdded","Value":{"Id":"{{{ids[4]}}}"}},
            {"Discriminator":"CustomerUpdated","Value":{"Id":"{{{ids[4]}}}"}},
            {"Discriminator":"CustomerUpdated","Value":{"Id":"{{{ids[5]}}}"}},
            {"Discriminator":"PaymentUpdated","Value":{"Id":"{{{ids[6]}}}"}}]}
            """.Replace("\n", "", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal);
        Assert.Equal(expected, webhook.BodyText);
        Assert.True(StandardWebhooks.IsSignedBy(webhook, setup.Secret));
        Assert.Equal("application/json; charset=utf-8", webhook.Header("content-type"));
        var message = await setup.Server.WaitForMessageAsync(webhook.MessageId, "Delivered");
        Assert.Equal("General", (string)message["Message"]!["Channel"]!);
        // The receiver SDK reads it as the documented General message.
        var read = WebhookReader.Read(webhook.Body);
        Assert.IsType<GeneralMessageReading>(read);
    }

    [Fact]
    public async Task Added_brings_its_updated_and_a_discriminator_and_id_appear_once_per_message()
    {
        await using var setup = await StartAsync();
        var message = Guid.NewGuid();
        await IngestAsync(setup.Server, setup.EnterpriseId,
            General("CustomerAdded", Customer), General("CustomerUpdated", Customer), General("ResourceUpdated", Room),
            General("ResourceUpdated", Room), General("MessageAdded", message), General("CustomerUpdated", Customer));

        await Delivery.WaitUntilAsync(() => setup.General.Count == 1, "the General webhook arrived");
        Assert.Equal(
            [$"CustomerAdded:{Customer}", $"CustomerUpdated:{Customer}", $"ResourceUpdated:{Room}", $"MessageAdded:{message}"],
            EventsOf(setup.General[0]));
    }

    [Fact]
    public async Task A_batch_beyond_the_cap_rolls_over_into_further_messages_in_order()
    {
        await using var setup = await StartAsync(new() { ["Delivery:General:MaxEventsPerMessage"] = "10" });
        var ids = Enumerable.Range(0, 25).Select(_ => Guid.NewGuid()).ToArray();
        await IngestAsync(setup.Server, setup.EnterpriseId, ids.Select(id => General("PaymentUpdated", id)).ToArray());

        await Delivery.WaitUntilAsync(() => setup.General.Count == 3, "three General webhooks arrived");
        await Delivery.QuietPeriodAsync();
        var bodies = setup.General.Select(EventsOf).ToArray();
        Assert.Equal([10, 10, 5], bodies.Select(b => b.Length));
        Assert.Equal(ids.Select(id => $"PaymentUpdated:{id}"), bodies.SelectMany(b => b));
        Assert.Equal(3, setup.General.Select(w => w.MessageId).Distinct().Count());
    }

    [Fact]
    public async Task Events_that_arrive_while_a_message_is_in_flight_travel_together_in_the_next()
    {
        await using var setup = await StartAsync();
        using var gate = new SemaphoreSlim(0);
        var generalRequests = 0;
        setup.Sink.Respond = async (context, received) =>
        {
            if (received.Path == "/general" && Interlocked.Increment(ref generalRequests) == 1)
            {
                await gate.WaitAsync(Delivery.WaitLimit);
            }
        };
        var first = Guid.NewGuid();
        await IngestAsync(setup.Server, setup.EnterpriseId, General("PaymentUpdated", first));
        await Delivery.WaitUntilAsync(() => Volatile.Read(ref generalRequests) == 1, "the first message is in flight");
        var later = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var id in later)
        {
            await IngestAsync(setup.Server, setup.EnterpriseId, General("PaymentUpdated", id));
        }
        await Delivery.QuietPeriodAsync();
        Assert.Equal(1, Volatile.Read(ref generalRequests)); // nothing overtakes or runs beside the message in flight
        gate.Release();

        await Delivery.WaitUntilAsync(() => setup.General.Count == 2, "the second message arrived");
        await Delivery.QuietPeriodAsync();
        Assert.Equal(2, setup.General.Count);
        Assert.Equal(later.Select(id => $"PaymentUpdated:{id}"), EventsOf(setup.General[1]));
    }

    [Fact]
    public async Task A_batch_window_gathers_separate_requests_into_one_message()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var setup = await StartAsync(new() { ["Delivery:General:BatchWindow"] = "00:00:02" }, time: time);
        var ids = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var id in ids)
        {
            await IngestAsync(setup.Server, setup.EnterpriseId, General("ResourceBlockUpdated", id));
        }
        await Delivery.QuietPeriodAsync();
        Assert.Empty(setup.General);

        time.Advance(TimeSpan.FromSeconds(2));
        await Delivery.WaitUntilAsync(() => setup.General.Count == 1, "the gathered message arrived");
        await Delivery.QuietPeriodAsync();
        Assert.Equal(ids.Select(id => $"ResourceBlockUpdated:{id}"), EventsOf(Assert.Single(setup.General)));
    }

    [Theory]
    [InlineData("disable")]
    [InlineData("cancel")]
    [InlineData("delete")]
    public async Task Events_accepted_while_enabled_are_sent_even_when_the_integration_leaves_enabled_before_they_are_formed(string command)
    {
        // The batch window keeps the events waiting in the log, unformed, until the command takes the integration out of Enabled.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // A short window on the fake clock: on PostgreSQL, partition leases run on it too, and a long jump would end them.
        await using var setup = await StartAsync(new() { ["Delivery:General:BatchWindow"] = "00:00:02", ["Delivery:General:MaxEventsPerMessage"] = "2" }, time: time);
        var ids = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid()).ToArray();
        await IngestAsync(setup.Server, setup.EnterpriseId, ids.Select(id => General("PaymentUpdated", id)).ToArray());
        await Delivery.QuietPeriodAsync();
        Assert.Empty(setup.General);

        if (command == "delete")
        {
            await setup.Server.SendAsync(HttpMethod.Delete, $"/api/v1/integrations/{setup.IntegrationId}");
        }
        else
        {
            await setup.Server.PostAsync($"/api/v1/integrations/{setup.IntegrationId}/{command}");
        }
        // Nothing after leaving Enabled is taken.
        await IngestAsync(setup.Server, setup.EnterpriseId, General("PaymentUpdated", Guid.NewGuid()));

        // Formed by the command itself, in messages of at most two events; sent when the lane's window ends.
        time.Advance(TimeSpan.FromSeconds(2));
        await Delivery.WaitUntilAsync(() => setup.General.Count == 2, "the waiting events arrived");
        time.Advance(TimeSpan.FromSeconds(2));
        await Delivery.QuietPeriodAsync(500);
        Assert.Equal(ids.Select(id => $"PaymentUpdated:{id}"), setup.General.SelectMany(EventsOf));
    }

    [Fact]
    public async Task The_same_idempotency_key_and_body_gets_the_same_answer_and_no_second_set_of_events()
    {
        await using var setup = await StartAsync();
        var body = $$$"""{"Events":[{"Discriminator":"PaymentUpdated","Value":{"Id":"{{{Guid.NewGuid()}}}"}}]}""";
        async Task<(HttpStatusCode Status, string Body, bool Replayed)> PostAsync(string key, string text)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/enterprises/{setup.EnterpriseId}/events")
            {
                Content = new StringContent(text, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await setup.Server.Api.SendAsync(request, Delivery.Ct);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(Delivery.Ct),
                response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Single() == "true");
        }

        var first = await PostAsync("order-42", body);
        var again = await PostAsync("order-42", body);
        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        Assert.False(first.Replayed);
        Assert.Equal(HttpStatusCode.Accepted, again.Status);
        Assert.True(again.Replayed);
        Assert.Equal(first.Body, again.Body);

        await Delivery.WaitUntilAsync(() => setup.General.Count == 1, "the event arrived");
        await Delivery.QuietPeriodAsync(500);
        Assert.Single(EventsOf(Assert.Single(setup.General)));
        Assert.Single(await setup.Server.MessagesAsync(setup.IntegrationId), m => (string)m["Channel"]! == "General");

        var conflicting = await PostAsync("order-42", body.Replace("PaymentUpdated", "ResourceUpdated", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, conflicting.Status);
        Assert.Contains("Idempotency-Key", conflicting.Body, StringComparison.Ordinal);
        var other = await PostAsync("order-43", body);
        Assert.Equal(HttpStatusCode.Accepted, other.Status);
        Assert.False(other.Replayed);
        await Delivery.WaitUntilAsync(() => setup.General.Count == 2, "the new key's event arrived");
        var bad = await PostAsync("has space", body);
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
    }

    [Fact]
    public async Task Subscriptions_choose_what_an_integration_receives()
    {
        await using var setup = await StartAsync();
        var patched = await setup.Server.SendAsync(HttpMethod.Patch, $"/api/v1/integrations/{setup.IntegrationId}",
            new { GeneralEvents = new[] { "CustomerUpdated", "PaymentUpdated" }, WebSocketEvents = Array.Empty<string>() });
        Assert.Equal(["CustomerUpdated", "PaymentUpdated"], ((JsonArray)patched["GeneralEvents"]!).Select(n => (string)n!));
        Assert.Empty((JsonArray)patched["WebSocketEvents"]!);

        var payment = Guid.NewGuid();
        await IngestAsync(setup.Server, setup.EnterpriseId,
            General("CustomerAdded", Customer), General("ResourceUpdated", Room), General("PaymentUpdated", payment));
        await Delivery.WaitUntilAsync(() => setup.General.Count == 1, "the General webhook arrived");
        Assert.Equal([$"CustomerUpdated:{Customer}", $"PaymentUpdated:{payment}"], EventsOf(setup.General[0]));

        // Nothing subscribed in a batch: no message at all.
        await IngestAsync(setup.Server, setup.EnterpriseId, General("ResourceUpdated", Room));
        await Delivery.QuietPeriodAsync(500);
        Assert.Single(setup.General);

        // null restores all; an absent field stays.
        var restored = await setup.Server.SendAsync(HttpMethod.Patch, $"/api/v1/integrations/{setup.IntegrationId}",
            new { GeneralEvents = (string[]?)null });
        Assert.Equal(GeneralDiscriminators.All, ((JsonArray)restored["GeneralEvents"]!).Select(n => (string)n!));
        Assert.Empty((JsonArray)restored["WebSocketEvents"]!);

        await setup.Server.SendAsync(HttpMethod.Patch, $"/api/v1/integrations/{setup.IntegrationId}",
            new { GeneralEvents = new[] { "CustomerRemoved" } }, expectedStatus: 400);
        await setup.Server.SendAsync(HttpMethod.Patch, $"/api/v1/integrations/{setup.IntegrationId}",
            new { Name = "x" }, expectedStatus: 400);
        await setup.Server.SendAsync(HttpMethod.Patch, $"/api/v1/integrations/{Guid.NewGuid()}",
            new { GeneralEvents = (string[]?)null }, expectedStatus: 404);
    }

    [Fact]
    public async Task An_event_behind_a_long_run_of_unsubscribed_ones_still_arrives()
    {
        await using var setup = await StartAsync();
        await setup.Server.SendAsync(HttpMethod.Patch, $"/api/v1/integrations/{setup.IntegrationId}", new { GeneralEvents = new[] { "CustomerUpdated" } });
        // 6,000 events the integration skips: more than one formation reads (8 pages of 512), so it takes several.
        for (var request = 0; request < 6; request++)
        {
            await IngestAsync(setup.Server, setup.EnterpriseId,
                Enumerable.Range(0, 1000).Select(_ => General("ResourceUpdated", Guid.NewGuid())).ToArray());
        }
        await IngestAsync(setup.Server, setup.EnterpriseId, General("CustomerUpdated", Customer));
        await Delivery.WaitUntilAsync(() => setup.General.Count == 1, "the subscribed event arrived");
        Assert.Equal([$"CustomerUpdated:{Customer}"], EventsOf(setup.General[0]));
    }

    [Fact]
    public async Task Only_enabled_integrations_of_the_enterprise_receive_and_nothing_from_while_they_were_not()
    {
        await using var setup = await StartAsync();
        var server = setup.Server;
        var disabled = await server.CreateIntegrationAsync(setup.EnterpriseId, setup.ClientId, isEnabled: false);
        var otherEnterprise = Guid.Parse((string)(await server.PostAsync("/api/v1/enterprises", new { Name = "Elsewhere" }))["Id"]!);
        var elsewhere = await server.CreateIntegrationAsync(otherEnterprise, setup.ClientId);

        var first = Guid.NewGuid();
        await IngestAsync(server, setup.EnterpriseId, General("PaymentUpdated", first));
        await Delivery.WaitUntilAsync(() => setup.General.Count == 1, "the enabled integration's message arrived");
        await Delivery.QuietPeriodAsync();
        Assert.Equal(setup.IntegrationId, Guid.Parse((string)BodyOf(Assert.Single(setup.General))["IntegrationId"]!));

        // While it is disabled, canceled or deleted, an integration gets nothing, then or later.
        await server.PostAsync($"/api/v1/integrations/{setup.IntegrationId}/disable");
        var duringDisabled = Guid.NewGuid();
        await IngestAsync(server, setup.EnterpriseId, General("PaymentUpdated", duringDisabled));
        await server.PostAsync($"/api/v1/integrations/{setup.IntegrationId}/enable");
        await server.PostAsync($"/api/v1/integrations/{disabled}/enable");
        var afterEnable = Guid.NewGuid();
        await IngestAsync(server, setup.EnterpriseId, General("PaymentUpdated", afterEnable));
        await Delivery.WaitUntilAsync(() => setup.General.Count == 3, "both enabled integrations got the new event");
        await Delivery.QuietPeriodAsync();
        Assert.Equal(3, setup.General.Count);
        Assert.All(setup.General.Skip(1), w => Assert.Equal([$"PaymentUpdated:{afterEnable}"], EventsOf(w)));
        Assert.DoesNotContain(setup.General, w => EventsOf(w).Contains($"PaymentUpdated:{duringDisabled}"));
        Assert.DoesNotContain(setup.General, w => Guid.Parse((string)BodyOf(w)["IntegrationId"]!) == elsewhere);

        await server.PostAsync($"/api/v1/integrations/{setup.IntegrationId}/cancel");
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/integrations/{disabled}");
        await IngestAsync(server, setup.EnterpriseId, General("PaymentUpdated", Guid.NewGuid()));
        await Delivery.QuietPeriodAsync(500);
        Assert.Equal(3, setup.General.Count);
    }

    [Fact]
    public async Task A_client_pinned_to_2021_01_gets_entities_with_the_latest_snapshot_and_the_rest_is_shown_as_skipped()
    {
        await using var setup = await StartAsync(version: "2021-01");
        JsonObject ReservationSnapshot(string state) => new()
        {
            ["Id"] = Reservation.ToString(), ["ServiceId"] = Guid.NewGuid().ToString(), ["GroupId"] = Guid.NewGuid().ToString(),
            ["Number"] = "52", ["State"] = state, ["Origin"] = "Connector", ["CreatedUtc"] = "2020-11-10T10:00:00Z",
            ["UpdatedUtc"] = "2020-11-10T10:05:00Z", ["CancelledUtc"] = null, ["StartUtc"] = "2020-11-12T14:00:00Z",
            ["EndUtc"] = "2020-11-13T10:00:00Z", ["ReleasedUtc"] = null, ["RequestedCategoryId"] = Guid.NewGuid().ToString(),
            ["AssignedResourceId"] = Room.ToString(), ["AssignedResourceLocked"] = false, ["BusinessSegmentId"] = null,
            ["CompanyId"] = null, ["TravelAgencyId"] = null, ["AvailabilityBlockId"] = null, ["RateId"] = Guid.NewGuid().ToString(),
            ["VoucherId"] = null, ["AdultCount"] = 2, ["ChildCount"] = 0, ["CustomerId"] = Customer.ToString(),
        };
        var room = new JsonObject
        {
            ["Id"] = Room.ToString(), ["IsActive"] = true, ["ParentResourceId"] = null, ["Name"] = "101", ["State"] = "Dirty",
            ["Descriptions"] = new JsonObject(), ["CreatedUtc"] = "2020-01-01T00:00:00Z", ["UpdatedUtc"] = "2020-11-10T10:00:00Z",
            ["Data"] = new JsonObject { ["Discriminator"] = "Space", ["Value"] = new JsonObject { ["FloorNumber"] = "1", ["LocationNotes"] = null } },
        };
        await IngestAsync(setup.Server, setup.EnterpriseId,
            General("ServiceOrderUpdated", Reservation, ReservationSnapshot("Confirmed")),
            General("ResourceUpdated", Room, room),
            General("CustomerAdded", Customer),
            General("ServiceOrderUpdated", Reservation, ReservationSnapshot("Started")));

        await Delivery.WaitUntilAsync(() => setup.General.Count == 1, "the General webhook arrived");
        var body = BodyOf(setup.General[0]);
        Assert.Equal([$"ServiceOrderUpdated:{Reservation}", $"ResourceUpdated:{Room}"], EventsOf(setup.General[0]));
        var orders = (JsonArray)body["Entities"]!["ServiceOrders"]!;
        Assert.Equal("Started", (string)Assert.Single(orders)!["State"]!); // the latest snapshot wins
        Assert.Equal("101", (string)Assert.Single((JsonArray)body["Entities"]!["Resources"]!)!["Name"]!);
        Assert.IsType<GeneralMessageReading>(WebhookReader.Read(setup.General[0].Body));

        var skipped = Assert.Single(await setup.Server.MessagesAsync(setup.IntegrationId), m => (string)m["Status"]! == "Skipped");
        Assert.Contains("2021-01", (string)skipped["StatusReason"]!, StringComparison.Ordinal);
        Assert.Contains("CustomerAdded", (string)skipped["StatusReason"]!, StringComparison.Ordinal);
        var detail = await setup.Server.MessageAsync((string)skipped["Id"]!);
        Assert.Equal(2, ((JsonArray)detail["Body"]!["Events"]!).Count); // CustomerAdded and its CustomerUpdated, kept to show
    }

    [Fact]
    public async Task A_failed_general_delivery_is_retried_and_a_410_disables_only_the_general_url()
    {
        var settings = new Dictionary<string, string?> { ["Delivery:Jitter"] = "0", ["Delivery:RetrySchedule:0"] = "00:00:00.100" };
        await using var setup = await StartAsync(settings);
        var answers = new Queue<int>([500, 200, 410]);
        setup.Sink.Respond = (context, received) =>
            Delivery.Answer(context, received.Path == "/general" && answers.TryDequeue(out var status) ? status : 200);
        await IngestAsync(setup.Server, setup.EnterpriseId, General("PaymentUpdated", Guid.NewGuid()));
        await Delivery.WaitUntilAsync(() => setup.General.Count == 2, "the retry arrived");
        Assert.Equal(setup.General[0].MessageId, setup.General[1].MessageId);
        await setup.Server.WaitForMessageAsync(setup.General[0].MessageId, "Delivered");

        await IngestAsync(setup.Server, setup.EnterpriseId, General("PaymentUpdated", Guid.NewGuid()));
        var client = await setup.Server.WaitForClientAsync(setup.ClientId, c => !(bool)c["GeneralWebhookEnabled"]!, "its General URL disabled");
        Assert.True((bool)client["IntegrationWebhookEnabled"]!);
        await setup.Server.WaitForMessageAsync(setup.General[2].MessageId, "Failed");

        // Events wait while the URL is disabled, and flow again once it is set.
        var waiting = Guid.NewGuid();
        await IngestAsync(setup.Server, setup.EnterpriseId, General("PaymentUpdated", waiting));
        await Delivery.QuietPeriodAsync();
        Assert.Equal(3, setup.General.Count);
        await setup.Server.SendAsync(HttpMethod.Patch, $"/api/v1/clients/{setup.ClientId}", new { GeneralWebhookUrl = setup.Sink.Url("/general") });
        await Delivery.WaitUntilAsync(() => setup.General.Count == 4, "the waiting event arrived");
        Assert.Equal([$"PaymentUpdated:{waiting}"], EventsOf(setup.General[3]));
    }

    [Fact]
    public async Task A_delivered_general_message_can_be_sent_again_with_the_same_body_and_id()
    {
        await using var setup = await StartAsync();
        await IngestAsync(setup.Server, setup.EnterpriseId, General("PaymentUpdated", Guid.NewGuid()), General("CustomerAdded", Customer));
        await Delivery.WaitUntilAsync(() => setup.General.Count == 1, "the General webhook arrived");
        var first = setup.General[0];
        await setup.Server.WaitForMessageAsync(first.MessageId, "Delivered");

        await setup.Server.PostAsync($"/api/v1/messages/{first.MessageId}/retry");
        await Delivery.WaitUntilAsync(() => setup.General.Count == 2, "the replay arrived");
        Assert.Equal(first.MessageId, setup.General[1].MessageId);
        Assert.Equal(first.Body, setup.General[1].Body);
        Assert.True(StandardWebhooks.IsSignedBy(setup.General[1], setup.Secret));
        var detail = await setup.Server.WaitForMessageAsync(first.MessageId, "Delivered");
        Assert.Equal(2, Delivery.AttemptsOf(detail).Length);
    }

    [Fact]
    public async Task Events_accepted_before_a_restart_are_delivered_after_it()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ce-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            Guid enterpriseId, integrationId;
            var id = Guid.NewGuid();
            await using var sink = await WebhookSink.StartAsync();
            // A long batch window holds the events in the log when the first server stops.
            await using (var first = await RunningServer.StartAsync(
                new Dictionary<string, string?> { ["Delivery:General:BatchWindow"] = "00:01:00" }, dataDirectory: directory))
            {
                enterpriseId = Guid.Parse((string)(await first.PostAsync("/api/v1/enterprises", new { Name = "Restart Hotel" }))["Id"]!);
                var client = await first.PostAsync("/api/v1/clients", new { Name = "App", GeneralWebhookUrl = sink.Url("/general") });
                integrationId = await first.CreateIntegrationAsync(enterpriseId, Guid.Parse((string)client["Id"]!));
                await IngestAsync(first, enterpriseId, General("PaymentUpdated", id));
            }
            Assert.Empty(sink.Received);
            await using var second = await RunningServer.StartAsync(dataDirectory: directory);
            await sink.WaitForAsync(1);
            var webhook = Assert.Single(sink.Received);
            Assert.Equal([$"PaymentUpdated:{id}"], EventsOf(webhook));
            Assert.Equal(integrationId, Guid.Parse((string)BodyOf(webhook)["IntegrationId"]!));
        }
        finally
        {
            if (Directory.Exists(directory)) // none on PostgreSQL
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("""{"Events":[]}""", "Events")]
    [InlineData("""{"Events":[{"Discriminator":"CustomerRemoved","Value":{"Id":"c2f1d888-232e-49eb-87ac-5f75363af13b"}}]}""", "Events[0].Discriminator")]
    [InlineData("""{"Events":[{"Discriminator":"CustomerAdded","Value":{"Id":"not-a-guid"}}]}""", "Events[0].Value.Id")]
    [InlineData("""{"Events":[{"Discriminator":"CustomerAdded"}]}""", "Events[0].Value")]
    [InlineData("""{"Events":[{"Discriminator":"CustomerAdded","Value":{"Id":"c2f1d888-232e-49eb-87ac-5f75363af13b"},"Extra":1}]}""", "Events[0].Extra")]
    [InlineData("""{"Events":[{"Discriminator":"CustomerAdded","Value":{"Id":"c2f1d888-232e-49eb-87ac-5f75363af13b"},"Entity":{}}]}""", "Events[0].Entity")]
    [InlineData("""{"Events":[{"Discriminator":"ResourceUpdated","Type":"Resource"}]}""", "Events[0]")]
    [InlineData("""{"Events":[{"Id":"c2f1d888-232e-49eb-87ac-5f75363af13b"}]}""", "Events[0]")]
    [InlineData("""{"Events":[7]}""", "Events[0]")]
    [InlineData("""{"Events":[{"Type":"Reservation","Id":"c2f1d888-232e-49eb-87ac-5f75363af13b","State":"Started"}]}""", "Events[0]")]
    [InlineData("""{"Events":[{"Type":"DeviceCommand","Id":"c2f1d888-232e-49eb-87ac-5f75363af13b","State":""}]}""", "Events[0].State")]
    [InlineData("""{"Events":[{"Type":"Spa","Id":"c2f1d888-232e-49eb-87ac-5f75363af13b"}]}""", "Events[0].Type")]
    [InlineData("""{"Events":[{"Type":"Resource","Id":"c2f1d888-232e-49eb-87ac-5f75363af13b","State":"Dirty","Floor":2}]}""", "Events[0].Floor")]
    [InlineData("""{"Events":[{"Type":"PriceUpdate","Id":"c2f1d888-232e-49eb-87ac-5f75363af13b","StartUtc":"soon"}]}""", "Events[0].StartUtc")]
    [InlineData("""{"Evnts":[]}""", "Evnts")]
    public async Task Bad_batches_are_refused_with_a_400_naming_the_field(string body, string field)
    {
        await using var setup = await StartAsync();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await setup.Server.Api.PostAsync($"/api/v1/enterprises/{setup.EnterpriseId}/events", content, Delivery.Ct);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(Delivery.Ct))!;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(problem["errors"]?[field]);
        await Delivery.QuietPeriodAsync(100);
        Assert.Empty(setup.General);
    }

    [Fact]
    public async Task A_batch_of_snapshots_above_the_usual_1_MiB_is_taken_and_one_above_4_MiB_is_refused_with_413()
    {
        await using var setup = await StartAsync(version: "2021-01");
        object Snapshot(string description) => new
        {
            Discriminator = "ResourceUpdated",
            Value = new { Id = Room },
            Entity = new
            {
                Id = Room, IsActive = true, ParentResourceId = (Guid?)null, Name = "101", State = "Dirty",
                Descriptions = new Dictionary<string, string> { ["en-US"] = description },
                CreatedUtc = "2020-01-01T00:00:00Z", UpdatedUtc = "2020-11-10T10:00:00Z",
                Data = new { Discriminator = "Space", Value = new { FloorNumber = "1", LocationNotes = (string?)null } },
            },
        };
        // 1,000 snapshots of about 2 KB: about 2 MiB, above Kestrel's 1 MiB default for other routes.
        var large = Enumerable.Range(0, 1000).Select(i => Snapshot($"{i:D4} " + new string('x', 1800))).ToArray();
        await setup.Server.PostAsync($"/api/v1/enterprises/{setup.EnterpriseId}/events", new { Events = large }, expectedStatus: 202);
        await Delivery.WaitUntilAsync(() => setup.General.Count == 1, "the General webhook arrived");
        var body = JsonNode.Parse(setup.General[0].Body)!;
        Assert.StartsWith("0999 ", (string)body["Entities"]!["Resources"]![0]!["Descriptions"]!["en-US"]!, StringComparison.Ordinal);

        // A Content-Length with Expect: 100-continue lets the server refuse before the 5 MiB are sent; a chunked
        // body would race the server's close and could end in a connection reset instead of the 413.
        var huge = Enumerable.Range(0, 1000).Select(_ => Snapshot(new string('y', 5000))).ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/enterprises/{setup.EnterpriseId}/events")
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new { Events = huge })),
        };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.ExpectContinue = true;
        using var refused = await setup.Server.Api.SendAsync(request, Delivery.Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        var problem = JsonNode.Parse(await refused.Content.ReadAsStringAsync(Delivery.Ct))!;
        Assert.Equal(413, (int)problem["status"]!);
    }

    [Fact]
    public async Task Batch_limits_unknown_enterprises_and_keys_are_enforced()
    {
        await using var setup = await StartAsync(new() { ["Security:ProducerApiKeys:0"] = "producer-key-0123456789" });
        var server = setup.Server;
        var tooMany = Enumerable.Range(0, 1001).Select(_ => General("PaymentUpdated", Guid.NewGuid())).ToArray();
        var refused = await server.PostAsync($"/api/v1/enterprises/{setup.EnterpriseId}/events", new { Events = tooMany }, expectedStatus: 400);
        Assert.Contains("1001", (string)refused["detail"]!, StringComparison.Ordinal);
        await server.PostAsync($"/api/v1/enterprises/{Guid.NewGuid()}/events",
            new { Events = new[] { General("PaymentUpdated", Guid.NewGuid()) } }, expectedStatus: 404);
        var full = Enumerable.Range(0, 1000).Select(_ => General("PaymentUpdated", Guid.NewGuid())).ToArray();
        await server.PostAsync($"/api/v1/enterprises/{setup.EnterpriseId}/events", new { Events = full }, expectedStatus: 202);

        using var producer = new HttpClient { BaseAddress = server.BaseUri };
        producer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "producer-key-0123456789");
        using (var accepted = await producer.PostAsJsonAsync($"/api/v1/enterprises/{setup.EnterpriseId}/events",
                   new { Events = new[] { General("PaymentUpdated", Guid.NewGuid()) } }, Delivery.Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }
        using (var forbidden = await producer.GetAsync("/api/v1/clients", Delivery.Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.DoesNotContain("producer-key", await forbidden.Content.ReadAsStringAsync(Delivery.Ct), StringComparison.Ordinal);
        }
        using var anonymous = new HttpClient { BaseAddress = server.BaseUri };
        using (var unauthorized = await anonymous.PostAsJsonAsync($"/api/v1/enterprises/{setup.EnterpriseId}/events",
                   new { Events = new[] { General("PaymentUpdated", Guid.NewGuid()) } }, Delivery.Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        }
        await Delivery.WaitUntilAsync(() => setup.General.Sum(w => EventsOf(w).Length) == 1001, "all 1,001 accepted events arrived");
        Assert.Equal(5, setup.General.Count); // 250 + 250 + 250 + 250 + 1
    }
}
