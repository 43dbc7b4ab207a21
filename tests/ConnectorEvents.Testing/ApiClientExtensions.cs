using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ConnectorEvents.Testing;

/// <summary>The management API over a plain <see cref="HttpClient"/> (a server process's, a scoped key's).</summary>
public static class ApiClientExtensions
{
    /// <summary>POSTs <paramref name="body"/> as JSON; the answer's object, or an exception naming the route, status and body.</summary>
    public static async Task<JsonObject> PostJsonAsync(this HttpClient api, string path, object? body, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(api);
        using var response = await api.PostAsJsonAsync(path, body ?? new { }, ct).ConfigureAwait(false);
        return await ReadAsync(response, expectedStatus: 0).ConfigureAwait(false);
    }

    /// <summary>The answer's JSON object once its status is <paramref name="expectedStatus"/> (0: any 2xx).</summary>
    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response, int expectedStatus)
    {
        ArgumentNullException.ThrowIfNull(response);
        var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        var status = (int)response.StatusCode;
        if (expectedStatus == 0 ? status is < 200 or > 299 : status != expectedStatus)
        {
            throw new HttpRequestException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {status}: {text}");
        }
        return text.Length == 0 ? [] : JsonNode.Parse(text) as JsonObject ?? [];
    }
}
