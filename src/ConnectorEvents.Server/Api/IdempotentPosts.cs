using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ConnectorEvents.Core.Idempotency;
using ConnectorEvents.Core.Ingest;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// <c>Idempotency-Key</c> on every management POST (ingest keeps its own, per enterprise). The key is recorded in the
/// transaction of the command's first write, and the answer is recorded before it is sent, so a client may send the same
/// request again whenever it did not get an answer (a time-out, a cut connection, a 503 that says the change may have been
/// applied): the change is applied at most once and the retry gets the first answer with <c>Idempotent-Replayed: true</c>.
/// A command refused (4xx) or not applied (503) records nothing, so its retry runs again. Keys are per caller (API key), kept
/// for <c>Ingest:IdempotencyKeyRetention</c>.
/// </summary>
public static class IdempotentPosts
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxKeyLength = 255;

    /// <summary>Adds the key handling to every POST endpoint of <paramref name="builder"/> except ingest's.</summary>
    public static TBuilder WithIdempotentPosts<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        // A POST without a key goes straight on: through an async filter of its own it cost every command a state machine.
        builder.AddEndpointFilter(static (invocation, next) =>
            HttpMethods.IsPost(invocation.HttpContext.Request.Method)
            && invocation.HttpContext.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName != IngestEndpoints.EndpointName
            && invocation.HttpContext.Request.ReadIdempotencyKey() is { } key
                ? InvokeAsync(invocation, next, key)
                : next(invocation));
        return builder;
    }

    /// <summary>The request's key, or null without one; a malformed one is a 400.</summary>
    public static string? ReadIdempotencyKey(this HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Headers.TryGetValue(Header, out var values))
        {
            return null;
        }
        var key = values.Count == 1 ? values[0] : null;
        if (string.IsNullOrEmpty(key) || key.Length > MaxKeyLength || key.Any(c => c is < '!' or > '~'))
        {
            throw ApiProblemException.Invalid(Header, $"must be one value of 1 to {MaxKeyLength} printable ASCII characters without spaces.");
        }
        return key;
    }

    private static async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next, string key)
    {
        var http = invocation.HttpContext;
        var services = http.RequestServices;
        var command = new IdempotentCommand(http.User.Identity?.Name ?? "anonymous", key, await HashAsync(http.Request).ConfigureAwait(false),
            services.GetRequiredService<IOptions<IngestOptions>>().Value.IdempotencyKeyRetention);
        object? result;
        IdempotentCommand.Current = command;
        try
        {
            result = await next(invocation).ConfigureAwait(false);
        }
        catch (IdempotentReplayException replay)
        {
            return new Replay(replay.Response);
        }
        finally
        {
            IdempotentCommand.Current = null;
        }
        if (!command.Recorded || result is not IResult answer)
        {
            return result; // nothing was written, so nothing is recorded: a retry runs again
        }
        // The answer as it goes out, recorded before it is sent: a retry after it gets the same bytes.
        var recorded = await RenderAsync(http, answer).ConfigureAwait(false);
        await services.GetRequiredService<GroupCommitWriter>().ExecuteAsync(tx =>
        {
            tx.SetIdempotentResponse(command.Caller, command.Key, JsonSerializer.SerializeToUtf8Bytes(recorded, ApiJsonContext.Default.RecordedAnswer));
            return true;
        }).ConfigureAwait(false);
        await http.Response.Body.WriteAsync(recorded.Body, http.RequestAborted).ConfigureAwait(false);
        return Results.Empty;
    }

    /// <summary>What a retry is compared by: the method, the path and the body.</summary>
    private static async Task<byte[]> HashAsync(HttpRequest request)
    {
        request.EnableBuffering();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method} {request.Path}\n"));
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }
        request.Body.Position = 0; // for the endpoint
        return hash.GetHashAndReset();
    }

    /// <summary>Runs the result into a buffer; status and headers are set on the response, the body is returned.</summary>
    private static async Task<RecordedAnswer> RenderAsync(HttpContext http, IResult answer)
    {
        var body = http.Response.Body;
        using var buffer = new MemoryStream();
        http.Response.Body = buffer;
        try
        {
            await answer.ExecuteAsync(http).ConfigureAwait(false);
        }
        finally
        {
            http.Response.Body = body;
        }
        var location = http.Response.Headers.Location;
        return new RecordedAnswer(http.Response.StatusCode, location.Count == 1 ? location[0] : null, http.Response.ContentType, buffer.ToArray());
    }

    /// <summary>The answer recorded for a key, sent again.</summary>
    private sealed class Replay(byte[] stored) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var answer = JsonSerializer.Deserialize(stored, ApiJsonContext.Default.RecordedAnswer)!;
            var response = httpContext.Response;
            response.StatusCode = answer.Status;
            if (answer.Location is { } location)
            {
                response.Headers.Location = location;
            }
            response.ContentType = answer.ContentType;
            response.Headers[ReplayedHeader] = "true";
            response.ContentLength = answer.Body.Length;
            await response.Body.WriteAsync(answer.Body, httpContext.RequestAborted).ConfigureAwait(false);
        }
    }
}

/// <summary>An answer as it was sent, kept for a retry with the same <c>Idempotency-Key</c>.</summary>
public sealed record RecordedAnswer(int Status, string? Location, string? ContentType, byte[] Body);
