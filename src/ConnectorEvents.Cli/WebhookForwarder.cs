using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace ConnectorEvents.Cli;

/// <summary>
/// <c>listen --forward-to</c>: sends a received webhook on to the integrator's own endpoint as it came (same body bytes,
/// same headers but the hop-by-hop ones and <c>Host</c>) and brings back the endpoint's answer, so the sender sees what the
/// endpoint said. The request's query string (the platform's <c>?Token=…</c>) is added to the target's unless it has one.
/// </summary>
internal sealed class WebhookForwarder(Uri target, TimeSpan timeout) : IDisposable
{
    /// <summary>Headers that describe one connection (RFC 9110 section 7.6.1), never forwarded.</summary>
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Expect",
    };

    private readonly HttpClient _client = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = timeout,
    })
    {
        Timeout = timeout,
    };

    public Uri Target { get; } = target;

    /// <summary>What the endpoint answered, or why it could not answer (then <see cref="Status"/> is 502, or 504 after the time-out).</summary>
    public sealed record Outcome(int Status, string? ContentType, byte[] Body, TimeSpan Elapsed, string? Failure);

    public async Task<Outcome> ForwardAsync(HttpRequest received, byte[] body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(new HttpMethod(received.Method), TargetFor(received.QueryString));
        request.Content = new ByteArrayContent(body);
        var connectionNamed = received.Headers.Connection.SelectMany(v => (v ?? "").Split(',')).Select(v => v.Trim())
            .Where(v => v.Length > 0).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in received.Headers)
        {
            if (HopByHop.Contains(name) || connectionNamed.Contains(name))
            {
                continue;
            }
            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            return new Outcome((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), answer,
                Stopwatch.GetElapsedTime(started), null);
        }
        catch (HttpRequestException exception)
        {
            return new Outcome(StatusCodes.Status502BadGateway, null, [], Stopwatch.GetElapsedTime(started), TransportFailure.Describe(exception));
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Outcome(StatusCodes.Status504GatewayTimeout, null, [], Stopwatch.GetElapsedTime(started),
                string.Create(CultureInfo.InvariantCulture, $"no answer within {_client.Timeout.TotalSeconds:0.#} s."));
        }
    }

    /// <summary>Where this request goes: the target, with the request's query when the target has none.</summary>
    public Uri TargetFor(QueryString query) =>
        string.IsNullOrEmpty(Target.Query) && query.HasValue ? new UriBuilder(Target) { Query = query.Value![1..] }.Uri : Target;

    /// <summary>Writes the endpoint's answer (status, content type, body) as listen's own.</summary>
    public static async Task AnswerAsync(HttpResponse response, Outcome outcome, CancellationToken cancellationToken)
    {
        response.StatusCode = outcome.Status;
        if (outcome.Failure is not null)
        {
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync($"connector-events listen could not forward the webhook: {outcome.Failure}", cancellationToken)
                .ConfigureAwait(false);
            return;
        }
        if (outcome.ContentType is not null)
        {
            response.Headers.ContentType = new StringValues(outcome.ContentType);
        }
        if (outcome.Body.Length > 0)
        {
            await response.Body.WriteAsync(outcome.Body, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _client.Dispose();
}
