using System.Net;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// Configuration section <c>Proxy</c>. Behind a load balancer or TLS terminator every connection comes from it, so rate
/// limits and the failed-authentication lockout per address would count every client as one. Name the proxies here and
/// the client's address is read from the <c>X-Forwarded-For</c> they add (and the scheme from <c>X-Forwarded-Proto</c>);
/// the header is ignored from any other address, so a client cannot choose its own.
/// </summary>
public sealed class ProxyOptions
{
    public const string Section = "Proxy";

    /// <summary>The networks (CIDR, e.g. <c>10.0.0.0/8</c>) the trusted proxies connect from; none by default.</summary>
    public string[]? TrustedNetworks { get; set; }

    public IReadOnlyList<IPNetwork> Networks => (TrustedNetworks ?? []).Select(n => IPNetwork.Parse(n)).ToList();
}

/// <summary>Reports every problem of the <c>Proxy</c> section at once.</summary>
public sealed class ProxyOptionsValidator : IValidateOptions<ProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, ProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var networks = options.TrustedNetworks ?? [];
        var errors = Enumerable.Range(0, networks.Length)
            .Where(i => !IPNetwork.TryParse(networks[i], out _))
            .Select(i => $"Proxy:TrustedNetworks:{i} must be a network in CIDR form, e.g. 10.0.0.0/8 or 2001:db8::/32.")
            .ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
