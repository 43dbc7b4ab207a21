using System.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// Writes every problem as <c>application/problem+json</c>, whatever the request's <c>Accept</c> header says, for the
/// exception handler, status-code pages (routing's 404, 405, 415) and anything else that asks
/// <see cref="IProblemDetailsService"/>. The framework's own writer declines when Accept names neither JSON nor a wildcard
/// (a plain <c>Accept: text/html</c>, <c>application/xml</c>); the exception handler was then left without an answer,
/// logged the client's mistake as an unhandled error with its stack trace, and answered 500 (for a 404) or an empty body
/// (401, 400, 409). The API has no other form of an error, so it sends this one: RFC 9110 (section 12.5.1) lets a server
/// disregard Accept rather than answer 406.
/// </summary>
public sealed class ProblemJsonWriter(IOptions<ProblemDetailsOptions> problemOptions, IOptions<JsonOptions> jsonOptions)
    : IProblemDetailsWriter
{
    public const string ContentType = "application/problem+json";

    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Status ??= http.Response.StatusCode;
        var status = problem.Status.Value;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : $"HTTP {status}";
        problem.Type ??= TypeOf(status);
        // The id a 500 ("The error was logged.") is found by in the log.
        problem.Extensions.TryAdd("traceId", Activity.Current?.Id ?? http.TraceIdentifier);
        problemOptions.Value.CustomizeProblemDetails?.Invoke(context);
        // The HTTP JSON options resolve ProblemDetails and its subclasses (AddProblemDetails adds their context to the chain).
        var type = jsonOptions.Value.SerializerOptions.GetTypeInfo(problem.GetType());
        return new ValueTask(http.Response.WriteAsJsonAsync(problem, type, ContentType));
    }

    /// <summary>The RFC 9110 section of a status, as the framework's writer gave it; none (about:blank) for others.</summary>
    internal static string? TypeOf(int status) => status switch
    {
        >= 400 and <= 417 => $"https://tools.ietf.org/html/rfc9110#section-15.5.{status - 399}",
        421 or 422 => $"https://tools.ietf.org/html/rfc9110#section-15.5.{status - 401}",
        426 => "https://tools.ietf.org/html/rfc9110#section-15.5.22",
        >= 500 and <= 505 => $"https://tools.ietf.org/html/rfc9110#section-15.6.{status - 499}",
        _ => null,
    };
}
