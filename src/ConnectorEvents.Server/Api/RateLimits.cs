using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using ConnectorEvents.Server.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// Request rate limits (ASP.NET Core rate limiting): a token bucket per remote address over every route but the health
/// checks, and one per API key over what the key opens. Runs after <see cref="ApiKeyAuthentication"/>, which names the
/// key. A refusal is a 429 problem with <c>Retry-After</c>. Failed authentications have a limit of their own
/// (<see cref="FailedAuthentications"/>).
/// </summary>
public static class RateLimits
{
    public static IServiceCollection AddConnectorRateLimits(this IServiceCollection services)
    {
        services.AddSingleton<FailedAuthentications>();
        services.AddRateLimiter(_ => { }); // the limiters come from the settings, below
        services.AddOptions<RateLimiterOptions>().Configure<Microsoft.Extensions.Options.IOptions<RateLimitOptions>>((limiter, configured) =>
        {
            var limits = configured.Value;
            // Made once: the partition callbacks run on every request.
            var perAddress = Bucket(limits.PerAddressRequestsPerSecond);
            var perKey = Bucket(limits.PerKeyRequestsPerSecond);
            Func<IPAddress, TokenBucketRateLimiterOptions> addressBucket = _ => perAddress;
            Func<string, TokenBucketRateLimiterOptions> keyBucket = _ => perKey;
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, IPAddress>(context =>
                    limits.PerAddressRequestsPerSecond == 0 || context.Request.Path.StartsWithSegments("/healthz")
                        ? RateLimitPartition.GetNoLimiter(IPAddress.None)
                        : RateLimitPartition.GetTokenBucketLimiter(context.Connection.RemoteIpAddress ?? IPAddress.None, addressBucket)),
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    limits.PerKeyRequestsPerSecond == 0 || context.User.Identity?.Name is not { } key
                        ? RateLimitPartition.GetNoLimiter("")
                        : RateLimitPartition.GetTokenBucketLimiter(key, keyBucket)));
            limiter.OnRejected = RejectAsync;
        });
        return services;
    }

    /// <summary><paramref name="perSecond"/> tokens a second, as many again saved up for a burst; no queue (refused at once).</summary>
    private static TokenBucketRateLimiterOptions Bucket(int perSecond) => new()
    {
        TokenLimit = Math.Max(1, 2 * perSecond),
        TokensPerPeriod = Math.Max(1, perSecond),
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = WholeSeconds(wait);
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests.",
                Detail = $"The rate limit of this API key or address is reached; try again in {WholeSeconds(wait)} s.",
            },
        }).ConfigureAwait(false);
    }

    /// <summary>A wait as whole seconds for <c>Retry-After</c>, at least 1.</summary>
    public static string WholeSeconds(TimeSpan wait) =>
        Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
