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
public sealed class WebSocketTests
{
    private static readonly TimeSpan TestLimit = TimeSpan.FromSeconds(20);

    // The message body example of events-websockets.md, as documented.
    private const string DocumentedFrame = """
        {
            "Events": [
                { "Type": "DeviceCommand", "Id": "2391a3df-1c61-4131-b6f8-c85b4234adcb", "State": "Pending" },
                { "Type": "Reservation", "Id": "bfee2c44-1f84-4326-a862-5289598f6e2d", "State": "Processed",
                  "StartUtc": "2016-02-20T13:00:00Z", "EndUtc": "2016-02-22T11:00:00Z" },
                { "Type": "Resource", "Id": "5ee074b1-6c86-48e8-915f-c7aa4702086f", "State": "Dirty" },
                { "Type": "PriceUpdate", "Id": "bd75f159-f22a-4685-abdb-aac0008e2af3", "StartUtc": "2019-09-07T22:00:00Z",
                  "EndUtc": "2019-09-07T22:00:00Z", "RateId": "9c6c0556-42bb-409a-86ca-6ca430773b99", "ResourceCategoryId": null }
            ]
        }
        """;

    private static readonly DeviceCommandEvent Command = new(Guid.Parse("2391a3df-1c61-4131-b6f8-c85b4234adcb"), "Pending");
    private static readonly ReservationEvent Reservation = new(Guid.Parse("bfee2c44-1f84-4326-a862-5289598f6e2d"), "Processed",
        new DateTimeOffset(2016, 2, 20, 13, 0, 0, TimeSpan.Zero), new DateTimeOffset(2016, 2, 22, 11, 0, 0, TimeSpan.Zero));
    private static readonly ResourceEvent Resource = new(Guid.Parse("5ee074b1-6c86-48e8-915f-c7aa4702086f"), "Dirty");
    private static readonly PriceUpdateEvent Price = new(Guid.Parse("bd75f159-f22a-4685-abdb-aac0008e2af3"),
        new DateTimeOffset(2019, 9, 7, 22, 0, 0, TimeSpan.Zero), new DateTimeOffset(2019, 9, 7, 22, 0, 0, TimeSpan.Zero),
        Guid.Parse("9c6c0556-42bb-409a-86ca-6ca430773b99"), null);
    private static readonly WebSocketEvent[] AllFour = [Command, Reservation, Resource, Price];

    [Fact]
    public async Task Missing_or_wrong_tokens_are_refused_with_401_problem_details_before_the_upgrade()
    {
        using var cts = Bound();
        await using var server = await RunningServer.StartAsync();
        var mine = await CreateIntegrationAsync(server, "Mine");
        var other = await CreateIntegrationAsync(server, "Other");
        string?[] cookies =
        [
            null,
            $"ClientToken={mine.ClientToken}",
            $"AccessToken={mine.AccessToken}",
            $"ClientToken=0123456789ABCDEF0123456789ABCDEF-00112233445566778899AABBCCDDEEFF; AccessToken={mine.AccessToken}",
            $"ClientToken={mine.ClientToken}; AccessToken=0123456789ABCDEF0123456789ABCDEF-00112233445566778899AABBCCDDEEFF",
            // Both tokens exist, but the integration belongs to another client.
            $"ClientToken={mine.ClientToken}; AccessToken={other.AccessToken}",
        ];
        foreach (var cookie in cookies)
        {
            using var socket = NewSocket(cookie);
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(WebSocketUri(server), cts.Token));
            Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);

            var (status, problem, text) = await GetProblemAsync(server, cookie, upgrade: true, cts.Token);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal(401, (int)problem["status"]!);
            Assert.False(string.IsNullOrWhiteSpace((string?)problem["detail"]));
            Assert.DoesNotContain(mine.ClientToken, text, StringComparison.Ordinal);
            Assert.DoesNotContain(mine.AccessToken, text, StringComparison.Ordinal);
            Assert.DoesNotContain(other.AccessToken, text, StringComparison.Ordinal);
        }
        Assert.Equal(0, Hub(server).ConnectionCount);
    }

    [Fact]
    public async Task A_disabled_integration_is_refused_with_403_and_connects_once_enabled()
    {
        using var cts = Bound();
        await using var server = await RunningServer.StartAsync();
        var integration = await CreateIntegrationAsync(server, isEnabled: false);

        using (var refused = NewSocket(integration.Cookie))
        {
            await Assert.ThrowsAsync<WebSocketException>(() => refused.ConnectAsync(WebSocketUri(server), cts.Token));
            Assert.Equal(HttpStatusCode.Forbidden, refused.HttpStatusCode);
        }
        var (status, problem, text) = await GetProblemAsync(server, integration.Cookie, upgrade: true, cts.Token);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("Disabled", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.DoesNotContain(integration.AccessToken, text, StringComparison.Ordinal);

        await server.PostAsync($"/api/v1/integrations/{integration.Id}/enable");
        using var socket = await ConnectAsync(server, integration, cts.Token);
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task A_plain_request_with_valid_tokens_is_told_that_a_websocket_upgrade_is_required()
    {
        using var cts = Bound();
        await using var server = await RunningServer.StartAsync();
        var integration = await CreateIntegrationAsync(server);

        var (status, problem, text) = await GetProblemAsync(server, integration.Cookie, upgrade: false, cts.Token);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("WebSocket upgrade is required", (string)problem["title"]!, StringComparison.Ordinal);
        Assert.DoesNotContain(integration.AccessToken, text, StringComparison.Ordinal);
        Assert.DoesNotContain(integration.ClientToken, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_publish_is_one_text_frame_with_exactly_the_documented_json()
    {
        using var cts = Bound();
        await using var server = await RunningServer.StartAsync();
        var integration = await CreateIntegrationAsync(server);
        using var socket = await ConnectAsync(server, integration, cts.Token);
        await WaitForConnectionsAsync(server, 1);

        Hub(server).Publish(integration.EnterpriseId, AllFour);
        Hub(server).Publish(integration.EnterpriseId, [Resource]);

        var first = await ReceiveFrameAsync(socket, cts.Token);
        Assert.NotNull(first);
        Assert.Equal(WebSocketFrameWriter.Write(new WebSocketFrame(AllFour)), first);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(DocumentedFrame), JsonNode.Parse(first)), Encoding.UTF8.GetString(first));
        var second = await ReceiveFrameAsync(socket, cts.Token);
        Assert.Equal("""{"Events":[{"Type":"Resource","Id":"5ee074b1-6c86-48e8-915f-c7aa4702086f","State":"Dirty"}]}""",
            Encoding.UTF8.GetString(second!));
    }

    [Fact]
    public async Task Only_the_integrations_of_the_publishing_enterprise_get_its_events()
    {
        using var cts = Bound();
        await using var server = await RunningServer.StartAsync();
        var a = await CreateIntegrationAsync(server, "A");
        var b = await CreateIntegrationAsync(server, "B");
        // A second integration of enterprise A, from another client.
        var client = await server.PostAsync("/api/v1/clients", new { Name = "A2 App" });
        var a2Created = await server.PostAsync("/api/v1/integrations", new { a.EnterpriseId, ClientId = (string)client["Id"]! });
        var a2 = new TestIntegration(Guid.Parse((string)a2Created["Id"]!), a.EnterpriseId, (string)client["ClientToken"]!,
            (string)a2Created["AccessToken"]!);
        using var socketA = await ConnectAsync(server, a, cts.Token);
        using var socketA2 = await ConnectAsync(server, a2, cts.Token);
        using var socketB = await ConnectAsync(server, b, cts.Token);
        await WaitForConnectionsAsync(server, 3);

        Hub(server).Publish(a.EnterpriseId, [Command]);
        Hub(server).Publish(b.EnterpriseId, [Resource]);
        Hub(server).Publish(Guid.NewGuid(), [Price]);
        Hub(server).Publish(a.EnterpriseId, [Reservation]);

        // Frames keep their order per socket, so the next frame shows whether another enterprise's slipped in.
        Assert.Equal(Frame(Command), await ReceiveFrameAsync(socketA, cts.Token));
        Assert.Equal(Frame(Reservation), await ReceiveFrameAsync(socketA, cts.Token));
        Assert.Equal(Frame(Command), await ReceiveFrameAsync(socketA2, cts.Token));
        Assert.Equal(Frame(Reservation), await ReceiveFrameAsync(socketA2, cts.Token));
        Assert.Equal(Frame(Resource), await ReceiveFrameAsync(socketB, cts.Token));
        Hub(server).Publish(b.EnterpriseId, [Price]);
        Assert.Equal(Frame(Price), await ReceiveFrameAsync(socketB, cts.Token));
    }

    [Fact]
    public async Task The_subscription_filters_frames_at_connect_and_when_it_changes_while_connected()
    {
        using var cts = Bound();
        await using var server = await RunningServer.StartAsync();
        var integrations = server.Services.GetRequiredService<IntegrationService>();
        var integration = await CreateIntegrationAsync(server);
        await integrations.SubscribeAsync(integration.Id, null,
            EventSubscription.Only([WebSocketEventTypes.Reservation, WebSocketEventTypes.Resource]));
        using var socket = await ConnectAsync(server, integration, cts.Token);
        await WaitForConnectionsAsync(server, 1);

        Hub(server).Publish(integration.EnterpriseId, [Command, Price]);
        Hub(server).Publish(integration.EnterpriseId, AllFour);
        Assert.Equal(Frame(Reservation, Resource), await ReceiveFrameAsync(socket, cts.Token));

        await integrations.SubscribeAsync(integration.Id, null, EventSubscription.Only([]));
        Hub(server).Publish(integration.EnterpriseId, AllFour);
        await integrations.SubscribeAsync(integration.Id, null, EventSubscription.Only([WebSocketEventTypes.PriceUpdate]));
        Hub(server).Publish(integration.EnterpriseId, AllFour);
        Assert.Equal(Frame(Price), await ReceiveFrameAsync(socket, cts.Token));

        await integrations.SubscribeAsync(integration.Id, null, EventSubscription.All);
        Hub(server).Publish(integration.EnterpriseId, [Command, Resource]);
        Assert.Equal(Frame(Command, Resource), await ReceiveFrameAsync(socket, cts.Token));
    }

    [Theory]
    [InlineData("disable", "Disabled")]
    [InlineData("cancel", "Canceled")]
    [InlineData("delete", "Deleted")]
    public async Task Leaving_enabled_closes_the_socket_with_1008_and_the_state(string command, string state)
    {
        using var cts = Bound();
        await using var server = await RunningServer.StartAsync();
        var integration = await CreateIntegrationAsync(server);
        var bystander = await CreateIntegrationAsync(server, "Bystander");
        using var socket = await ConnectAsync(server, integration, cts.Token);
        using var other = await ConnectAsync(server, bystander, cts.Token);
        await WaitForConnectionsAsync(server, 2);

        if (command == "delete")
        {
            await server.SendAsync(HttpMethod.Delete, $"/api/v1/integrations/{integration.Id}");
        }
        else
        {
            await server.PostAsync($"/api/v1/integrations/{integration.Id}/{command}");
        }

        Assert.Null(await ReceiveFrameAsync(socket, cts.Token));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
        Assert.Equal($"The integration is {state}.", socket.CloseStatusDescription);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        await WaitForConnectionsAsync(server, 1);
        Assert.Equal(WebSocketState.Open, other.State);
        using var again = NewSocket(integration.Cookie);
        await Assert.ThrowsAsync<WebSocketException>(() => again.ConnectAsync(WebSocketUri(server), cts.Token));
        Assert.Contains(again.HttpStatusCode, (HttpStatusCode[])[HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden]);
    }

    [Fact]
    public async Task Regenerating_the_access_token_closes_the_socket_and_only_the_new_token_connects()
    {
        using var cts = Bound();
        await using var server = await RunningServer.StartAsync();
        var integration = await CreateIntegrationAsync(server);
        using var socket = await ConnectAsync(server, integration, cts.Token);
        await WaitForConnectionsAsync(server, 1);

        var regenerated = await server.PostAsync($"/api/v1/integrations/{integration.Id}/regenerate-access-token");

        Assert.Null(await ReceiveFrameAsync(socket, cts.Token));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
        Assert.Equal("The access token was regenerated.", socket.CloseStatusDescription);
        await WaitForConnectionsAsync(server, 0);

        using var old = NewSocket(integration.Cookie);
        await Assert.ThrowsAsync<WebSocketException>(() => old.ConnectAsync(WebSocketUri(server), cts.Token));
        Assert.Equal(HttpStatusCode.Unauthorized, old.HttpStatusCode);

        var renewed = integration with { AccessToken = (string)regenerated["AccessToken"]! };
        Assert.NotEqual(integration.AccessToken, renewed.AccessToken);
        using var fresh = await ConnectAsync(server, renewed, cts.Token);
        await WaitForConnectionsAsync(server, 1);
        Hub(server).Publish(integration.EnterpriseId, [Command]);
        Assert.Equal(Frame(Command), await ReceiveFrameAsync(fresh, cts.Token));
    }

    [Fact]
    public async Task Keep_alive_pings_reach_clients_a_reading_client_stays_and_a_silent_one_is_dropped()
    {
        using var cts = Bound();
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["WebSockets:KeepAliveInterval"] = "00:00:00.2",
            ["WebSockets:KeepAliveTimeout"] = "00:00:00.6",
        });
        var options = server.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Builder.WebSocketOptions>>().Value;
        Assert.Equal(TimeSpan.FromMilliseconds(200), options.KeepAliveInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(600), options.KeepAliveTimeout);
        var reading = await CreateIntegrationAsync(server, "Reading");
        var silent = await CreateIntegrationAsync(server, "Silent");
        using var readingSocket = await ConnectAsync(server, reading, cts.Token);
        using var silentSocket = await ConnectAsync(server, silent, cts.Token);
        await WaitForConnectionsAsync(server, 2);

        // A pending receive answers the server's pings (the client sends no pings of its own); the silent one never reads.
        var receive = ReceiveFrameAsync(readingSocket, cts.Token);
        await WaitForConnectionsAsync(server, 1, TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(1.5), cts.Token);

        Assert.Equal(1, Hub(server).ConnectionCount);
        Assert.False(receive.IsCompleted);
        Hub(server).Publish(reading.EnterpriseId, [Command]);
        Assert.Equal(Frame(Command), await receive);
    }

    [Fact]
    public async Task A_client_close_is_answered_and_the_connection_is_released()
    {
        using var cts = Bound();
        await using var server = await RunningServer.StartAsync();
        var integration = await CreateIntegrationAsync(server);
        using var socket = await ConnectAsync(server, integration, cts.Token);
        await WaitForConnectionsAsync(server, 1);

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);

        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        await WaitForConnectionsAsync(server, 0);
    }

    [Theory]
    [InlineData("WebSockets:SendBufferFrames", "0")]
    [InlineData("WebSockets:SendBufferBytes", "10")]
    [InlineData("WebSockets:KeepAliveInterval", "-00:00:01")]
    [InlineData("WebSockets:CloseTimeout", "00:00:00")]
    [InlineData("WebSockets:MaxConnections", "0")]
    [InlineData("WebSockets:MaxConnectionsPerIntegration", "0")]
    [InlineData("WebSockets:MaxBufferedBytes", "10")]
    [InlineData("WebSockets:SocketSendBufferBytes", "10")]
    public async Task Invalid_websocket_settings_stop_the_start_with_a_message_naming_them(string key, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(
            () => RunningServer.StartAsync(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    internal sealed record TestIntegration(Guid Id, Guid EnterpriseId, string ClientToken, string AccessToken)
    {
        // As documented: no spaces around '='.
        public string Cookie => $"ClientToken={ClientToken}; AccessToken={AccessToken}";
    }

    internal static CancellationTokenSource Bound()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TestLimit);
        return cts;
    }

    internal static WebSocketHub Hub(RunningServer server) => server.Services.GetRequiredService<WebSocketHub>();

    internal static byte[] Frame(params WebSocketEvent[] events) => WebSocketFrameWriter.Write(new WebSocketFrame(events));

    private static Uri WebSocketUri(RunningServer server) =>
        new UriBuilder(server.BaseUri) { Scheme = "ws", Path = "/ws/connector" }.Uri;

    internal static async Task<TestIntegration> CreateIntegrationAsync(RunningServer server, string name = "Sample", bool isEnabled = true)
    {
        var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = name + " Hotel" });
        var client = await server.PostAsync("/api/v1/clients", new { Name = name + " App" });
        var integration = await server.PostAsync("/api/v1/integrations",
            new { EnterpriseId = (string)enterprise["Id"]!, ClientId = (string)client["Id"]!, IsEnabled = isEnabled });
        return new TestIntegration(Guid.Parse((string)integration["Id"]!), Guid.Parse((string)enterprise["Id"]!),
            (string)client["ClientToken"]!, (string)integration["AccessToken"]!);
    }

    private static ClientWebSocket NewSocket(string? cookie)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        // The client sends no pings of its own, so only the server's keep-alive is at work.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        if (cookie is not null)
        {
            socket.Options.SetRequestHeader("Cookie", cookie);
        }
        return socket;
    }

    internal static async Task<ClientWebSocket> ConnectAsync(RunningServer server, TestIntegration integration, CancellationToken cancellationToken)
    {
        var socket = NewSocket(integration.Cookie);
        try
        {
            await socket.ConnectAsync(WebSocketUri(server), cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The next whole message's bytes, or null when the server closed the socket (see CloseStatus).</summary>
    internal static async Task<byte[]?> ReceiveFrameAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        using var message = new MemoryStream();
        var chunk = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(chunk, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            message.Write(chunk, 0, result.Count);
            if (result.EndOfMessage)
            {
                return message.ToArray();
            }
        }
    }

    /// <summary>A GET of the endpoint with the cookie (and the upgrade headers), read as problem details.</summary>
    private static async Task<(HttpStatusCode Status, JsonObject Problem, string Text)> GetProblemAsync(
        RunningServer server, string? cookie, bool upgrade, CancellationToken cancellationToken)
    {
        // Cookies off in the handler, so the header below goes exactly as written.
        using var handler = new HttpClientHandler { UseCookies = false };
        using var http = new HttpClient(handler) { BaseAddress = server.BaseUri };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ws/connector");
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }
        if (upgrade)
        {
            request.Headers.Connection.Add("Upgrade");
            request.Headers.Upgrade.Add(new ProductHeaderValue("websocket"));
            request.Headers.Add("Sec-WebSocket-Version", "13");
            request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        }
        using var response = await http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, Assert.IsType<JsonObject>(JsonNode.Parse(text)), text);
    }

    internal static async Task WaitForConnectionsAsync(RunningServer server, int count, TimeSpan? timeout = null)
    {
        var hub = Hub(server);
        await Delivery.WaitUntilAsync(() => hub.ConnectionCount == count,
            $"the hub holds {count} connection(s) (it holds {hub.ConnectionCount})", timeout ?? TimeSpan.FromSeconds(10));
    }
}
