using System.Net.Sockets;
using System.Net.WebSockets;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Realtime;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// <c>GET /ws/connector</c>: the WebSocket channel of events-websockets.md. The client authenticates with the
/// cookies <c>ClientToken</c> and <c>AccessToken</c>; every refusal is answered before the upgrade, as problem
/// details that never repeat a token.
/// </summary>
public static class WebSocketEndpoint
{
    public const string Path = "/ws/connector";

    public static void MapConnectorWebSocket(this IEndpointRouteBuilder app) =>
        app.MapGet(Path, ConnectAsync)
            .WithTags("WebSockets").WithName("ConnectWebSocket").WithSummary("Open the WebSocket of an integration")
            .WithDescription("Upgrades to a WebSocket that receives the integration's events as {\"Events\":[…]} frames. "
                + "Send 'Cookie: ClientToken=…; AccessToken=…'.")
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(429).ProducesProblem(503);

    /// <summary>How long a socket refused for capacity is asked to wait before it connects again.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    private static async Task ConnectAsync(
        HttpContext context, IConnectorStore store, WebSocketHub hub, IOptions<RealtimeOptions> options, FailedAuthentications failures)
    {
        var address = context.Connection.RemoteIpAddress;
        failures.ThrowIfBlocked(address);
        ClientRecord client;
        IntegrationRecord integration;
        try
        {
            (client, integration) = Authenticate(context.Request, store);
        }
        catch (ApiProblemException refused) when (refused.Status == StatusCodes.Status401Unauthorized)
        {
            failures.Record(address, "wrong WebSocket tokens");
            throw;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            throw new ApiProblemException(StatusCodes.Status400BadRequest, "A WebSocket upgrade is required.",
                $"{Path} only accepts WebSocket connections (GET with 'Connection: Upgrade' and 'Upgrade: websocket').");
        }
        Admit(hub, integration);
        try
        {
            LimitKernelSendBuffer(context, options.Value.SocketSendBufferBytes);
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var connection = hub.Register(socket, client, integration, store, context.Abort);
            try
            {
                await connection.RunAsync(context.RequestAborted);
            }
            finally
            {
                hub.Unregister(connection);
                if (socket.State != WebSocketState.Closed)
                {
                    // Aborted (a stuck send, a lost peer): drop the connection rather than let the server flush to a peer that does not read.
                    context.Abort();
                }
            }
        }
        finally
        {
            hub.Leave(integration.Id);
        }
    }

    /// <summary>
    /// Fixes the connection's kernel send buffer before anything is sent on it, so a peer that stops reading parks a
    /// bounded amount of kernel memory (see <see cref="RealtimeOptions.SocketSendBufferBytes"/>).
    /// </summary>
    private static void LimitKernelSendBuffer(HttpContext context, int bytes)
    {
        if (bytes == 0 || context.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
        {
            return;
        }
        try
        {
            socket.SendBufferSize = bytes;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The connection is gone already; the upgrade will fail on its own.
        }
    }

    /// <summary>
    /// A place for the socket, or a refusal before the upgrade: 429 when the integration holds its share (its own sockets
    /// must close first: a quota of that client), 503 when the process holds all it may (a capacity limit of the server,
    /// which another process behind the same address may not have). Both say when to try again.
    /// </summary>
    private static void Admit(WebSocketHub hub, IntegrationRecord integration)
    {
        switch (hub.Admit(integration.Id))
        {
            case WebSocketAdmission.IntegrationFull:
                throw new ApiProblemException(StatusCodes.Status429TooManyRequests, "Too many connections.",
                    "The integration has as many WebSockets open as it may (WebSockets:MaxConnectionsPerIntegration); close one first.")
                {
                    RetryAfter = RetryAfter,
                };
            case WebSocketAdmission.ServerFull:
                throw new ApiProblemException(StatusCodes.Status503ServiceUnavailable, "The server is at capacity.",
                    "The server holds as many WebSockets as it may (WebSockets:MaxConnections); try again later.")
                {
                    RetryAfter = RetryAfter,
                };
        }
    }

    private static (ClientRecord Client, IntegrationRecord Integration) Authenticate(HttpRequest request, IConnectorStore store)
    {
        var clientToken = request.Cookies["ClientToken"];
        var accessToken = request.Cookies["AccessToken"];
        if (string.IsNullOrEmpty(clientToken) || string.IsNullOrEmpty(accessToken))
        {
            throw Unauthorized("Send both tokens as cookies: 'Cookie: ClientToken=<client token>; AccessToken=<access token>'.");
        }
        // Cookies are percent-decoded, so a token may hold any character; PostgreSQL refuses a NUL in a query (a 500).
        if (!IsTokenText(clientToken) || !IsTokenText(accessToken))
        {
            throw Unauthorized("The ClientToken and AccessToken do not name an integration of that client.");
        }
        // Kept only as hashes: looked up by hash.
        var client = store.FindClientByTokenHash(TokenDigest.HashOf(clientToken));
        var integration = store.FindIntegrationByAccessTokenHash(TokenDigest.HashOf(accessToken));
        // One answer for every mismatch, so a refusal does not tell which of the two tokens is wrong.
        if (client is null || integration is null || integration.ClientId != client.Id)
        {
            throw Unauthorized("The ClientToken and AccessToken do not name an integration of that client.");
        }
        // The tokens are right, so saying why is safe: the integration exists but may not receive events now.
        if (integration.State != IntegrationState.Enabled)
        {
            throw new ApiProblemException(StatusCodes.Status403Forbidden, "Forbidden.",
                $"The integration is {integration.State}; only an Enabled integration can connect.");
        }
        return (client, integration);
    }

    private static bool IsTokenText(string token) => token.Length <= 512 && token.All(c => c is >= '!' and <= '~');

    private static ApiProblemException Unauthorized(string detail) =>
        new(StatusCodes.Status401Unauthorized, "Unauthorized.", detail);
}
