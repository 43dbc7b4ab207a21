using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using ConnectorEvents.Core.Security;

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
/// <para>
/// Bare <see cref="HttpMessageInvoker"/>s rather than an <see cref="HttpClient"/>: the client links every send's token to a
/// token source that all its sends share (for CancelPendingRequests), and with hundreds of sends under way the bare invoker
/// measured clearly cheaper (docs/architecture.md). The handler streams the body, as ResponseHeadersRead would.
/// </para>
/// <para>
/// Two of them, over the same connect-time address check: a pooled one for every send, and one whose connections serve a
/// single request. A send that meets a pooled connection the receiver had closed (<see cref="StaleConnectionException"/>:
/// no byte of the answer came) is sent again at once, once, through the second: a stale connection never costs an attempt,
/// and a failure on a connection of its own is a failure.
/// </para>
/// </remarks>
public sealed class WebhookSender : IDisposable
{
    public const int ResponseBodyLimit = 1024;

    public static string UserAgent { get; } = "ConnectorEvents/" +
        (typeof(WebhookSender).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0.0.0");

    private const int ParsedUrlsKept = 50_000;

    private readonly ConcurrentDictionary<string, (Uri Url, string Redacted)> _parsed = new(StringComparer.Ordinal);

    private static readonly MediaTypeHeaderValue JsonContentType = MediaTypeHeaderValue.Parse("application/json; charset=utf-8");

    private readonly HttpMessageInvoker _pooled;
    private readonly HttpMessageInvoker _fresh;
    private readonly DeliveryOptions _options;
    private readonly TimeProvider _time;

    public WebhookSender(NetworkPolicy policy, DeliveryOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _pooled = new HttpMessageInvoker(CreateHandler(policy));
        _fresh = new HttpMessageInvoker(CreateHandler(policy, reuseConnections: false));
        _options = options;
        _time = time;
    }

    public async Task<AttemptResult> SendAsync(
        string url, string messageId, byte[] body, IReadOnlyList<SigningKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var started = _time.GetUtcNow();
        var clock = Stopwatch.GetTimestamp();
        var (first, redacted) = Parse(url);
        var target = first;
        // One token source: the time-out's, which a stop also cancels (cheaper than a linked pair on every send).
        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var stopping = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), timeout);
        var timestamp = started.ToUnixTimeSeconds();
        var signature = WebhookSigner.Sign(keys, messageId, timestamp, body);
        var post = new Post(messageId, timestamp.ToString(CultureInfo.InvariantCulture), signature, body);

        AttemptResult Result(int? status, string? kind, string? error, string? responseBody = null, TimeSpan? retryAfter = null) =>
            new(started, Stopwatch.GetElapsedTime(clock).TotalMilliseconds,
                ReferenceEquals(target, first) ? redacted : Redact(target), status, kind, error, responseBody, retryAfter);

        try
        {
            for (var hop = 0; ; hop++)
            {
                using var response = await PostAsync(target, post, timeout.Token).ConfigureAwait(false);
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
                    if (!string.IsNullOrEmpty(next.UserInfo))
                    {
                        // The handler would drop them silently (it sends no user information, not even as Basic after a
                        // 401), and a client URL may not carry any either: refused, never recorded.
                        return Result(status, AttemptErrors.InvalidRedirect, "The redirect goes to a URL with a user name or password.");
                    }
                    if (hop >= _options.MaxRedirects)
                    {
                        return Result(status, AttemptErrors.TooManyRedirects, $"More than {_options.MaxRedirects} redirects.");
                    }
                    target = next;
                    continue;
                }
                var text = await ReadStartAsync(response, timeout.Token).ConfigureAwait(false);
                // Kept with the attempt: a receiver that echoes the request must not put its secrets there.
                return Result(status, null, null, text is null ? null : EchoedSecrets.Conceal(text, body, first, target), RetryAfterOf(response));
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Result(null, AttemptErrors.Timeout, $"No answer within {_options.Timeout.TotalSeconds:0.###} s.");
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

    public void Dispose()
    {
        _pooled.Dispose();
        _fresh.Dispose();
    }

    /// <summary>What every hop of one send carries.</summary>
    private readonly record struct Post(string MessageId, string Timestamp, string Signature, byte[] Body);

    /// <summary>
    /// One POST on a pooled connection; if that connection turns out stale, the same POST once more on a connection of its
    /// own, saying it will close (the receiver never answered the first, and the same webhook-id lets it drop a copy).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<HttpResponseMessage> PostAsync(Uri target, Post post, CancellationToken cancellationToken)
    {
        using (var request = NewRequest(target, post))
        {
            try
            {
                return await _pooled.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (Find<StaleConnectionException>(ex) is not null)
            {
                // sent again below, on a new connection
            }
        }
        using var again = NewRequest(target, post);
        again.Headers.ConnectionClose = true;
        return await _fresh.SendAsync(again, cancellationToken).ConfigureAwait(false);
    }

    private static HttpRequestMessage NewRequest(Uri target, Post post)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, target);
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        request.Headers.TryAddWithoutValidation("webhook-id", post.MessageId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", post.Timestamp);
        request.Headers.TryAddWithoutValidation("webhook-signature", post.Signature);
        request.Content = new ByteArrayContent(post.Body) { Headers = { ContentType = JsonContentType } };
        return request;
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
            return date - _time.GetUtcNow();
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

    /// <summary>
    /// The URL without its user information and without its query: either may carry a secret (a password, the receiver's
    /// token). Scheme, host, port and path are kept.
    /// </summary>
    public static string Redact(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var text = url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        return string.IsNullOrEmpty(url.Query) ? text : text + "?…";
    }

    /// <summary>
    /// The handler every delivery uses: SSRF checks at connect time, stale pooled connections told apart
    /// (<see cref="DeliveryConnection"/>), no automatic redirects, no proxy, no cookies. Without
    /// <paramref name="reuseConnections"/> each connection serves one request and is closed.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(NetworkPolicy policy, bool reuseConnections = true)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new SocketsHttpHandler
        {
            ConnectCallback = policy.ConnectAsync,
            // Above TLS, where the stream carries HTTP: a handshake's reads and writes are not an exchange.
            PlaintextStreamFilter = static (context, _) => ValueTask.FromResult<Stream>(new DeliveryConnection(context.PlaintextStream)),
            AllowAutoRedirect = false,
            // A webhook carries the contract's headers only: no traceparent of ours goes to a partner.
            ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            // Zero: a connection is closed when its request is done, never pooled (HttpConnectionPool.CheckExpirationOnReturn).
            PooledConnectionLifetime = reuseConnections ? TimeSpan.FromMinutes(5) : TimeSpan.Zero,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            MaxConnectionsPerServer = int.MaxValue,
        };
    }
}
