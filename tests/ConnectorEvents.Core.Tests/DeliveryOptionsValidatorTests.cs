using ConnectorEvents.Core.Delivery;
using Xunit;

namespace ConnectorEvents.Core.Tests;

public sealed class DeliveryOptionsValidatorTests
{
    private static IEnumerable<string> FailuresOf(DeliveryOptions options)
    {
        var result = new DeliveryOptionsValidator().Validate(null, options);
        return result.Failed ? result.Failures! : [];
    }

    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.True(new DeliveryOptionsValidator().Validate(null, new DeliveryOptions()).Succeeded);
    }

    [Fact]
    public void Valid_allowed_networks_pass()
    {
        Assert.Empty(FailuresOf(new DeliveryOptions { AllowedNetworks = ["127.0.0.0/8", "::1/128", "10.0.0.0/8"] }));
    }

    [Fact]
    public void A_bad_cidr_is_named_with_its_setting()
    {
        var failure = Assert.Single(FailuresOf(new DeliveryOptions { AllowedNetworks = ["127.0.0.0/8", "localhost"] }));

        Assert.Contains("Delivery:AllowedNetworks", failure, StringComparison.Ordinal);
        Assert.Contains("'localhost'", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.0/33")]
    [InlineData("300.0.0.0/8")]
    [InlineData("")]
    public void Malformed_ranges_are_refused(string cidr)
    {
        var failure = Assert.Single(FailuresOf(new DeliveryOptions { AllowedNetworks = [cidr] }));

        Assert.Contains("Delivery:AllowedNetworks", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void A_jitter_outside_zero_to_one_is_named_with_its_setting(double jitter)
    {
        var failure = Assert.Single(FailuresOf(new DeliveryOptions { Jitter = jitter }));

        Assert.Contains("Delivery:Jitter", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_zero_timeout_is_named_with_its_setting()
    {
        var failure = Assert.Single(FailuresOf(new DeliveryOptions { Timeout = TimeSpan.Zero }));

        Assert.Contains("Delivery:Timeout", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(301)]
    public void A_shutdown_grace_period_outside_zero_to_five_minutes_is_named_with_its_setting(int seconds)
    {
        var failure = Assert.Single(FailuresOf(new DeliveryOptions { ShutdownGracePeriod = TimeSpan.FromSeconds(seconds) }));

        Assert.Contains("Delivery:ShutdownGracePeriod", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_zero_shutdown_grace_period_is_allowed() =>
        Assert.Empty(FailuresOf(new DeliveryOptions { ShutdownGracePeriod = TimeSpan.Zero }));

    [Fact]
    public void A_negative_retry_delay_is_named_with_its_setting()
    {
        var failure = Assert.Single(FailuresOf(new DeliveryOptions { RetrySchedule = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(-1)] }));

        Assert.Contains("Delivery:RetrySchedule", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var failures = FailuresOf(new DeliveryOptions
        {
            Timeout = TimeSpan.Zero,
            Jitter = -1,
            AllowedNetworks = ["nope"],
            MaxConcurrency = 0,
            MaxConcurrencyPerEndpoint = 0,
            MaxRedirects = -1,
            MaxRetryAfter = TimeSpan.FromSeconds(-1),
            InMemoryWindowPerIntegration = 0,
        }).ToList();

        Assert.Equal(8, failures.Count);
        foreach (var setting in new[]
        {
            "Delivery:Timeout", "Delivery:Jitter", "Delivery:AllowedNetworks", "Delivery:MaxConcurrency ",
            "Delivery:MaxConcurrencyPerEndpoint", "Delivery:MaxRedirects", "Delivery:MaxRetryAfter",
            "Delivery:InMemoryWindowPerIntegration",
        })
        {
            Assert.Contains(failures, f => f.Contains(setting, StringComparison.Ordinal));
        }
    }
}
