namespace ConnectorEvents.Core.Delivery;

/// <summary>When to try a failed message again, from the configured schedule, jitter and <c>Retry-After</c>.</summary>
public sealed class RetryPolicy(DeliveryOptions options, Random random)
{
    /// <summary>
    /// The delay before the next attempt after <paramref name="attemptsMade"/> failed attempts,
    /// or null when the schedule is exhausted and the message is given up.
    /// </summary>
    public TimeSpan? NextDelay(int attemptsMade, TimeSpan? retryAfter)
    {
        var schedule = options.EffectiveRetrySchedule;
        if (attemptsMade < 1 || attemptsMade > schedule.Count)
        {
            return null;
        }
        if (retryAfter is { } asked)
        {
            return asked < TimeSpan.Zero ? TimeSpan.Zero : asked > options.MaxRetryAfter ? options.MaxRetryAfter : asked;
        }
        var baseDelay = schedule[attemptsMade - 1];
        var spread = options.Jitter * ((random.NextDouble() * 2) - 1);
        return baseDelay * (1 + spread);
    }
}
