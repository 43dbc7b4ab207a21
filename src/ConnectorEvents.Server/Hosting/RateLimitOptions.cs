using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// Configuration section <c>RateLimits</c>. Each limit is a token bucket that refills every second; 0 turns it off.
/// The address is the connection's remote address (behind a proxy, the proxy's).
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>
    /// Requests per second one API key may make, with as many again in a burst (default 10,000: above what one process
    /// carries, so it stops a runaway caller, never a busy one).
    /// </summary>
    public int PerKeyRequestsPerSecond { get; set; } = 10_000;

    /// <summary>
    /// Requests per second from one address (see <see cref="ProxyOptions"/> behind a proxy) that passed authentication or
    /// need none, with as many again in a burst (default 20,000); health checks are not counted.
    /// </summary>
    public int PerAddressRequestsPerSecond { get; set; } = 20_000;

    /// <summary>
    /// Failed authentications (a wrong API key, wrong WebSocket tokens) one address may make in a minute (default 20); past
    /// it, every request from the address that must authenticate is answered 429 until the minute is over.
    /// </summary>
    public int FailedAuthenticationsPerMinute { get; set; } = 20;
}

/// <summary>Reports every problem of the <c>RateLimits</c> section at once.</summary>
public sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    private const int Most = 10_000_000;

    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        foreach (var (key, value) in new[]
        {
            ("RateLimits:PerKeyRequestsPerSecond", options.PerKeyRequestsPerSecond),
            ("RateLimits:PerAddressRequestsPerSecond", options.PerAddressRequestsPerSecond),
            ("RateLimits:FailedAuthenticationsPerMinute", options.FailedAuthenticationsPerMinute),
        })
        {
            if (value is < 0 or > Most)
            {
                errors.Add($"{key} must be between 0 (no limit) and {Most}.");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
