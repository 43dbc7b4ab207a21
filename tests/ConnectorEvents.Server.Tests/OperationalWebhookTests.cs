using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>
/// <c>Operations:WebhookUrl</c>: an endpoint disabled, a message given up and an endpoint set again reach the operator's
/// receiver, signed with <c>Operations:SigningSecret</c>, through the outbox like any webhook.
/// </summary>
public sealed class OperationalWebhookTests
{
    private const string OperationsSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    [Fact]
    public async Task EndpointDisabled_MessageFailed_and_EndpointRecovered_reach_the_operations_url_signed_with_its_secret()
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, context.Request.Path.StartsWithSegments("/gone") ? 410 : 200);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Operations:WebhookUrl"] = sink.Url("/ops?Token=ops-token"),
            ["Operations:SigningSecret"] = OperationsSecret,
        });
        var partnerUrl = sink.Url("/gone?Token=partner-token");
        var (enterpriseId, clientId, partnerSecret) = await server.SeedAsync(partnerUrl);
        var integration = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var failedId = await server.SingleMessageIdAsync(integration);
        await server.WaitForMessageAsync(failedId, "Failed");
        await Delivery.WaitUntilAsync(() => Operational(sink).Length == 2, "two operational webhooks");
        await server.SendAsync(HttpMethod.Patch, $"/api/v1/clients/{clientId}", new { IntegrationWebhookUrl = sink.Url("/ok?Token=partner-token") });
        await Delivery.WaitUntilAsync(() => Operational(sink).Length == 3, "the third operational webhook");

        var events = Operational(sink);
        Assert.All(events, e =>
        {
            Assert.True(StandardWebhooks.IsSignedBy(e, OperationsSecret));
            Assert.False(StandardWebhooks.IsSignedBy(e, partnerSecret));
            Assert.DoesNotContain("partner-token", e.BodyText, StringComparison.Ordinal);
        });
        var byType = events.ToDictionary(e => (string)JsonNode.Parse(e.BodyText)!["Type"]!, e => JsonNode.Parse(e.BodyText)!["Data"]!);
        Assert.Equal(["EndpointDisabled", "EndpointRecovered", "MessageFailed"], byType.Keys.Order());
        Assert.All(byType.Values, d =>
        {
            Assert.Equal(clientId.ToString(), (string)d["ClientId"]!);
            Assert.Equal("Integration", (string)d["Channel"]!);
        });
        Assert.Equal(sink.Url("/gone") + "?…", (string)byType["EndpointDisabled"]["Url"]!);
        Assert.Contains("410", (string)byType["EndpointDisabled"]["Reason"]!, StringComparison.Ordinal);
        Assert.Equal(failedId, (string)byType["MessageFailed"]["MessageId"]!);
        Assert.Equal(integration.ToString(), (string)byType["MessageFailed"]["IntegrationId"]!);
        Assert.Equal(1, (int)byType["MessageFailed"]["Attempts"]!);
        Assert.Equal(sink.Url("/ok") + "?…", (string)byType["EndpointRecovered"]["Url"]!);

        // Kept and listed like any message, under the server's own client (the last outcome commits just after its answer).
        const string operations = "/api/v1/messages?clientId=0ce0e000-0000-4000-8000-0000000000c0";
        await Delivery.WaitUntilAsync(() => server.GetAsync(operations).GetAwaiter().GetResult()["Messages"]!.AsArray()
            .Count(m => (string)m!["Status"]! == "Delivered") == 3, "three operational messages listed as Delivered");
        Assert.Equal(3, (await server.GetAsync(operations))["Messages"]!.AsArray().Count);
    }

    [Fact]
    public async Task An_operations_url_without_its_signing_secret_stops_the_start_naming_the_setting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Operations:WebhookUrl"] = "https://ops.example.com/hook",
            ["Operations:SigningSecret"] = "not-a-secret",
        }));
        Assert.Contains("Operations:SigningSecret", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-secret", error.Message, StringComparison.Ordinal);
    }

    private static ReceivedWebhook[] Operational(WebhookSink sink) =>
        sink.Received.Where(r => r.Path.StartsWith("/ops", StringComparison.Ordinal)).ToArray();
}
