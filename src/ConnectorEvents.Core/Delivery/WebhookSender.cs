using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace ConnectorEvents.Core.Delivery;

/// <summary>What one delivery attempt came to.</summary>
public sealed record AttemptResult(
    DateTimeOffset StartedUtc,
    double DurationMs,
    string Url,
    int? StatusCode,
    string? ErrorKind,
    string? Error,
    string? ResponseBody,
    TimeSpan? RetryAfter)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;

    /// <summary>410 Gone: the receiver asks us to stop.</summary>
    public bool Gone => StatusCode == 410;
}

/// <summary>Error kinds recorded on attempts that got no usable HTTP answer.</summary>
public static class AttemptErrors
{
    public const string Timeout = "Timeout";
    public const string ConnectionFailed = "ConnectionFailed";
    public const string AddressBlocked = "AddressBlocked";
    public const string HostNotFound = "HostNotFound";
    public const string TooManyRedirects = "TooManyRedirects";
    public const string InvalidRedirect = "InvalidRedirect";
}

/// <summary>Sends one signed POST, following 307/308 within one time-out, and records what happened.</summary>
/// <remarks>
/// A bare <see cref="HttpMessageInvoker"/> rather than an <see cref="HttpClient"/>: the client links every send's token
/// to a token source that all its sends share (for CancelPendingRequests), and with hundreds of sends under way the bare
/// invoker measured clearly cheaper (docs/architecture.md). The handler streams the body, as ResponseHeadersRead would.
/// </remarks>
public sealed class WebhookSender(HttpMessageInvoker http, DeliveryOptions options, TimeProvider time)
{
    public const int ResponseBodyLimit = 1024;

    public static string UserAgent { get; } = "ConnectorEvents/" +
        (typeof(WebhookSender).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0.0.0");

    private const int ParsedUrlsKept = 50_000;

    private readonly ConcurrentDictionary<string, (Uri Url, string Redacted)> _parsed = new(StringComparer.Ordinal);

    private static readonly MediaTypeHeaderValue JsonContentType = MediaTypeHeaderValue.Parse("application/json; charset=utf-8");

    public async Task<AttemptResult> SendAsync(
        string url, string messageId, byte[] body, IReadOnlyList<SigningKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var started = time.GetUtcNow();
        var clock = Stopwatch.GetTimestamp();
        var (first, redacted) = Parse(url);
        var target = first;
        // One token source: the time-out's, which a stop also cancels (cheaper than a linked pair on every send).
        using var timeout = new CancellationTokenSource(options.Timeout, time);
        using var stopping = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), timeout);
        var timestamp = started.ToUnixTimeSeconds();
        var signature = WebhookSigner.Sign(keys, messageId, timestamp, body);
        var timestampText = timestamp.ToString(CultureInfo.InvariantCulture);

        AttemptResult Result(int? status, string? kind, string? error, string? responseBody = null, TimeSpan? retryAfter = null) =>
            new(started, Stopwatch.GetElapsedTime(clock).TotalMilliseconds,
                ReferenceEquals(target, first) ? redacted : Redact(target), status, kind, error, responseBody, retryAfter);

        try
        {
            for (var hop = 0; ; hop++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, target);
                request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
                request.Headers.TryAddWithoutValidation("webhook-id", messageId);
                request.Headers.TryAddWithoutValidation("webhook-timestamp", timestampText);
                request.Headers.TryAddWithoutValidation("webhook-signature", signature);
                request.Content = new ByteArrayContent(body) { Headers = { ContentType = JsonContentType } };

                using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                if (status is 307 or 308)
                {
                    var location = response.Headers.Location;
                    if (location is null)
                    {
                        return Result(status, AttemptErrors.InvalidRedirect, "The redirect has no Location header.");
                    }
                    var next = location.IsAbsoluteUri ? location : new Uri(target, location);
                    if (next.Scheme is not ("http" or "https"))
                    {
                        return Result(status, AttemptErrors.InvalidRedirect, $"The redirect goes to a '{next.Scheme}' URL.");
                    }
                    if (hop >= options.MaxRedirects)
                    {
                        return Result(status, AttemptErrors.TooManyRedirects, $"More than {options.MaxRedirects} redirects.");
                    }
                    target = next;
                    continue;
                }
                var text = await ReadStartAsync(response, timeout.Token).ConfigureAwait(false);
                return Result(status, null, null, text, RetryAfterOf(response));
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Result(null, AttemptErrors.Timeout, $"No answer within {options.Timeout.TotalSeconds:0.###} s.");
        }
        catch (HttpRequestException ex) when (Find<BlockedAddressException>(ex) is { } blocked)
        {
            return Result(null, AttemptErrors.AddressBlocked, blocked.Message);
        }
        catch (HttpRequestException ex) when (Find<HostNotResolvedException>(ex) is { } unresolved)
        {
            return Result(null, AttemptErrors.HostNotFound, unresolved.Message);
        }
        catch (HttpRequestException ex)
        {
            var socketError = Find<SocketException>(ex)?.SocketErrorCode.ToString();
            var reason = socketError ?? ex.HttpRequestError.ToString();
            return Result(null, AttemptErrors.ConnectionFailed, $"{reason} ({target.Host}:{target.Port}).");
        }
        catch (IOException ex)
        {
            return Result(null, AttemptErrors.ConnectionFailed, $"{ex.GetType().Name} ({target.Host}:{target.Port}).");
        }
    }

    /// <summary>A URL parsed once, with its redacted form: clients keep their URL for long, and parsing costs on every send.</summary>
    private (Uri Url, string Redacted) Parse(string url)
    {
        if (_parsed.TryGetValue(url, out var known))
        {
            return known;
        }
        if (_parsed.Count >= ParsedUrlsKept)
        {
            _parsed.Clear(); // URLs replaced over a long run; the live ones come back on their next send
        }
        var uri = new Uri(url);
        return _parsed[url] = (uri, Redact(uri));
    }

    /// <summary>The first KiB of the body; a body slower than the time-out keeps what came.</summary>
    private static async Task<string?> ReadStartAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength == 0)
        {
            return null; // most receivers answer with no body: nothing to read
        }
        var buffer = new byte[ResponseBodyLimit];
        var filled = 0;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                int read;
                while (filled < buffer.Length
                    && (read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    filled += read;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
        {
            // The status line is the answer; a body that breaks off or trickles does not change it.
        }
        return filled == 0 ? null : Encoding.UTF8.GetString(buffer, 0, CompleteUtf8Length(buffer.AsSpan(0, filled)));
    }

    /// <summary>The length without a multi-byte character the cut left incomplete at the end.</summary>
    internal static int CompleteUtf8Length(ReadOnlySpan<byte> text)
    {
        var start = text.Length - 1;
        while (start >= 0 && start > text.Length - 4 && (text[start] & 0xC0) == 0x80)
        {
            start--; // continuation bytes
        }
        if (start < 0 || text[start] < 0x80)
        {
            return text.Length;
        }
        var needed = text[start] >= 0xF0 ? 4 : text[start] >= 0xE0 ? 3 : 2;
        return text.Length - start >= needed ? text.Length : start;
    }

    private TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }
        if (header?.Date is { } date)
        {
            return date - time.GetUtcNow();
        }
        return null;
    }

    private static T? Find<T>(Exception ex) where T : Exception
    {
        for (Exception? current = ex; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }
        return null;
    }

    /// <summary>The URL without its query, which may carry the receiver's secret token.</summary>
    public static string Redact(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var text = url.GetLeftPart(UriPartial.Path);
        return string.IsNullOrEmpty(url.Query) ? text : text + "?…";
    }

    /// <summary>The handler every delivery uses: SSRF checks at connect time, no automatic redirects, no proxy, no cookies.</summary>
    public static SocketsHttpHandler CreateHandler(NetworkPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new SocketsHttpHandler
        {
            ConnectCallback = policy.ConnectAsync,
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            MaxConnectionsPerServer = int.MaxValue,
        };
    }
}
