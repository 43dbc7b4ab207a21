using System.Security.Cryptography;
using System.Text;
using ConnectorEvents.Server.Hosting;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// Guards <c>/api</c> with <c>Authorization: Bearer &lt;key&gt;</c>. The admin key opens every route; a producer key
/// (<c>Security:ProducerApiKeys</c>) opens only <c>POST /api/v1/enterprises/{id}/events</c>. Keys are compared in
/// constant time and never echoed or logged.
/// </summary>
public sealed class AdminAuthentication(RequestDelegate next, IOptions<SecurityOptions> options)
{
    private readonly byte[] _adminKey = Encoding.UTF8.GetBytes(options.Value.AdminApiKey ?? "");
    private readonly byte[][] _producerKeys = (options.Value.ProducerApiKeys ?? []).Select(Encoding.UTF8.GetBytes).ToArray();

    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            return next(context);
        }
        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return Refuse(context, "Send the API key as 'Authorization: Bearer <key>'.");
        }
        var presented = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
        if (_adminKey.Length > 0 && CryptographicOperations.FixedTimeEquals(presented, _adminKey))
        {
            return next(context);
        }
        var isProducer = false;
        foreach (var key in _producerKeys)
        {
            isProducer |= CryptographicOperations.FixedTimeEquals(presented, key);
        }
        if (!isProducer)
        {
            return Refuse(context, "The API key is not valid.");
        }
        if (!IsIngest(context.Request))
        {
            throw new ApiProblemException(StatusCodes.Status403Forbidden, "Forbidden.",
                "A producer key may only post events (POST /api/v1/enterprises/{enterpriseId}/events).");
        }
        return next(context);
    }

    private static bool IsIngest(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method))
        {
            return false;
        }
        var segments = (request.Path.Value ?? "").Trim('/').Split('/');
        return segments.Length == 5
            && segments[0].Equals("api", StringComparison.OrdinalIgnoreCase)
            && segments[1].Equals("v1", StringComparison.OrdinalIgnoreCase)
            && segments[2].Equals("enterprises", StringComparison.OrdinalIgnoreCase)
            && segments[4].Equals("events", StringComparison.OrdinalIgnoreCase);
    }

    private static Task Refuse(HttpContext context, string detail) =>
        throw new ApiProblemException(StatusCodes.Status401Unauthorized, "Unauthorized.", detail);
}
