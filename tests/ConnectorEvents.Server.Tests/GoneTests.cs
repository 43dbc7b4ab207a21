using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>410 Gone: the message fails, the client's URL is disabled, later messages park until the URL is set again.</summary>
public sealed class GoneTests
{
    [Fact]
    public async Task A_410_fails_the_message_disables_the_url_and_parks_later_messages_until_it_is_set_again()
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) => Delivery.Answer(context, sink.Count == 0 ? 410 : 200);
        await using var server = await RunningServer.StartAsync();
        var url = sink.Url("/hook?Token=gone-test");
        var (enterpriseId, clientId, _) = await server.SeedAsync(url);
        var first = await server.CreateIntegrationAsync(enterpriseId, clientId);
        var goneId = await server.SingleMessageIdAsync(first);

        var detail = await server.WaitForMessageAsync(goneId, "Failed");
        Assert.Contains("410", (string)detail["Message"]!["StatusReason"]!, StringComparison.Ordinal);
        Assert.Equal(410, (int)Assert.Single(Delivery.AttemptsOf(detail))["StatusCode"]!);
        var client = await server.WaitForClientAsync(clientId, c => !(bool)c["IntegrationWebhookEnabled"]!, "its URL disabled");
        Assert.NotNull(client["IntegrationWebhookDisabledUtc"]);
        Assert.Contains("410", (string)client["IntegrationWebhookDisabledReason"]!, StringComparison.Ordinal);
        Assert.Equal(url, (string)client["IntegrationWebhookUrl"]!);

        // Later messages, of this integration and of another one of the same client, are kept but not sent.
        await server.PostAsync($"/api/v1/integrations/{first}/disable");
        await server.PostAsync($"/api/v1/integrations/{first}/enable");
        var second = await server.CreateIntegrationAsync(enterpriseId, clientId);
        await Delivery.QuietPeriodAsync(500);
        Assert.Equal(1, sink.Count);
        var parked = (await server.MessagesAsync(first)).Skip(1).Concat(await server.MessagesAsync(second)).ToArray();
        Assert.Equal(3, parked.Length);
        Assert.All(parked, m =>
        {
            Assert.Equal("Pending", (string)m["Status"]!);
            Assert.Equal(0, (int)m["AttemptCount"]!);
        });

        // Setting the same URL again re-enables it; the parked messages go out, in order per integration.
        var patched = await server.SendAsync(HttpMethod.Patch, $"/api/v1/clients/{clientId}", new { IntegrationWebhookUrl = url });
        Assert.True((bool)patched["IntegrationWebhookEnabled"]!);
        Assert.Null(patched["IntegrationWebhookDisabledUtc"]);
        await sink.WaitForAsync(4, Delivery.WaitLimit);
        foreach (var message in parked)
        {
            await server.WaitForMessageAsync((string)message["Id"]!, "Delivered");
        }
        var firstIds = (await server.MessageIdsAsync(first)).Skip(1).ToArray();
        Assert.Equal(firstIds, sink.Received.Skip(1).Select(r => r.MessageId).Where(firstIds.Contains));
        Assert.Equal(["IntegrationDisabled", "IntegrationEnabled"],
            sink.Received.Skip(1).Where(r => firstIds.Contains(r.MessageId)).Select(Delivery.ActionOf));
        Assert.Equal("Failed", (string)(await server.MessageAsync(goneId))["Message"]!["Status"]!);
        Assert.Equal(4, sink.Count); // the 410 message itself is not sent again
    }
}
