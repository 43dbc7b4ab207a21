using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Realtime;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>The WebSocket channel end to end: a real <see cref="ClientWebSocket"/> against the real server on loopback.</summary>
/// <summary>
/// Runs alone: whether a socket falls behind depends on kernel buffers filling, which other tests' load would only
/// slow down.
/// </summary>
[CollectionDefinition(nameof(SlowWebSocketConsumerTests), DisableParallelization = true)]
public sealed class SlowWebSocketConsumerTestsCollection;

[Collection(nameof(SlowWebSocketConsumerTests))]
public sealed class SlowWebSocketConsumerTests
{
    [Fact]
    public async Task A_consumer_that_falls_behind_is_closed_as_too_slow_and_server_memory_stays_bounded()
    {
        using var cts = WebSocketTests.Bound();
        const int bufferBytes = 64 * 1024;
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["WebSockets:SendBufferFrames"] = "4",
            ["WebSockets:SendBufferBytes"] = bufferBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Longer than the test: here the close must come from the full buffer, not from an abort.
            ["WebSockets:CloseTimeout"] = "00:01:00",
        });
        var integration = await WebSocketTests.CreateIntegrationAsync(server);
        using var slow = await WebSocketTests.ConnectAsync(server, integration, cts.Token);
        await WebSocketTests.WaitForConnectionsAsync(server, 1);
        var hub = WebSocketTests.Hub(server);

        // ~50 KB frames to a client that reads nothing: once the socket buffers are full, sends stall and the queue fills.
        var events = Enumerable.Range(0, 300).Select(_ => (WebSocketEvent)new PriceUpdateEvent(Guid.NewGuid(), RateId: Guid.NewGuid())).ToArray();
        var frame = WebSocketTests.Frame(events);
        var publishing = Stopwatch.StartNew();
        var published = 0;
        for (; published < 2000 && hub.SlowConsumersClosed == 0; published++)
        {
            hub.Publish(integration.EnterpriseId, events);
            Assert.True(hub.BufferedBytes <= bufferBytes + frame.Length, $"{hub.BufferedBytes} bytes are buffered.");
        }
        Assert.Equal(1, hub.SlowConsumersClosed);
        // Publish never waited on the socket.
        Assert.True(publishing.Elapsed < TimeSpan.FromSeconds(10), $"Publishing took {publishing.Elapsed}.");

        // Now read at once: what was already sent arrives, then the close with its reason; the rest was dropped.
        var received = 0;
        while (await WebSocketTests.ReceiveFrameAsync(slow, cts.Token) is { } arrived)
        {
            Assert.Equal(frame, arrived);
            received++;
        }
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, slow.CloseStatus);
        Assert.Equal("Too slow: the send buffer is full.", slow.CloseStatusDescription);
        Assert.InRange(received, 0, published - 1);
        await slow.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        await WebSocketTests.WaitForConnectionsAsync(server, 0);
        Assert.Equal(0, hub.BufferedBytes);
    }
}
