using ConnectorEvents.Core.Delivery;
using Xunit;

namespace ConnectorEvents.Core.Tests;

public sealed class RetryPolicyTests
{
    private static readonly TimeSpan[] DocumentedDefault =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    private static RetryPolicy Policy(DeliveryOptions options, int seed = 1234) => new(options, new Random(seed));

    [Fact]
    public void The_default_schedule_is_5s_5m_30m_2h_5h_10h_10h()
    {
        Assert.Equal(DocumentedDefault, DeliveryOptions.DefaultRetrySchedule);
        Assert.Equal(DocumentedDefault, new DeliveryOptions().EffectiveRetrySchedule);
        Assert.Equal(0.2, new DeliveryOptions().Jitter);
    }

    [Fact]
    public void Without_jitter_each_attempt_waits_exactly_its_scheduled_delay()
    {
        var policy = Policy(new DeliveryOptions { Jitter = 0 });

        for (var attempt = 1; attempt <= DocumentedDefault.Length; attempt++)
        {
            Assert.Equal(DocumentedDefault[attempt - 1], policy.NextDelay(attempt, retryAfter: null));
        }
    }

    [Fact]
    public void Jitter_stays_within_twenty_percent_either_way_and_actually_varies()
    {
        var policy = Policy(new DeliveryOptions());

        for (var attempt = 1; attempt <= DocumentedDefault.Length; attempt++)
        {
            var scheduled = DocumentedDefault[attempt - 1];
            var samples = Enumerable.Range(0, 2000).Select(_ => policy.NextDelay(attempt, null)!.Value).ToArray();

            Assert.All(samples, d => Assert.InRange(d, scheduled * 0.8, scheduled * 1.2));
            Assert.True(samples.Distinct().Count() > 1000, $"attempt {attempt}: jitter should spread the delays");
            // Both sides of the scheduled delay are used, well away from it.
            Assert.True(samples.Min() < scheduled * 0.9, $"attempt {attempt}: no delay was shortened by more than 10%");
            Assert.True(samples.Max() > scheduled * 1.1, $"attempt {attempt}: no delay was lengthened by more than 10%");
        }
    }

    [Fact]
    public void A_custom_jitter_bounds_the_spread_by_that_fraction()
    {
        var policy = Policy(new DeliveryOptions { Jitter = 0.5, RetrySchedule = [TimeSpan.FromMinutes(10)] });

        var samples = Enumerable.Range(0, 1000).Select(_ => policy.NextDelay(1, null)!.Value).ToArray();

        Assert.All(samples, d => Assert.InRange(d, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15)));
        Assert.True(samples.Min() < TimeSpan.FromMinutes(6));
        Assert.True(samples.Max() > TimeSpan.FromMinutes(14));
    }

    [Fact]
    public void The_same_seed_gives_the_same_delays()
    {
        var first = Policy(new DeliveryOptions(), seed: 7);
        var second = Policy(new DeliveryOptions(), seed: 7);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(first.NextDelay(3, null), second.NextDelay(3, null));
        }
    }

    [Fact]
    public void After_the_last_scheduled_attempt_the_message_is_given_up()
    {
        var policy = Policy(new DeliveryOptions());

        Assert.NotNull(policy.NextDelay(7, null));
        Assert.Null(policy.NextDelay(8, null));
        Assert.Null(policy.NextDelay(100, null));
    }

    [Fact]
    public void A_retry_after_does_not_extend_an_exhausted_schedule()
    {
        var policy = Policy(new DeliveryOptions());

        Assert.Null(policy.NextDelay(8, TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void No_attempt_made_yet_has_no_retry_delay(int attemptsMade)
    {
        Assert.Null(Policy(new DeliveryOptions()).NextDelay(attemptsMade, null));
    }

    [Fact]
    public void A_retry_after_within_bounds_is_used_as_given_without_jitter()
    {
        var policy = Policy(new DeliveryOptions());

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(TimeSpan.FromSeconds(42), policy.NextDelay(1, TimeSpan.FromSeconds(42)));
            Assert.Equal(TimeSpan.FromMinutes(20), policy.NextDelay(6, TimeSpan.FromMinutes(20)));
        }
    }

    [Fact]
    public void A_retry_after_longer_than_the_maximum_is_clamped_to_it()
    {
        var policy = Policy(new DeliveryOptions());

        Assert.Equal(TimeSpan.FromHours(1), new DeliveryOptions().MaxRetryAfter);
        Assert.Equal(TimeSpan.FromHours(1), policy.NextDelay(1, TimeSpan.FromDays(3)));
        Assert.Equal(TimeSpan.FromHours(1), policy.NextDelay(1, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void A_retry_after_in_the_past_means_now()
    {
        var policy = Policy(new DeliveryOptions());

        Assert.Equal(TimeSpan.Zero, policy.NextDelay(2, TimeSpan.FromSeconds(-30)));
        Assert.Equal(TimeSpan.Zero, policy.NextDelay(2, TimeSpan.Zero));
    }

    [Fact]
    public void A_configured_maximum_retry_after_is_honoured()
    {
        var policy = Policy(new DeliveryOptions { MaxRetryAfter = TimeSpan.FromSeconds(10) });

        Assert.Equal(TimeSpan.FromSeconds(10), policy.NextDelay(1, TimeSpan.FromMinutes(1)));
        Assert.Equal(TimeSpan.FromSeconds(3), policy.NextDelay(1, TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public void A_custom_schedule_replaces_the_default_one_and_its_length_sets_the_attempts()
    {
        var policy = Policy(new DeliveryOptions
        {
            Jitter = 0,
            RetrySchedule = [TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30)],
        });

        Assert.Equal(TimeSpan.FromMilliseconds(100), policy.NextDelay(1, null));
        Assert.Equal(TimeSpan.FromSeconds(2), policy.NextDelay(2, null));
        Assert.Equal(TimeSpan.FromSeconds(30), policy.NextDelay(3, null));
        Assert.Null(policy.NextDelay(4, null));
    }

    [Fact]
    public void An_empty_schedule_gives_up_after_the_first_attempt()
    {
        var policy = Policy(new DeliveryOptions { RetrySchedule = [] });

        Assert.Null(policy.NextDelay(1, null));
        Assert.Null(policy.NextDelay(1, TimeSpan.FromSeconds(5)));
    }
}
