namespace ConnectorEvents.Server.Api;

/// <summary>An error answer, turned into RFC 9457 problem details by <see cref="ProblemExceptionHandler"/>.</summary>
public sealed class ApiProblemException(int status, string title, string detail, IDictionary<string, string[]>? errors = null)
    : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public IDictionary<string, string[]>? Errors { get; } = errors;

    /// <summary>Sent as <c>Retry-After</c> (whole seconds) with a 429 or 503.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>
    /// Answer with <c>Connection: close</c>: a refusal before a large body was read, whose unread rest Kestrel would
    /// otherwise read and discard to keep the connection.
    /// </summary>
    public bool CloseConnection { get; init; }

    /// <summary>The caller must wait <paramref name="wait"/> before trying again.</summary>
    public static ApiProblemException TooManyRequests(string detail, TimeSpan wait) =>
        new(StatusCodes.Status429TooManyRequests, "Too many requests.", detail) { RetryAfter = wait };

    public static ApiProblemException Invalid(string field, string reason) =>
        new(StatusCodes.Status400BadRequest, "The request is invalid.", $"{field}: {reason}",
            new Dictionary<string, string[]> { [field] = [reason] });

    public static ApiProblemException NotFound(string what, string id) =>
        new(StatusCodes.Status404NotFound, "Not found.", $"No {what} has the id '{id}'.");
}
