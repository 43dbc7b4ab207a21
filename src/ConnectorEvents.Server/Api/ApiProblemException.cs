namespace ConnectorEvents.Server.Api;

/// <summary>An error answer, turned into RFC 9457 problem details by <see cref="ProblemExceptionHandler"/>.</summary>
public sealed class ApiProblemException(int status, string title, string detail, IDictionary<string, string[]>? errors = null)
    : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public IDictionary<string, string[]>? Errors { get; } = errors;

    /// <summary>Sent as <c>Retry-After</c>, in seconds; a 503 without it says 5.</summary>
    public int? RetryAfterSeconds { get; init; }

    public static ApiProblemException Invalid(string field, string reason) =>
        new(StatusCodes.Status400BadRequest, "The request is invalid.", $"{field}: {reason}",
            new Dictionary<string, string[]> { [field] = [reason] });

    public static ApiProblemException NotFound(string what, string id) =>
        new(StatusCodes.Status404NotFound, "Not found.", $"No {what} has the id '{id}'.");
}
