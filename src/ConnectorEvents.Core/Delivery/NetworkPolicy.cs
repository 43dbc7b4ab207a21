using System.Net;
using System.Net.Sockets;

namespace ConnectorEvents.Core.Delivery;

/// <summary>
/// Which addresses webhooks may be sent to. Checked on the resolved address at connect time, so a host name
/// that resolves to an internal address (or re-resolves to one later) is refused all the same.
/// </summary>
/// <remarks>
/// The rule, in order:
/// <list type="number">
/// <item>With <c>Delivery:BlockPrivateNetworks</c> off, every address is allowed.</item>
/// <item>An IPv4-mapped address (<c>::ffff:a.b.c.d</c>) is judged as its IPv4 address: a dual-stack socket connects to that
/// very address.</item>
/// <item>An address that carries an IPv4 address inside a refused range is refused, whatever the allow-list says:
/// IPv4-translated (<c>::ffff:0:a.b.c.d</c>), IPv4-compatible (<c>::a.b.c.d</c>), the NAT64 well-known prefix
/// (<c>64:ff9b::/96</c>) and 6to4 (<c>2002::/16</c>). A translator or relay would carry the connection to that IPv4 address
/// on its own network: an allowed <c>127.0.0.0/8</c> opens <c>127.0.0.1</c> and <c>::ffff:127.0.0.1</c>, never
/// <c>64:ff9b::7f00:1</c>, the NAT64 gateway's loopback. (RFC 6052, section 3.1, and RFC 3056 forbid non-global IPv4
/// addresses under the well-known prefix and in 6to4 anyway, so no allow-list entry has a use for them.)</item>
/// <item>Otherwise an address inside a network of <c>Delivery:AllowedNetworks</c> is allowed (the allow-list names what the
/// socket connects to), and one inside a refused range is refused.</item>
/// </list>
/// Two IPv6 ranges are refused whole, so only naming them in the allow-list opens them: the local-use NAT64 prefix
/// <c>64:ff9b:1::/48</c> (RFC 8215), whose IPv4 address sits where the operator's prefix length puts it (RFC 6052,
/// section 2.2: bits 48–63 and 72–87 for a /48, the last 32 bits for a /96), so no one reading of it is safe; and Teredo
/// <c>2001::/32</c> (RFC 4380), which carries a server's IPv4 address and a client's NAT address (inverted) and reaches the
/// client through relays: obsolete, and no webhook receiver sits behind it.
/// </remarks>
public sealed class NetworkPolicy
{
    private static readonly IPNetwork[] Blocked =
    [
        IPNetwork.Parse("0.0.0.0/8"),        // "this" network, unspecified
        IPNetwork.Parse("10.0.0.0/8"),       // private
        IPNetwork.Parse("100.64.0.0/10"),    // carrier-grade NAT
        IPNetwork.Parse("127.0.0.0/8"),      // loopback
        IPNetwork.Parse("169.254.0.0/16"),   // link-local, cloud metadata (169.254.169.254)
        IPNetwork.Parse("172.16.0.0/12"),    // private
        IPNetwork.Parse("192.0.0.0/24"),     // IETF protocol assignments
        IPNetwork.Parse("192.168.0.0/16"),   // private
        IPNetwork.Parse("198.18.0.0/15"),    // benchmarking
        IPNetwork.Parse("224.0.0.0/4"),      // multicast
        IPNetwork.Parse("240.0.0.0/4"),      // reserved, broadcast
        IPNetwork.Parse("::/128"),           // unspecified
        IPNetwork.Parse("::1/128"),          // loopback
        IPNetwork.Parse("64:ff9b:1::/48"),   // local-use NAT64 (RFC 8215): may carry any IPv4 address, placed per prefix length
        IPNetwork.Parse("2001::/32"),        // Teredo (RFC 4380)
        IPNetwork.Parse("fc00::/7"),         // unique local
        IPNetwork.Parse("fe80::/10"),        // link-local
        IPNetwork.Parse("ff00::/8"),         // multicast
    ];

    // IPv6 forms that carry an IPv4 address in their last 32 bits (6to4 carries it in bits 16-47).
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork Translated = IPNetwork.Parse("::ffff:0:0:0/96");
    private static readonly IPNetwork Compatible = IPNetwork.Parse("::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    private readonly IPNetwork[] _allowed;
    private readonly bool _blockPrivate;

    public NetworkPolicy(DeliveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _blockPrivate = options.BlockPrivateNetworks;
        _allowed = (options.AllowedNetworks ?? []).Select(IPNetwork.Parse).ToArray();
    }

    public bool IsAllowed(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!_blockPrivate)
        {
            return true;
        }
        var direct = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (CarriedIPv4(direct) is { } carried && IsIn(Blocked, carried))
        {
            return false;
        }
        return IsIn(_allowed, direct) || IsIn(_allowed, address) || !IsIn(Blocked, direct);
    }

    private static bool IsIn(IPNetwork[] networks, IPAddress address)
    {
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The IPv4 address an IPv6 address carries for a translator or relay to reach, if any.</summary>
    private static IPAddress? CarriedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        if (Nat64.Contains(address) || Translated.Contains(address) || IsIPv4Compatible(address))
        {
            return new IPAddress(bytes[12..]);
        }
        return SixToFour.Contains(address) ? new IPAddress(bytes[2..6]) : null;
    }

    // ::a.b.c.d (deprecated, still routable on some stacks); :: and ::1 are themselves.
    private static bool IsIPv4Compatible(IPAddress address) =>
        Compatible.Contains(address) && !address.Equals(IPAddress.IPv6Any) && !address.Equals(IPAddress.IPv6Loopback);

    /// <summary>
    /// A <see cref="SocketsHttpHandler.ConnectCallback"/>: resolves, drops refused addresses, connects to the first
    /// allowed one. Every hop of a redirect connects through here too.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var host = context.DnsEndPoint.Host;
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new HostNotResolvedException(host, ex);
            }
        }
        var permitted = addresses.Where(IsAllowed).ToArray();
        if (permitted.Length == 0)
        {
            throw new BlockedAddressException(host, addresses);
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(permitted, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>Every address of the target is in a refused range.</summary>
public sealed class BlockedAddressException(string host, IPAddress[] addresses)
    : Exception($"'{host}' resolves only to refused addresses ({string.Join(", ", addresses.Select(a => a.ToString()))}).");

public sealed class HostNotResolvedException(string host, Exception inner)
    : Exception($"'{host}' could not be resolved.", inner);
