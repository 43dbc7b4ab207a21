using ConnectorEvents.Server.Api;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// Until storage is open (a start waiting for its database), the API, the WebSocket endpoint and the console answer 503 with
/// <c>Retry-After</c> instead of meeting a database without its schema. Health, metrics and the OpenAPI document answer.
/// </summary>
public sealed class StartupGate(RequestDelegate next, StartupState startup)
{
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (startup.IsStarted
            || !(context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
                || context.Request.Path.StartsWithSegments("/ws", StringComparison.OrdinalIgnoreCase)
                || context.Request.Path.StartsWithSegments(OperatorConsole.ConsoleSession.Path, StringComparison.OrdinalIgnoreCase)))
        {
            return next(context);
        }
        throw new ApiProblemException(StatusCodes.Status503ServiceUnavailable, "The server is starting.",
            $"It is waiting for storage: {startup.Waiting ?? "opening it"}. Send the request again later.")
        {
            RetryAfter = TimeSpan.FromSeconds(5),
        };
    }
}
