using System.Collections.Concurrent;
using System.Net;
using ConnectorEvents.Server.Hosting;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// Failed authentications per remote address, in one-minute windows: past <see cref="RateLimitOptions.FailedAuthenticationsPerMinute"/>
/// an address may not try again until its window ends, so a key or token cannot be guessed at speed. The first failure
/// of each window is logged (Warning), with the address and never anything presented. Kept in memory per process.
/// </summary>
public sealed partial class FailedAuthentications(IOptions<RateLimitOptions> options, TimeProvider time, ILogger<FailedAuthentications> logger)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>Addresses kept before the expired windows are dropped: bounds the memory a scan from many addresses costs.</summary>
    private const int SweepAbove = 10_000;

    private readonly int _limit = options.Value.FailedAuthenticationsPerMinute;
    private readonly ConcurrentDictionary<IPAddress, Counter> _byAddress = new();

    private sealed class Counter(DateTimeOffset windowEnd)
    {
        public DateTimeOffset WindowEnd = windowEnd;
        public int Failures;
    }

    /// <summary>How long <paramref name="address"/> must wait before it may authenticate again; null when it may now.</summary>
    public TimeSpan? Blocked(IPAddress? address)
    {
        if (_limit == 0 || address is null || !_byAddress.TryGetValue(address, out var counter))
        {
            return null;
        }
        lock (counter)
        {
            var left = counter.WindowEnd - time.GetUtcNow();
            return left > TimeSpan.Zero && counter.Failures >= _limit ? left : null;
        }
    }

    /// <summary>Counts a failed authentication of <paramref name="address"/>.</summary>
    public void Record(IPAddress? address, string what)
    {
        if (_limit == 0 || address is null)
        {
            return;
        }
        var now = time.GetUtcNow();
        if (_byAddress.Count > SweepAbove)
        {
            foreach (var (expired, _) in _byAddress.Where(e => e.Value.WindowEnd <= now))
            {
                _byAddress.TryRemove(expired, out _);
            }
        }
        var counter = _byAddress.GetOrAdd(address, _ => new Counter(now + Window));
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
            LogFailed(logger, address.ToString(), what, _limit);
        }
    }

    [LoggerMessage(EventId = LogEventIds.FailedAuthentication, Level = LogLevel.Warning,
        Message = "Failed authentication from {Address} ({What}); more than {Limit} in a minute and the address must wait. " +
            "Logged once per address and minute.")]
    private static partial void LogFailed(ILogger logger, string address, string what, int limit);
}
