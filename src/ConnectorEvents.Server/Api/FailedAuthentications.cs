using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ConnectorEvents.Server.Hosting;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// Failed authentications per source, in one-minute windows: past <see cref="RateLimitOptions.FailedAuthenticationsPerMinute"/>
/// a source may not try again until its window ends, so a key or token cannot be guessed at speed. A source is an IPv4
/// address or an IPv6 /64 (one host usually holds a whole /64, so counting single IPv6 addresses would count nothing).
/// The first failure of each window is logged (Warning), with the source and never anything presented. Kept in memory
/// per process and bounded: past <see cref="MaxSources"/> sources, new ones share one counter (and one Warning).
/// </summary>
public sealed partial class FailedAuthentications(IOptions<RateLimitOptions> options, TimeProvider time, ILogger<FailedAuthentications> logger)
{
    /// <summary>Sources counted one by one; beyond them a scan from very many addresses shares <see cref="Overflow"/>.</summary>
    public const int MaxSources = 10_000;

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The counter that sources beyond <see cref="MaxSources"/> share: <c>::1</c>, which is never a source (an IPv6 source is
    /// a /64, whose last 64 bits are zero).
    /// </summary>
    private static readonly IPAddress Overflow = IPAddress.IPv6Loopback;

    private readonly int _limit = options.Value.FailedAuthenticationsPerMinute;
    private readonly ConcurrentDictionary<IPAddress, Counter> _bySource = new();
    private long _nextSweepTicks;

    private sealed class Counter(DateTimeOffset windowEnd)
    {
        public DateTimeOffset WindowEnd = windowEnd;
        public int Failures;
    }

    /// <summary>Refuses with 429 (and how long to wait) a request from a source that failed too often this minute.</summary>
    public void ThrowIfBlocked(IPAddress? address)
    {
        if (_limit == 0 || address is null || !_bySource.TryGetValue(SourceOf(address), out var counter))
        {
            return;
        }
        TimeSpan left;
        lock (counter)
        {
            left = counter.WindowEnd - time.GetUtcNow();
            if (left <= TimeSpan.Zero || counter.Failures < _limit)
            {
                return;
            }
        }
        throw ApiProblemException.TooManyRequests(
            "Too many failed authentications from this address; try again when the Retry-After time has passed.", left);
    }

    /// <summary>Counts a failed authentication of <paramref name="address"/>; <paramref name="what"/> names the kind, never the value.</summary>
    public void Record(IPAddress? address, string what)
    {
        if (_limit == 0 || address is null)
        {
            return;
        }
        var now = time.GetUtcNow();
        var source = SourceOf(address);
        if (!_bySource.ContainsKey(source) && _bySource.Count >= MaxSources)
        {
            SweepExpired(now);
            if (_bySource.Count >= MaxSources)
            {
                source = Overflow;
            }
        }
        var counter = _bySource.GetOrAdd(source, _ => new Counter(now + Window));
        bool first;
        lock (counter)
        {
            if (counter.WindowEnd <= now)
            {
                counter.WindowEnd = now + Window;
                counter.Failures = 0;
            }
            first = counter.Failures++ == 0;
        }
        if (first)
        {
            LogFailed(logger, source == Overflow ? $"one of more than {MaxSources} sources" : source.ToString(), what, _limit);
        }
    }

    /// <summary>Drops sources whose window ended; at most once a second, since it reads the whole table.</summary>
    private void SweepExpired(DateTimeOffset now)
    {
        var next = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextSweepTicks, now.UtcTicks + TimeSpan.TicksPerSecond, next) != next)
        {
            return;
        }
        foreach (var (source, counter) in _bySource)
        {
            if (counter.WindowEnd <= now)
            {
                _bySource.TryRemove(source, out _);
            }
        }
    }

    /// <summary>An IPv4 address as itself (also when mapped into IPv6); an IPv6 address as its /64.</summary>
    internal static IPAddress SourceOf(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    [LoggerMessage(EventId = LogEventIds.FailedAuthentication, Level = LogLevel.Warning,
        Message = "Failed authentication from {Source} ({What}); more than {Limit} in a minute and the source must wait. " +
            "Logged once per source and minute.")]
    private static partial void LogFailed(ILogger logger, string source, string what, int limit);
}
