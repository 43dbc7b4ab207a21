using System.Text.RegularExpressions;

namespace ConnectorEvents.Testing;

/// <summary>
/// The console as a browser without a rendering engine sees it: its cookies kept by name (whatever their Secure flag, so a
/// request marked as forwarded from HTTPS keeps its session), antiforgery tokens read from the forms, redirects not followed.
/// </summary>
public sealed partial class ConsoleSessionClient : IDisposable
{
    private readonly HttpClient _http;

    public ConsoleSessionClient(Uri baseUri, IDictionary<string, string>? headers = null)
    {
        _http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = baseUri };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            _http.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        }
    }

    /// <summary>The cookies the server set, by name (an expired one removed).</summary>
    public Dictionary<string, string> Cookies { get; } = new(StringComparer.Ordinal);

    /// <summary>Signs in; the answer to the sign-in form (a redirect when the key was taken).</summary>
    public async Task<HttpResponseMessage> SignInAsync(string key)
    {
        var token = await TokenAsync("/console/sign-in");
        return await PostAsync("/console/sign-in", new() { ["ApiKey"] = key, ["__antiforgery"] = token });
    }

    /// <summary>The antiforgery token of the first form on a page.</summary>
    public async Task<string> TokenAsync(string page)
    {
        using var response = await GetAsync(page);
        var html = await response.Content.ReadAsStringAsync();
        return TokenField().Match(html) is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException($"{page} has no form token.");
    }

    public Task<HttpResponseMessage> GetAsync(string path) => SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative)));

    public Task<HttpResponseMessage> PostAsync(string path, Dictionary<string, string> form) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = new FormUrlEncodedContent(form) });

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        using (request)
        {
            if (Cookies.Count > 0)
            {
                request.Headers.Add("Cookie", string.Join("; ", Cookies.Select(c => $"{c.Key}={c.Value}")));
            }
            var response = await _http.SendAsync(request);
            if (response.Headers.TryGetValues("Set-Cookie", out var set))
            {
                foreach (var cookie in set)
                {
                    var pair = cookie.Split(';')[0].Split('=', 2);
                    if (pair[1].Length == 0 || cookie.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
                    {
                        Cookies.Remove(pair[0]);
                    }
                    else
                    {
                        Cookies[pair[0]] = pair[1];
                    }
                }
            }
            return response;
        }
    }

    [GeneratedRegex("name=\"__antiforgery\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    public void Dispose() => _http.Dispose();
}
