using System.Net;
using System.Net.Sockets;

namespace ConnectorEvents.Core.Delivery;

/// <summary>
/// Which addresses webhooks may be sent to. Checked on the resolved address at connect time, so a host name
/// that resolves to an internal address (or re-resolves to one later) is refused all the same.
/// </summary>
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
        IPNetwork.Parse("fc00::/7"),         // unique local
        IPNetwork.Parse("fe80::/10"),        // link-local
        IPNetwork.Parse("ff00::/8"),         // multicast
    ];

    // IPv6 forms that carry an IPv4 address: checked as that IPv4 address.
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
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
        foreach (var candidate in Forms(address))
        {
            if (_allowed.Any(n => n.Contains(candidate)))
            {
                return true;
            }
        }
        foreach (var candidate in Forms(address))
        {
            if (Blocked.Any(n => n.Contains(candidate)))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The address itself and any IPv4 address embedded in it.</summary>
    private static IEnumerable<IPAddress> Forms(IPAddress address)
    {
        yield return address;
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            yield break;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            yield return address.MapToIPv4();
            yield break;
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        if (Nat64.Contains(address) || IsIPv4Compatible(bytes))
        {
            yield return new IPAddress(bytes[12..]);
        }
        else if (SixToFour.Contains(address))
        {
            yield return new IPAddress(bytes[2..6]);
        }
    }

    // ::a.b.c.d (deprecated, still routable on some stacks).
    private static bool IsIPv4Compatible(ReadOnlySpan<byte> bytes) =>
        bytes[..12].IndexOfAnyExcept((byte)0) < 0 && bytes[12..].IndexOfAnyExcept((byte)0) >= 0
        && !(bytes[12] == 0 && bytes[13] == 0 && bytes[14] == 0 && bytes[15] == 1);

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
