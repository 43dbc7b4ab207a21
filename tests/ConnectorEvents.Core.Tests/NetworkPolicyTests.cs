using System.Net;
using ConnectorEvents.Core.Delivery;
using Xunit;

namespace ConnectorEvents.Core.Tests;

public sealed class NetworkPolicyTests
{
    private static readonly NetworkPolicy Default = new(new DeliveryOptions());

    [Theory]
    [InlineData("127.0.0.1")]            // loopback
    [InlineData("127.255.255.254")]      // loopback, whole /8
    [InlineData("10.1.2.3")]             // private
    [InlineData("172.16.0.1")]           // private
    [InlineData("172.31.255.255")]       // private, end of the /12
    [InlineData("192.168.1.1")]          // private
    [InlineData("169.254.169.254")]      // cloud metadata
    [InlineData("100.64.0.1")]           // carrier-grade NAT
    [InlineData("0.0.0.0")]              // unspecified
    [InlineData("224.0.0.1")]            // multicast
    [InlineData("255.255.255.255")]      // broadcast
    [InlineData("::1")]                  // IPv6 loopback
    [InlineData("::")]                   // IPv6 unspecified
    [InlineData("fe80::1")]              // IPv6 link-local
    [InlineData("fc00::1")]              // IPv6 unique local
    [InlineData("fd12:3456:789a::1")]    // IPv6 unique local
    [InlineData("ff02::1")]              // IPv6 multicast
    [InlineData("::ffff:127.0.0.1")]     // IPv4-mapped loopback
    [InlineData("::ffff:169.254.169.254")] // IPv4-mapped metadata
    [InlineData("::ffff:10.0.0.1")]      // IPv4-mapped private
    [InlineData("64:ff9b::a9fe:a9fe")]   // NAT64 of 169.254.169.254
    [InlineData("64:ff9b::7f00:1")]      // NAT64 of 127.0.0.1
    [InlineData("2002:7f00:0001::1")]    // 6to4 of 127.0.0.1
    [InlineData("2002:a9fe:a9fe::1")]    // 6to4 of 169.254.169.254
    [InlineData("::127.0.0.1")]          // IPv4-compatible loopback
    public void Internal_addresses_are_refused_by_default(string address)
    {
        Assert.False(Default.IsAllowed(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("172.32.0.1")]           // just past the private /12
    [InlineData("100.128.0.1")]          // just past carrier-grade NAT
    [InlineData("2606:2800:220:1::1")]
    [InlineData("2001:4860:4860::8888")]
    [InlineData("::ffff:93.184.216.34")] // IPv4-mapped public
    [InlineData("64:ff9b::808:808")]     // NAT64 of 8.8.8.8
    [InlineData("2002:5db8:d822::1")]    // 6to4 of 93.184.216.34
    public void Public_addresses_are_allowed_by_default(string address)
    {
        Assert.True(Default.IsAllowed(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.1.2.3", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("10.0.0.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("::1", false)]
    [InlineData("8.8.8.8", true)]
    public void An_allowed_network_opens_that_range_only(string address, bool allowed)
    {
        var policy = new NetworkPolicy(new DeliveryOptions { AllowedNetworks = ["127.0.0.0/8"] });

        Assert.Equal(allowed, policy.IsAllowed(IPAddress.Parse(address)));
    }

    [Fact]
    public void An_allowed_ipv6_network_opens_that_range_only()
    {
        var policy = new NetworkPolicy(new DeliveryOptions { AllowedNetworks = ["fd00::/8", "::1/128"] });

        Assert.True(policy.IsAllowed(IPAddress.Parse("fd00::5")));
        Assert.True(policy.IsAllowed(IPAddress.IPv6Loopback));
        Assert.False(policy.IsAllowed(IPAddress.Parse("fc00::1")));
        Assert.False(policy.IsAllowed(IPAddress.Loopback));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("169.254.169.254")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("8.8.8.8")]
    public void With_the_guard_off_every_address_is_allowed(string address)
    {
        var policy = new NetworkPolicy(new DeliveryOptions { BlockPrivateNetworks = false });

        Assert.True(policy.IsAllowed(IPAddress.Parse(address)));
    }
}
