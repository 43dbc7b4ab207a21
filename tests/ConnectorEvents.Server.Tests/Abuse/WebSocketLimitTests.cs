using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Realtime;
using ConnectorEvents.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace ConnectorEvents.Server.Tests.Abuse;

/// <summary>
/// The bounds on WebSockets: sockets per integration and in all, refused before the upgrade; frames shared by the sockets
/// they go to and counted once; the frames held for all sockets bounded, the sockets furthest behind closed past it.
/// Runs with the slow-consumer tests: whether a socket falls behind depends on kernel buffers filling.
/// </summary>
[Collection(nameof(SlowWebSocketConsumerTests))]
public sealed class WebSocketLimitTests
{
    [Fact]
    public async Task Sockets_past_the_integration_and_server_limits_are_refused_before_the_upgrade_with_429_and_503_and_Retry_After()
    {
        using var cts = WebSocketTests.Bound();
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["WebSockets:MaxConnectionsPerIntegration"] = "2",
            ["WebSockets:MaxConnections"] = "3",
        });
        var first = await WebSocketTests.CreateIntegrationAsync(server, "First");
        var second = await WebSocketTests.CreateIntegrationAsync(server, "Second");
        using var a1 = await WebSocketTests.ConnectAsync(server, first, cts.Token);
        using var a2 = await WebSocketTests.ConnectAsync(server, first, cts.Token);

        using (var refused = await StalledWebSocket.ConnectAsync(server.BaseUri, first.Cookie, cts.Token))
        {
            AssertRefused(refused, 429, "WebSockets:MaxConnectionsPerIntegration", first);
        }
        using var b1 = await WebSocketTests.ConnectAsync(server, second, cts.Token);
        using (var refused = await StalledWebSocket.ConnectAsync(server.BaseUri, second.Cookie, cts.Token))
        {
            AssertRefused(refused, 503, "WebSockets:MaxConnections", second);
        }
        await WebSocketTests.WaitForConnectionsAsync(server, 3);

        // A place given back is taken again.
        await a1.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        await WebSocketTests.WaitForConnectionsAsync(server, 2);
        // Its place is given back just after the hub lets the socket go: try until admitted.
        ClientWebSocket? b2 = null;
        await Delivery.WaitUntilAsync(() =>
        {
            try
            {
                b2 = WebSocketTests.ConnectAsync(server, second, cts.Token).GetAwaiter().GetResult();
                return true;
            }
            catch (WebSocketException)
            {
                return false;
            }
        }, "a socket of the second integration connects");
        using var _ = b2;
        await WebSocketTests.WaitForConnectionsAsync(server, 3);
    }

    [Fact]
    public async Task A_frame_for_many_sockets_is_held_once_and_counted_once()
    {
        using var cts = WebSocketTests.Bound();
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            // Large enough that no socket closes here: this is about what is held.
            ["WebSockets:SendBufferBytes"] = (256 * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
            ["WebSockets:SendBufferFrames"] = "100000",
            ["WebSockets:MaxBufferedBytes"] = (1024L * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
        });
        var integration = await WebSocketTests.CreateIntegrationAsync(server);
        var stalled = new List<StalledWebSocket>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                stalled.Add(await StalledWebSocket.ConnectAsync(server.BaseUri, integration.Cookie, cts.Token));
            }
            await WebSocketTests.WaitForConnectionsAsync(server, 4);
            var hub = WebSocketTests.Hub(server);
            var events = PriceUpdates(600);
            var frame = WebSocketTests.Frame(events);
            const int publishes = 40;
            for (var i = 0; i < publishes; i++)
            {
                hub.Publish(integration.EnterpriseId, events);
            }
            // The sockets stalled once their transport buffers filled; what is left waits in their queues, shared.
            var perSocket = hub.BacklogBytes;
            Assert.True(perSocket > 2L * publishes * frame.Length, $"the sockets are behind by {perSocket} bytes in all");
            Assert.InRange(hub.BufferedBytes, 1, (long)publishes * frame.Length);
        }
        finally
        {
            stalled.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Past_the_bound_on_frames_held_for_all_sockets_the_socket_furthest_behind_is_closed_as_too_slow()
    {
        using var cts = WebSocketTests.Bound();
        // Room for the reading socket to lag on a loaded machine (40 frames), so only the one that reads nothing passes it.
        const long bound = 4 * 1024 * 1024;
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            // Per socket, far more than the total: only the total bound can close a socket here.
            ["WebSockets:SendBufferBytes"] = (256 * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
            ["WebSockets:SendBufferFrames"] = "100000",
            ["WebSockets:MaxBufferedBytes"] = bound.ToString(CultureInfo.InvariantCulture),
            ["WebSockets:CloseTimeout"] = "00:01:00",
        });
        var integration = await WebSocketTests.CreateIntegrationAsync(server);
        using var slow = await WebSocketTests.ConnectAsync(server, integration, cts.Token);
        using var reading = await WebSocketTests.ConnectAsync(server, integration, cts.Token);
        await WebSocketTests.WaitForConnectionsAsync(server, 2);
        var hub = WebSocketTests.Hub(server);
        var events = PriceUpdates(600);
        var frame = WebSocketTests.Frame(events);
        var received = 0;
        var receiving = Task.Run(async () =>
        {
            while (await WebSocketTests.ReceiveFrameAsync(reading, cts.Token) is { } arrived)
            {
                Assert.Equal(frame, arrived);
                Interlocked.Increment(ref received);
            }
        }, cts.Token);

        var published = 0;
        for (; published < 500 && hub.SlowConsumersClosed == 0; published++)
        {
            hub.Publish(integration.EnterpriseId, events);
            Assert.True(hub.BufferedBytes <= bound, $"{hub.BufferedBytes} bytes are held after publish {published}.");
        }
        Assert.Equal(1, hub.SlowConsumersClosed);
        for (var more = 0; more < 5; more++, published++)
        {
            hub.Publish(integration.EnterpriseId, events);
        }
        // The reader got every frame and stays; the slow one, read now, ends with the too-slow close.
        await Delivery.WaitUntilAsync(() => Volatile.Read(ref received) == published, $"the reading socket got all {published} frames");
        Assert.Equal(WebSocketState.Open, reading.State);
        while (await WebSocketTests.ReceiveFrameAsync(slow, cts.Token) is not null)
        {
        }
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, slow.CloseStatus);
        Assert.Equal(WebSocketHub.TooSlowReason, slow.CloseStatusDescription);
        await reading.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        await receiving;
        await slow.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        await WebSocketTests.WaitForConnectionsAsync(server, 0);
        Assert.Equal(0, hub.BufferedBytes);
    }

    [Fact]
    public async Task Kestrel_connection_limits_are_read_from_the_Kestrel_Limits_section()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MaxConcurrentConnections"] = "5000",
            ["Kestrel:Limits:MaxConcurrentUpgradedConnections"] = "3000",
        });
        var limits = server.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.Equal(5000, limits.MaxConcurrentConnections);
        Assert.Equal(3000, limits.MaxConcurrentUpgradedConnections);
        // Set in code for every route but ingest; the section cannot raise it past what the routes expect.
        Assert.Equal(1024 * 1024, limits.MaxRequestBodySize);
    }

    private static void AssertRefused(StalledWebSocket refused, int status, string setting, WebSocketTests.TestIntegration integration)
    {
        Assert.Equal(status, refused.Status);
        Assert.Equal("5", refused.Header("Retry-After"));
        Assert.StartsWith("application/problem+json", refused.Header("Content-Type"), StringComparison.Ordinal);
        var problem = (JsonObject)JsonNode.Parse(refused.Body)!;
        Assert.Equal(status, (int)problem["status"]!);
        Assert.Contains(setting, (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.DoesNotContain(integration.AccessToken, refused.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(integration.ClientToken, refused.Body, StringComparison.Ordinal);
    }

    private static WebSocketEvent[] PriceUpdates(int count) =>
        Enumerable.Range(0, count).Select(_ => (WebSocketEvent)new PriceUpdateEvent(Guid.NewGuid(), RateId: Guid.NewGuid())).ToArray();
}
