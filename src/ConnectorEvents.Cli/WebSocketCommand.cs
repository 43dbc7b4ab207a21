using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace ConnectorEvents.Cli;

/// <summary>
/// <c>websocket</c>: connects to <c>/ws/connector</c> as an integration (the <c>ClientToken</c> and <c>AccessToken</c>
/// cookies) and prints each frame, then the close the server sends. The upgrade is made by hand over
/// <see cref="HttpMessageInvoker"/> so that a refusal's problem details (401, 403, 429…) can be read and shown as one
/// line; tokens are never printed.
/// </summary>
internal static class WebSocketCommand
{
    public const string ClientTokenVariable = "CONNECTOR_EVENTS_CLIENT_TOKEN";
    public const string AccessTokenVariable = "CONNECTOR_EVENTS_ACCESS_TOKEN";
    private const string DefaultServer = "ws://127.0.0.1:5080";
    private const string Path = "ws/connector";
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    public static Command Create(Func<CliConsoles> consoles, Func<string, string?> environment)
    {
        var server = new Option<string?>("--server")
        {
            Description = $"The server (default {DefaultServer}, or ${AdminCommand.ServerVariable}); ws://, wss://, http:// or https://.",
        };
        var clientToken = new Option<string?>("--client-token") { Description = $"The client's ClientToken (or ${ClientTokenVariable})." };
        var accessToken = new Option<string?>("--access-token") { Description = $"The integration's AccessToken (or ${AccessTokenVariable})." };
        var printJson = new Option<bool>("--print-json") { Description = "Print each frame as indented JSON after its summary." };
        var command = new Command("websocket", "Connect to the server's WebSocket as an integration and print each frame it pushes.")
        {
            server, clientToken, accessToken, printJson,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(consoles(),
            parse.GetValue(server) ?? environment(AdminCommand.ServerVariable) ?? DefaultServer,
            Nonempty(parse.GetValue(clientToken)) ?? Nonempty(environment(ClientTokenVariable)),
            Nonempty(parse.GetValue(accessToken)) ?? Nonempty(environment(AccessTokenVariable)),
            parse.GetValue(printJson), cancellationToken));
        return command;
    }

    private static string? Nonempty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static async Task<int> RunAsync(CliConsoles consoles, string serverText, string? clientToken, string? accessToken, bool printJson,
        CancellationToken cancellationToken)
    {
        if (!TryEndpoint(serverText.Trim(), out var http, out var shown))
        {
            return consoles.Fail(ExitCodes.InvalidInput, $"--server must be a ws://, wss://, http:// or https:// URL such as {DefaultServer}.");
        }
        if (clientToken is null || accessToken is null)
        {
            return consoles.Fail(ExitCodes.InvalidInput,
                $"Give both tokens: --client-token (or {ClientTokenVariable}) and --access-token (or {AccessTokenVariable}).");
        }
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler { UseCookies = false, UseProxy = false, ConnectTimeout = ConnectTimeout });
        using var request = new HttpRequestMessage(HttpMethod.Get, http) { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("websocket"));
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", key);
        request.Headers.TryAddWithoutValidation("Cookie", $"ClientToken={clientToken}; AccessToken={accessToken}");

        HttpResponseMessage response;
        using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connecting.CancelAfter(ConnectTimeout);
            try
            {
                response = await invoker.SendAsync(request, connecting.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException exception)
            {
                return consoles.Fail(ExitCodes.Unreachable, $"Cannot reach {shown}: {TransportFailure.Describe(exception, "the server")}");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return consoles.Fail(ExitCodes.Unreachable, string.Create(CultureInfo.InvariantCulture,
                    $"{shown} did not answer within {ConnectTimeout.TotalSeconds:0} s."));
            }
            catch (OperationCanceledException)
            {
                return ExitCodes.Ok;
            }
        }
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.SwitchingProtocols)
            {
                string text;
                try
                {
                    text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is HttpRequestException or IOException)
                {
                    text = ""; // the refusal's status says enough when its body is cut off
                }
                return consoles.Fail(ExitCodes.ForStatus((int)response.StatusCode), Refusal((int)response.StatusCode, text));
            }
#pragma warning disable CA5350 // RFC 6455 section 4.2.2 defines the accept value as SHA-1: a handshake check, not a protection.
            var expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
            if (!response.Headers.TryGetValues("Sec-WebSocket-Accept", out var accept) || accept.FirstOrDefault() != expected)
            {
                return consoles.Fail(ExitCodes.NotAccepted, $"{shown} answered 101 without a valid Sec-WebSocket-Accept: not a WebSocket server.");
            }
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.FromSeconds(30) });
            consoles.Out.MarkupLine($"Connected to [bold]{Markup.Escape(shown)}[/]. Press Ctrl+C to stop.");
            return await ReceiveAsync(consoles, socket, printJson, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<int> ReceiveAsync(CliConsoles consoles, WebSocket socket, bool printJson, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var frames = 0;
        try
        {
            while (true)
            {
                buffer.Clear();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.GetMemory(16 * 1024), cancellationToken).ConfigureAwait(false);
                    buffer.Advance(result.Count);
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    var status = socket.CloseStatus is { } code ? ((int)code).ToString(CultureInfo.InvariantCulture) : "no status";
                    consoles.Out.MarkupLine($"[yellow]Closed by the server: {Markup.Escape(status)} {Markup.Escape(socket.CloseStatusDescription ?? "")}[/]"
                        + string.Create(CultureInfo.InvariantCulture, $" after {frames} frame{(frames == 1 ? "" : "s")}."));
                    await CloseQuietlyAsync(socket, WebSocketCloseStatus.NormalClosure).ConfigureAwait(false);
                    return socket.CloseStatus == WebSocketCloseStatus.NormalClosure ? ExitCodes.Ok : ExitCodes.Closed;
                }
                frames++;
                Print(consoles.Out, buffer.WrittenMemory, result.MessageType, printJson);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await CloseQuietlyAsync(socket, WebSocketCloseStatus.NormalClosure).ConfigureAwait(false);
            consoles.Out.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"Stopped after {frames} frame{(frames == 1 ? "" : "s")}."));
            return ExitCodes.Ok;
        }
        catch (Exception exception) when (exception is WebSocketException or IOException)
        {
            return consoles.Fail(ExitCodes.Closed, $"The connection was lost: {exception.Message}");
        }
    }

    /// <summary>One line per frame (time, then each event's type and id), and with <c>--print-json</c> the frame indented.</summary>
    private static void Print(IAnsiConsole console, ReadOnlyMemory<byte> frame, WebSocketMessageType type, bool printJson)
    {
        var time = DateTime.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
        var pretty = type == WebSocketMessageType.Text ? JsonText.Pretty(frame) : null;
        var events = new List<string>();
        if (pretty is not null && JsonNode.Parse(frame.Span) is JsonObject { } root && root["Events"] is JsonArray list)
        {
            foreach (var item in list.OfType<JsonObject>())
            {
                events.Add($"{AdminCommand.Cell(item["Type"])} {AdminCommand.Cell(item["Id"])}".Trim());
            }
        }
        var summary = events.Count > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{events.Count} event{(events.Count == 1 ? "" : "s")}: {string.Join(", ", events)}")
            : string.Create(CultureInfo.InvariantCulture, $"{type} frame, {frame.Length} bytes");
        console.MarkupLine($"[bold]{time}[/]  {Markup.Escape(summary)}");
        if (printJson)
        {
            foreach (var line in JsonText.Indent(pretty ?? Encoding.UTF8.GetString(frame.Span)))
            {
                console.WriteLine(line);
            }
        }
    }

    private static async Task CloseQuietlyAsync(WebSocket socket, WebSocketCloseStatus status)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(status, null, limit.Token).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or OperationCanceledException)
        {
            // The peer is gone: nothing left to say to it.
        }
    }

    /// <summary>One line for a refused upgrade: the problem's title and detail (which never repeat a token), and the status.</summary>
    private static string Refusal(int status, string text)
    {
        string? title = null, detail = null;
        try
        {
            if (JsonNode.Parse(text) is JsonObject problem)
            {
                title = problem["title"]?.GetValueKind() == JsonValueKind.String ? (string?)problem["title"] : null;
                detail = problem["detail"]?.GetValueKind() == JsonValueKind.String ? (string?)problem["detail"] : null;
            }
        }
        catch (JsonException)
        {
            // Not problem details: the status says enough.
        }
        var line = string.Join(" ", new[] { title, detail }.Where(s => !string.IsNullOrWhiteSpace(s)));
        return (line.Length == 0 ? "The server refused the WebSocket" : "The server refused the WebSocket: " + line).ReplaceLineEndings(" ")
            + string.Create(CultureInfo.InvariantCulture, $" ({status})");
    }

    /// <summary>The http(s) URL of <c>/ws/connector</c> on the server, and its ws(s) form to show.</summary>
    private static bool TryEndpoint(string text, out Uri http, out string shown)
    {
        http = null!;
        shown = "";
        if (!Uri.TryCreate(text, UriKind.Absolute, out var given) || string.IsNullOrEmpty(given.Host))
        {
            return false;
        }
        var scheme = given.Scheme switch
        {
            "ws" or "http" => Uri.UriSchemeHttp,
            "wss" or "https" => Uri.UriSchemeHttps,
            _ => null,
        };
        if (scheme is null)
        {
            return false;
        }
        var builder = new UriBuilder(given) { Scheme = scheme, Port = given.IsDefaultPort ? -1 : given.Port };
        var path = builder.Path.TrimEnd('/');
        builder.Path = path.EndsWith("/" + Path, StringComparison.Ordinal) ? path : path + "/" + Path;
        http = builder.Uri;
        shown = new UriBuilder(http) { Scheme = scheme == Uri.UriSchemeHttps ? "wss" : "ws", Port = http.IsDefaultPort ? -1 : http.Port }.Uri.ToString();
        return true;
    }
}
