using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using ConnectorEvents.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NSec.Cryptography;

namespace ConnectorEvents.Receiver;

/// <summary>
/// The endpoint's pipeline: content type, URL token, body size, signature, reading, de-duplication, then handlers
/// (inline or queued). Every refusal is a problem-details answer and runs no handler.
/// </summary>
internal sealed class WebhookProcessor
{
    private readonly ConnectorWebhookOptions _options;
    private readonly IReadOnlyList<byte[]> _secrets;
    private readonly IReadOnlyList<PublicKey> _publicKeys;
    private readonly byte[]? _token;
    private readonly TimeProvider _time;
    private readonly IWebhookDeduplicationStore _store;
    private readonly WebhookDispatcher _dispatcher;
    private readonly WebhookQueue _queue;
    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger<WebhookProcessor> _logger;
    private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);

    public WebhookProcessor(
        IOptions<ConnectorWebhookOptions> options,
        IWebhookDeduplicationStore store,
        WebhookDispatcher dispatcher,
        WebhookQueue queue,
        IServiceScopeFactory scopes,
        IServiceProvider services,
        ILogger<WebhookProcessor> logger)
    {
        _options = options.Value;
        // Read once here (the validator has checked them), not per request.
        _secrets = [.. _options.SigningSecrets.Select(secret => StandardWebhookVerifier.TryReadKey(secret)!)];
        _publicKeys = [.. _options.PublicKeys.Select(key => StandardWebhookVerifier.TryReadPublicKey(key)!)];
        _token = _options.UrlToken is null ? null : Encoding.UTF8.GetBytes(_options.UrlToken);
        _time = _options.TimeProvider ?? services.GetService<TimeProvider>() ?? TimeProvider.System;
        _store = store;
        _dispatcher = dispatcher;
        _queue = queue;
        _scopes = scopes;
        _logger = logger;
    }

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var cancellationToken = context.RequestAborted;

        if (!IsJson(request.ContentType))
        {
            return Refuse(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "The body must be sent as application/json.");
        }
        if (_token is not null && !TokenMatches(request.Query["Token"]))
        {
            return Refuse(StatusCodes.Status401Unauthorized, "Unauthorized", "The URL token is missing or wrong.");
        }
        if (request.ContentLength > _options.MaxBodySize)
        {
            return TooLarge();
        }

        byte[]? body;
        try
        {
            body = await ReadBodyAsync(request.Body, (int)_options.MaxBodySize, cancellationToken).ConfigureAwait(false);
        }
        catch (BadHttpRequestException error)
        {
            return Refuse(error.StatusCode, "Bad request", "The body could not be read.");
        }
        if (body is null)
        {
            return TooLarge();
        }

        var headers = request.Headers;
        string webhookId = headers["webhook-id"].ToString();
        DateTimeOffset? timestamp = null;
        if (_options.RequireSignature)
        {
            var result = StandardWebhookVerifier.Verify(_secrets, _publicKeys, webhookId, headers["webhook-timestamp"].ToString(),
                headers["webhook-signature"].ToString(), body, _time.GetUtcNow(), _options.TimestampTolerance, out var unixTimestamp);
            if (result != VerificationResult.Valid)
            {
                return Refuse(StatusCodes.Status401Unauthorized, "Invalid signature", result switch
                {
                    VerificationResult.MissingHeaders => "The webhook-id, webhook-timestamp and webhook-signature headers are required.",
                    VerificationResult.InvalidTimestamp => "webhook-timestamp is not a Unix time in seconds.",
                    VerificationResult.TimestampOutOfTolerance => "webhook-timestamp is outside the accepted tolerance.",
                    _ => "No signature in webhook-signature matches.",
                });
            }
            timestamp = DateTimeOffset.FromUnixTimeSeconds(unixTimestamp);
        }

        WebhookReading reading;
        try
        {
            reading = WebhookReader.Read(body);
        }
        catch (ContractReadException error)
        {
            return Refuse(StatusCodes.Status400BadRequest, "Unreadable webhook", error.Message);
        }
#pragma warning disable CA1031 // Whatever the reader throws on a hostile body, the answer is 400, never 500.
        catch (Exception error) when (error is not OperationCanceledException)
#pragma warning restore CA1031
        {
            Log.ReaderFailed(_logger, error);
            return Refuse(StatusCodes.Status400BadRequest, "Unreadable webhook", "The body is not a Connector webhook.");
        }

        var hasId = webhookId.Length > 0;
        if (hasId && await _store.IsProcessedAsync(webhookId, cancellationToken).ConfigureAwait(false))
        {
            Log.Duplicate(_logger, webhookId);
            return TypedResults.Ok();
        }
        if (hasId && !_inFlight.TryAdd(webhookId, 0))
        {
            Log.InFlight(_logger, webhookId);
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "In progress",
                detail: "This webhook-id is being processed; retry later.");
        }

        if (_options.ProcessingMode == WebhookProcessingMode.AcknowledgeThenProcess)
        {
            if (_queue.TryEnqueue(new QueuedWebhook(webhookId, timestamp, reading)))
            {
                return TypedResults.Accepted((string?)null);
            }
            Release(webhookId);
            Log.QueueFull(_logger, _options.QueueCapacity);
            context.Response.Headers.RetryAfter = ((long)Math.Ceiling(_options.QueueFullRetryAfter.TotalSeconds))
                .ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Busy",
                detail: "The webhook queue is full; retry later.");
        }

        try
        {
            await _dispatcher.DispatchAsync(new WebhookDelivery(webhookId, timestamp, reading, context.RequestServices), cancellationToken)
                .ConfigureAwait(false);
            if (hasId)
            {
                await _store.MarkProcessedAsync(webhookId, CancellationToken.None).ConfigureAwait(false);
            }
            return TypedResults.Ok();
        }
#pragma warning disable CA1031 // A handler's failure becomes 500, so the sender retries.
        catch (Exception error)
#pragma warning restore CA1031
        {
            Log.HandlerFailed(_logger, error, webhookId, WebhookDispatcher.Describe(reading));
            return Results.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "Handler failed",
                detail: "The webhook could not be processed; it will be accepted when sent again.");
        }
        finally
        {
            Release(webhookId);
        }
    }

    /// <summary>One queued attempt: handlers in a fresh scope, then the id is remembered.</summary>
    public async Task ProcessQueuedAsync(QueuedWebhook item, CancellationToken cancellationToken)
    {
        var hasId = item.WebhookId.Length > 0;
        if (hasId && await _store.IsProcessedAsync(item.WebhookId, cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            await _dispatcher.DispatchAsync(new WebhookDelivery(item.WebhookId, item.Timestamp, item.Reading, scope.ServiceProvider), cancellationToken)
                .ConfigureAwait(false);
        }
        if (hasId)
        {
            await _store.MarkProcessedAsync(item.WebhookId, CancellationToken.None).ConfigureAwait(false);
        }
    }

    public void Release(string webhookId)
    {
        if (webhookId.Length > 0)
        {
            _inFlight.TryRemove(webhookId, out _);
        }
    }

    private IResult TooLarge() => Refuse(StatusCodes.Status413PayloadTooLarge, "Payload too large",
        $"The body is larger than {_options.MaxBodySize} bytes.");

    private IResult Refuse(int status, string title, string detail)
    {
        Log.Refused(_logger, status, detail);
        return Results.Problem(statusCode: status, title: title, detail: detail);
    }

    private bool TokenMatches(string? offered)
    {
        if (offered is null || _token is null)
        {
            return false;
        }
        // Hash both sides so the comparison takes the same time whatever the lengths.
        var expected = SHA256.HashData(_token);
        var actual = SHA256.HashData(Encoding.UTF8.GetBytes(offered));
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    private static bool IsJson(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed) || parsed.MediaType is not { } mediaType)
        {
            return false;
        }
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase)
                && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The whole body, or null when it is longer than <paramref name="limit"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
