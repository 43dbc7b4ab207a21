using System.Net.WebSockets;
using System.Text.Json.Nodes;
using ConnectorEvents.Contracts;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>One producer batch, both channels: General Webhooks to the receiver and frames to a connected socket.</summary>
public sealed class ProducerEndToEndTests
{
    private static async Task<byte[]?> ReceiveAsync(ClientWebSocket socket)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Delivery.Ct);
        bound.CancelAfter(Delivery.WaitLimit);
        using var message = new MemoryStream();
        var chunk = new byte[16 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(chunk, bound.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            message.Write(chunk, 0, result.Count);
            if (result.EndOfMessage)
            {
                return message.ToArray();
            }
        }
    }

    [Fact]
    public async Task A_mixed_batch_arrives_as_a_general_webhook_and_as_a_websocket_frame_each_filtered_by_subscription()
    {
        await using var setup = await GeneralWebhookTests.StartAsync();
        var server = setup.Server;
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Cookie", $"ClientToken={setup.ClientToken}; AccessToken={setup.AccessToken}");
        await socket.ConnectAsync(new UriBuilder(server.BaseUri) { Scheme = "ws", Path = "/ws/connector" }.Uri, Delivery.Ct);

        var customer = Guid.NewGuid();
        var reservation = Guid.NewGuid();
        WebSocketEvent[] realtime =
        [
            new DeviceCommandEvent(Guid.NewGuid(), "Pending"),
            new ReservationEvent(reservation, "Processed", new DateTimeOffset(2016, 2, 20, 13, 0, 0, TimeSpan.Zero),
                new DateTimeOffset(2016, 2, 22, 11, 0, 0, TimeSpan.Zero)),
            new ResourceEvent(Guid.NewGuid(), "Dirty"),
            new PriceUpdateEvent(Guid.NewGuid(), new DateTimeOffset(2019, 9, 7, 22, 0, 0, TimeSpan.Zero),
                new DateTimeOffset(2019, 9, 7, 22, 0, 0, TimeSpan.Zero), Guid.NewGuid()),
        ];
        // The batch as a producer writes it: each WebSocket event exactly as the frame carries it.
        var events = new JsonArray
        {
            JsonNode.Parse($$$"""{"Discriminator":"CustomerAdded","Value":{"Id":"{{{customer}}}"}}"""),
            JsonNode.Parse($$$"""{"Discriminator":"ServiceOrderUpdated","Value":{"Id":"{{{reservation}}}"}}"""),
        };
        foreach (var node in JsonNode.Parse(WebSocketFrameWriter.Write(new WebSocketFrame(realtime)))!["Events"]!.AsArray())
        {
            events.Add(node!.DeepClone());
        }
        var receipt = await GeneralWebhookTests.IngestAsync(server, setup.EnterpriseId, [.. events.Select(e => (object)e!)]);
        Assert.Equal(2, (int)receipt["GeneralEventCount"]!);
        Assert.Equal(4, (int)receipt["WebSocketEventCount"]!);

        var frame = await ReceiveAsync(socket);
        Assert.Equal(WebSocketFrameWriter.Write(new WebSocketFrame(realtime)), frame);
        await Delivery.WaitUntilAsync(() => setup.General.Count == 1, "the General webhook arrived");
        var body = JsonNode.Parse(setup.General[0].Body)!;
        Assert.Equal(["CustomerAdded", "CustomerUpdated", "ServiceOrderUpdated"],
            body["Events"]!.AsArray().Select(e => (string)e!["Discriminator"]!));

        // Subscriptions filter each channel on its own.
        await server.SendAsync(HttpMethod.Patch, $"/api/v1/integrations/{setup.IntegrationId}",
            new { WebSocketEvents = new[] { "Reservation" }, GeneralEvents = new[] { "ServiceOrderUpdated" } });
        await GeneralWebhookTests.IngestAsync(server, setup.EnterpriseId, [.. events.Select(e => (object)e!.DeepClone())]);
        var filtered = await ReceiveAsync(socket);
        Assert.Equal(WebSocketFrameWriter.Write(new WebSocketFrame([realtime[1]])), filtered);
        await Delivery.WaitUntilAsync(() => setup.General.Count == 2, "the second General webhook arrived");
        Assert.Equal(["ServiceOrderUpdated"], JsonNode.Parse(setup.General[1].Body)!["Events"]!.AsArray().Select(e => (string)e!["Discriminator"]!));

        // Disabling the integration stops both: the socket is closed with a reason, and no more webhooks come.
        await server.PostAsync($"/api/v1/integrations/{setup.IntegrationId}/disable");
        Assert.Null(await ReceiveAsync(socket));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
        Assert.Contains("Disabled", socket.CloseStatusDescription, StringComparison.Ordinal);
        await GeneralWebhookTests.IngestAsync(server, setup.EnterpriseId, [.. events.Select(e => (object)e!.DeepClone())]);
        await Delivery.QuietPeriodAsync(500);
        Assert.Equal(2, setup.General.Count);
    }
}
