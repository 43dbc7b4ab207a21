using System.Data.Common;
using ConnectorEvents.Core;
using ConnectorEvents.Core.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace ConnectorEvents.Server.Api;

/// <summary>Every error leaves as problem details; nothing internal (and no secret) reaches the body.</summary>
public sealed partial class ProblemExceptionHandler(
    IProblemDetailsService problems, IConnectorStore store, TimeProvider time, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>Reads that fail on unavailable storage log one line per this interval, with how many failed since the last.</summary>
    private static readonly TimeSpan StorageLogInterval = TimeSpan.FromSeconds(10);

    private long _storageFailures;
    private long _storageLoggedTicks = long.MinValue;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var details = exception switch
        {
            ApiProblemException p => Details(p.Status, p.Title, p.Message, p.Errors),
            DomainException { Kind: DomainErrorKind.NotFound } d => Details(404, "Not found.", d.Message),
            DomainException { Kind: DomainErrorKind.Conflict } d => Details(409, "The command conflicts with the current state.", d.Message),
            DomainException { Kind: DomainErrorKind.Unprocessable } d => Details(422, "The request contradicts an earlier one.", d.Message),
            DomainException d => Details(400, "The request is invalid.", d.Message,
                d.Field is null ? null : new Dictionary<string, string[]> { [d.Field] = [d.Message] }),
            BadHttpRequestException b => Details(b.StatusCode, "The request could not be read.", b.Message),
            StorageUnavailableException { MayHaveApplied: true } => Details(503, "Storage is unavailable.",
                "The database's answer to the commit was lost and it could not be asked in time whether the change was applied: " +
                "it may have been. Retry with the same Idempotency-Key, which applies it at most once, or read before retrying."),
            StorageUnavailableException => Details(503, "Storage is unavailable.",
                "The change could not be written to disk and was not applied. Try again later."),
            // A read that met the database down, frozen past its time-out, out of connections, or a failing disk: the
            // storage, not the request. Any other database error may be a defect and stays an unexpected error.
            DbException db when store.DescribeUnavailable(db) is { } reason => StorageFailed(reason),
            _ => null,
        };
        if (details is null)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            details = Details(500, "An unexpected error occurred.", "The error was logged.");
        }
        else if (details.Status < 500)
        {
            // A client's mistake says nothing about the server: one short line, without the exception, below what is logged by
            // default. Failed authentications get their Warning from FailedAuthentications, once per address and minute.
            if (logger.IsEnabled(LogLevel.Debug))
            {
                var route = RouteOf(httpContext);
                LogClientMistake(logger, details.Status!.Value, httpContext.Request.Method, route);
            }
        }
        // Set here: the exception handler has cleared whatever headers the failing code set.
        if (exception is ApiProblemException { CloseConnection: true })
        {
            httpContext.Response.Headers.Connection = "close";
        }
        if (exception is ApiProblemException { RetryAfter: { } wait })
        {
            httpContext.Response.Headers.RetryAfter = RateLimits.WholeSeconds(wait);
        }
        else if (details.Status == 503)
        {
            httpContext.Response.Headers.RetryAfter = "5";
        }
        if (details.Status == 401 && httpContext.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            // The API takes bearer keys; the WebSocket endpoint takes cookies, for which no challenge scheme exists.
            httpContext.Response.Headers.WWWAuthenticate = "Bearer";
        }
        httpContext.Response.StatusCode = details.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = details,
            Exception = exception,
        }).ConfigureAwait(false);
    }

    private ProblemDetails StorageFailed(string reason)
    {
        var failures = Interlocked.Increment(ref _storageFailures);
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _storageLoggedTicks);
        if ((last == long.MinValue || time.GetElapsedTime(last, now) >= StorageLogInterval)
            && Interlocked.CompareExchange(ref _storageLoggedTicks, now, last) == last)
        {
            Interlocked.Add(ref _storageFailures, -failures);
            LogStorageUnavailable(logger, reason, failures);
        }
        return Details(503, "Storage is unavailable.", $"Storage could not be read ({reason}); nothing was changed. Try again later.");
    }

    /// <summary>The detail of a problem the framework wrote without one.</summary>
    public static string DefaultDetail(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var status = context.Response.StatusCode;
        return status switch
        {
            404 => "No route matches this path; see /openapi/v1.json.",
            405 => $"This route does not take {context.Request.Method}; the Allow header lists the methods it takes.",
            415 => "Send the body as JSON with 'Content-Type: application/json'.",
            _ => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase + "." : $"HTTP {status}.",
        };
    }

    private static ProblemDetails Details(int status, string title, string detail, IDictionary<string, string[]>? errors = null)
    {
        var details = errors is null
            ? new ProblemDetails()
            : new HttpValidationProblemDetails(errors);
        details.Status = status;
        details.Title = title;
        details.Detail = detail;
        return details;
    }

    /// <summary>The route's template, short and free of what the caller typed; the path may be kilobytes of it.</summary>
    private static string RouteOf(HttpContext context) =>
        (context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint()) is RouteEndpoint route
            ? route.RoutePattern.RawText ?? "(unnamed route)"
            : "(no route)";

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(EventId = LogEventIds.StorageReadFailed, Level = LogLevel.Warning,
        Message = "Requests failed on unavailable storage ({Reason}): {Failures} since the last such line, answered 503")]
    private static partial void LogStorageUnavailable(ILogger logger, string reason, long failures);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Answered {Status} to {Method} {Route}")]
    private static partial void LogClientMistake(ILogger logger, int status, string method, string route);
}
