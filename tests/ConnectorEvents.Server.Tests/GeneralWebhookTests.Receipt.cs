using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>The ingest receipt: whom the General events reach, and in how many messages.</summary>
public sealed partial class GeneralWebhookTests
{
    [Fact]
    public async Task The_receipt_counts_the_integrations_and_messages_the_events_reach_and_they_are_what_arrives()
    {
        await using var setup = await StartAsync(new() { ["Delivery:General:MaxEventsPerMessage"] = "10" });
        var server = setup.Server;
        async Task<Guid> Integration(object client, bool isEnabled = true)
        {
            var clientId = (string)(await server.PostAsync("/api/v1/clients", client))["Id"]!;
            return Guid.Parse((string)(await server.PostAsync("/api/v1/integrations",
                new { EnterpriseId = setup.EnterpriseId, ClientId = clientId, IsEnabled = isEnabled }))["Id"]!);
        }
        var customersOnly = await Integration(new { Name = "Customers", GeneralWebhookUrl = setup.Sink.Url("/general") });
        await server.SendAsync(HttpMethod.Patch, $"/api/v1/integrations/{customersOnly}", new { GeneralEvents = new[] { "CustomerAdded" } }, 200);
        await Integration(new { Name = "Disabled", GeneralWebhookUrl = setup.Sink.Url("/general") }, isEnabled: false);
        await Integration(new { Name = "No General URL", IntegrationWebhookUrl = setup.Sink.Url("/integration") });
        await Integration(new { Name = "Pinned before General", GeneralWebhookUrl = setup.Sink.Url("/general"), ContractVersion = "2019-12" });

        // 23 distinct updates, one of them twice, and one add: the first integration takes 24 (3 messages of 10), the second 1.
        var updates = Enumerable.Range(0, 23).Select(_ => General("CustomerUpdated", Guid.NewGuid())).ToList();
        var receipt = await IngestAsync(server, setup.EnterpriseId, [.. updates, updates[5], General("CustomerAdded", Guid.NewGuid())]);
        Assert.Equal(25, (int)receipt["GeneralEventCount"]!);
        Assert.Equal(2, (int)receipt["IntegrationCount"]!);
        Assert.Equal(4, (int)receipt["MessageCount"]!);

        await Delivery.WaitUntilAsync(() => setup.General.Count >= 4, "the General webhooks arrived");
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.Equal(4, setup.General.Count);

        // Nobody to reach: the receipt says so.
        var nobody = (string)(await server.PostAsync("/api/v1/enterprises", new { Name = "Empty Hotel" }))["Id"]!;
        var empty = await IngestAsync(server, Guid.Parse(nobody), General("CustomerAdded", Guid.NewGuid()));
        Assert.Equal(0, (int)empty["IntegrationCount"]!);
        Assert.Equal(0, (int)empty["MessageCount"]!);
    }
}
