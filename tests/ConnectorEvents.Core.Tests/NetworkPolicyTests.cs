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
    [InlineData("::a9fe:a9fe")]          // IPv4-compatible metadata
    [InlineData("::ffff:0:127.0.0.1")]   // IPv4-translated loopback (::ffff:0:0:0/96)
    [InlineData("::ffff:0:a9fe:a9fe")]   // IPv4-translated metadata
    [InlineData("::ffff:0:10.0.0.1")]    // IPv4-translated private
    [InlineData("64:ff9b:1::7f00:1")]    // local-use NAT64 (/96 layout) of 127.0.0.1
    [InlineData("64:ff9b:1:7f00:1::")]   // local-use NAT64 (/48 layout) of 127.0.0.1
    [InlineData("64:ff9b:1::5db8:d822")] // local-use NAT64 of a public address: the whole range is refused
    [InlineData("2001:0:4136:e378:8000:63bf:80ff:fffe")] // Teredo (client 127.0.0.1 inverted): refused whole
    [InlineData("2001:0:5db8:d822::a247:27dd")]          // Teredo with public server and client: refused whole
    [InlineData("fe80::1%2")]            // IPv6 link-local with a zone
    [InlineData("febf:ffff::1")]         // IPv6 link-local, end of the /10
    [InlineData("fdff:ffff::1")]         // IPv6 unique local, end of the /7
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
    [InlineData("::ffff:0:93.184.216.34")] // IPv4-translated public
    [InlineData("::5db8:d822")]          // IPv4-compatible public
    [InlineData("64:ff9a:1::7f00:1")]    // just below the local-use NAT64 range
    [InlineData("64:ff9b:2::7f00:1")]    // just past the local-use NAT64 range
    [InlineData("2001:1::1")]            // just past Teredo
    [InlineData("fec0::1")]              // just past link-local (deprecated site-local, globally routed if at all)
    [InlineData("fbff:ffff::1")]         // just below unique local
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

    [Theory]
    [InlineData("::ffff:0:127.0.0.1")]   // IPv4-translated
    [InlineData("::127.0.0.1")]          // IPv4-compatible
    [InlineData("64:ff9b::7f00:1")]      // NAT64, well-known prefix
    [InlineData("64:ff9b:1::7f00:1")]    // NAT64, local-use prefix
    [InlineData("2002:7f00:1::1")]       // 6to4
    [InlineData("2001:0:7f00:1::1")]     // Teredo, server 127.0.0.1
    [InlineData("2001:0:4136:e378:8000:63bf:80ff:fffe")] // Teredo, client 127.0.0.1
    public void An_allowed_ipv4_network_does_not_open_the_ipv6_forms_that_carry_it(string address)
    {
        // Reached through a translator or relay, 127.0.0.1 is that machine's loopback, not the one the operator opened.
        var policy = new NetworkPolicy(new DeliveryOptions { AllowedNetworks = ["127.0.0.0/8", "10.0.0.0/8"] });

        Assert.False(policy.IsAllowed(IPAddress.Parse(address)));
        Assert.True(policy.IsAllowed(IPAddress.Parse("::ffff:127.0.0.1"))); // mapped: the same socket destination
    }

    [Theory]
    [InlineData("64:ff9b:1::/48", "64:ff9b:1::a00:1", true)]    // the operator's own NAT64 prefix, named
    [InlineData("64:ff9b:1::/48", "64:ff9b:1::5db8:d822", true)]
    [InlineData("64:ff9b:1::/96", "64:ff9b:1::a00:1", true)]
    [InlineData("64:ff9b:1::/96", "64:ff9b:1:1::a00:1", false)] // outside the named part of the range
    [InlineData("2001::/32", "2001:0:5db8:d822::a247:27dd", true)]
    [InlineData("64:ff9b::/96", "64:ff9b::7f00:1", false)]      // naming the well-known prefix still refuses what it carries
    [InlineData("2002::/16", "2002:a00:1::1", false)]
    public void A_range_refused_whole_is_opened_only_by_naming_it(string allowed, string address, bool expected)
    {
        var policy = new NetworkPolicy(new DeliveryOptions { AllowedNetworks = [allowed] });

        Assert.Equal(expected, policy.IsAllowed(IPAddress.Parse(address)));
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
