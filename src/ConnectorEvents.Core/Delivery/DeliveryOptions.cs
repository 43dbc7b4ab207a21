using System.Net;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Delivery;

/// <summary>Configuration section <c>Delivery</c>.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    public static IReadOnlyList<TimeSpan> DefaultRetrySchedule { get; } =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    /// <summary>How long one attempt (all its redirect hops) may take. The contract asks receivers for 5 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>307/308 hops followed in one attempt.</summary>
    public int MaxRedirects { get; set; } = 5;

    /// <summary>Delays before each retry; null means <see cref="DefaultRetrySchedule"/>.</summary>
    public TimeSpan[]? RetrySchedule { get; set; }

    /// <summary>
    /// An endpoint whose every attempt failed for this long is disabled the way a 410 disables it (default 5 days; zero:
    /// never). Counted by each process from the first failure it saw after a success, so a restart starts the count again.
    /// </summary>
    public TimeSpan DisableEndpointAfter { get; set; } = TimeSpan.FromDays(5);

    /// <summary>Each delay is spread by ± this fraction so that failed receivers are not hit in waves.</summary>
    public double Jitter { get; set; } = 0.2;

    /// <summary>A receiver's <c>Retry-After</c> is honoured up to this long.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Requests in flight at once, all endpoints together.</summary>
    public int MaxConcurrency { get; set; } = 512;

    /// <summary>Requests in flight at once to one endpoint URL, so a slow one cannot take every slot.</summary>
    public int MaxConcurrencyPerEndpoint { get; set; } = 32;

    /// <summary>Guard against server-side request forgery: refuse loopback, private and link-local targets.</summary>
    public bool BlockPrivateNetworks { get; set; } = true;

    /// <summary>CIDR ranges opened on purpose despite the guard, e.g. <c>127.0.0.0/8</c> for local trials.</summary>
    public string[]? AllowedNetworks { get; set; }

    /// <summary>
    /// On a graceful stop, how long the sends under way may take to finish so that their outcomes are recorded; a send
    /// still running then is cancelled and sent again after the restart.
    /// </summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Pending messages of one lane kept in memory; the rest are paged in from storage. A lane sends one at a time, so a few
    /// suffice while a refill is on its way: 64 held 64,000 bodies over 1,000 lanes during a drain of a million (scenario 10).
    /// </summary>
    public int InMemoryWindowPerIntegration { get; set; } = 8;

    /// <summary>How General events are batched into messages (section <c>Delivery:General</c>).</summary>
    public GeneralBatchingOptions General { get; set; } = new();

    public IReadOnlyList<TimeSpan> EffectiveRetrySchedule => RetrySchedule ?? DefaultRetrySchedule;
}

/// <summary>Configuration section <c>Delivery:General</c>.</summary>
public sealed class GeneralBatchingOptions
{
    /// <summary>
    /// How long an idle integration waits after an event before its message is formed, to gather more. Zero (the
    /// default) adds no wait: a message takes whatever is pending when the integration's turn comes, so events that
    /// arrive while a message is in flight still travel together in the next one.
    /// </summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.Zero;

    /// <summary>Events in one message; more roll over into the next. The platform says "in the order of hundreds".</summary>
    public int MaxEventsPerMessage { get; set; } = 250;
}

public sealed class DeliveryOptionsValidator : IValidateOptions<DeliveryOptions>
{
    public ValidateOptionsResult Validate(string? name, DeliveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromMinutes(5))
        {
            errors.Add("Delivery:Timeout must be more than 0 and at most 00:05:00.");
        }
        if (options.MaxRedirects is < 0 or > 20)
        {
            errors.Add("Delivery:MaxRedirects must be between 0 and 20.");
        }
        if (options.RetrySchedule is { } schedule && schedule.Any(d => d < TimeSpan.Zero))
        {
            errors.Add("Delivery:RetrySchedule entries must not be negative.");
        }
        if (options.Jitter is < 0 or > 1 || double.IsNaN(options.Jitter))
        {
            errors.Add("Delivery:Jitter must be between 0 and 1.");
        }
        if (options.DisableEndpointAfter < TimeSpan.Zero)
        {
            errors.Add("Delivery:DisableEndpointAfter must not be negative (00:00:00 never disables).");
        }
        if (options.MaxRetryAfter < TimeSpan.Zero)
        {
            errors.Add("Delivery:MaxRetryAfter must not be negative.");
        }
        if (options.MaxConcurrency < 1)
        {
            errors.Add("Delivery:MaxConcurrency must be at least 1.");
        }
        if (options.MaxConcurrencyPerEndpoint < 1)
        {
            errors.Add("Delivery:MaxConcurrencyPerEndpoint must be at least 1.");
        }
        if (options.ShutdownGracePeriod < TimeSpan.Zero || options.ShutdownGracePeriod > TimeSpan.FromMinutes(5))
        {
            errors.Add("Delivery:ShutdownGracePeriod must be between 00:00:00 and 00:05:00.");
        }
        if (options.InMemoryWindowPerIntegration < 1)
        {
            errors.Add("Delivery:InMemoryWindowPerIntegration must be at least 1.");
        }
        if (options.General.BatchWindow < TimeSpan.Zero || options.General.BatchWindow > TimeSpan.FromMinutes(1))
        {
            errors.Add("Delivery:General:BatchWindow must be between 00:00:00 and 00:01:00.");
        }
        if (options.General.MaxEventsPerMessage is < 2 or > 10_000)
        {
            // Two at least, so a CustomerAdded always fits beside its CustomerUpdated.
            errors.Add("Delivery:General:MaxEventsPerMessage must be between 2 and 10000.");
        }
        foreach (var cidr in options.AllowedNetworks ?? [])
        {
            if (!IPNetwork.TryParse(cidr, out _))
            {
                errors.Add($"Delivery:AllowedNetworks entry '{cidr}' is not a CIDR range such as 127.0.0.0/8.");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
