using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConnectorEvents.Cli;

/// <summary>A command against the server ends here: the one line to print and the exit code (see <see cref="ExitCodes"/>).</summary>
internal sealed class AdminFailure(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>One answer of the management API: its text as sent and the JSON it holds.</summary>
internal sealed record AdminAnswer(string Text, JsonNode Json)
{
    public JsonObject Object => Json as JsonObject ?? [];
}

/// <summary>
/// The management API of a running server, as the admin commands call it. Every answer other than 2xx becomes an
/// <see cref="AdminFailure"/> whose message is one line (the problem's title and detail, and the status) and whose code
/// says what kind of refusal it was; a server that cannot be reached is <see cref="ExitCodes.Unreachable"/>. The API key
/// is sent as a bearer header and never appears in a message.
/// </summary>
internal sealed class AdminApi : IDisposable
{
    public const string DefaultServer = "http://127.0.0.1:5080";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _client;

    public AdminApi(Uri server, string apiKey)
    {
        Server = server;
        _client = new HttpClient(new SocketsHttpHandler { ConnectTimeout = Timeout, UseCookies = false }) { Timeout = Timeout };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        _client.DefaultRequestHeaders.UserAgent.Add(
            new ProductInfoHeaderValue("connector-events", typeof(AdminApi).Assembly.GetName().Version?.ToString(3)));
    }

    public Uri Server { get; }

    public Task<AdminAnswer> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, null, cancellationToken);

    public async Task<AdminAnswer> SendAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(Server, path));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(JsonText.Utf8(body));
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        }
        else if (method == HttpMethod.Post)
        {
            request.Content = new ByteArrayContent([]);
        }
        string text;
        int status;
        try
        {
            using var response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            status = (int)response.StatusCode;
        }
        catch (HttpRequestException exception)
        {
            throw new AdminFailure(ExitCodes.Unreachable, $"Cannot reach the server at {Server}: {TransportFailure.Describe(exception, "the server")}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AdminFailure(ExitCodes.Unreachable,
                string.Create(CultureInfo.InvariantCulture, $"The server at {Server} did not answer within {Timeout.TotalSeconds:0} s."));
        }
        if (status is < 200 or > 299)
        {
            throw new AdminFailure(ExitCodes.ForStatus(status), Describe(method, path, status, text));
        }
        JsonNode json;
        try
        {
            json = text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) ?? new JsonObject();
        }
        catch (JsonException)
        {
            throw new AdminFailure(ExitCodes.NotAccepted, $"{method} {path} answered {status} with a body that is not JSON; is {Server} a ConnectorEvents server?");
        }
        return new AdminAnswer(text, json);
    }

    /// <summary>One line for a refusal: "Not found. No integration has the id '…'. (404)", plus what to check for a 401.</summary>
    private static string Describe(HttpMethod method, string path, int status, string text)
    {
        string? title = null;
        string? detail = null;
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
            // Not problem details (a proxy's page): say the status only.
        }
        var line = new StringBuilder();
        if (title is null && detail is null)
        {
            line.Append(CultureInfo.InvariantCulture, $"{method} {path} was refused");
        }
        else
        {
            line.Append(title?.Trim());
            if (detail is not null)
            {
                line.Append(line.Length > 0 ? " " : "").Append(detail.Trim());
            }
        }
        line.Append(CultureInfo.InvariantCulture, $" ({status})");
        if (status == 401)
        {
            line.Append(" Check --api-key or CONNECTOR_EVENTS_API_KEY.");
        }
        return line.ToString().ReplaceLineEndings(" ");
    }

    public void Dispose() => _client.Dispose();
}
