using System.Collections.Concurrent;
using System.Security.Claims;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Server.Hosting;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// Guards <c>/api</c> with <c>Authorization: Bearer &lt;key&gt;</c>, then lets the key's role decide:
/// <list type="bullet">
/// <item>Admin (the configured <c>Security:AdminApiKey</c>, or a key made with that role) opens every route;</item>
/// <item>Reader opens every read (GET, HEAD) and nothing else;</item>
/// <item>Producer (a key made with that role, or one of <c>Security:ProducerApiKeys</c>) opens only
/// <c>POST /api/v1/enterprises/{id}/events</c>, for its enterprises when it names them.</item>
/// </list>
/// <see cref="ApiKeyIdentities"/> tells the key. No key, and no part of a key's enterprise list, is echoed or logged. The
/// caller is set as <see cref="HttpContext.User"/>: its name is the key's id (<see cref="ApiKeyIdentities.ConfiguredAdmin"/> or
/// <see cref="ApiKeyIdentities.ConfiguredProducer"/> for configured keys), its role the key's role.
/// </summary>
public sealed class ApiKeyAuthentication(
    RequestDelegate next, IOptions<MetricsOptions> metrics, ApiKeyIdentities identities, FailedAuthentications failures)
{
    private const string Scheme = "ApiKey";

    /// <summary>Principals kept, one per key and role; past this many (keys made and deleted over a long run) they start over.</summary>
    private const int PrincipalsKept = 4_096;

    private readonly bool _metricsGuarded = !metrics.Value.AllowAnonymous;

    // Built once per key and only read afterwards: a principal of its own on every call was claims, an identity and strings
    // each time (with the key digest's arrays, 0.9 KB per command of bench scenario 3).
    private readonly ConcurrentDictionary<(string Id, ApiKeyRole Role), ClaimsPrincipal> _principals = new();

    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) && !GuardsMetrics(context.Request.Path))
        {
            return next(context);
        }
        var address = context.Connection.RemoteIpAddress;
        failures.ThrowIfBlocked(address);
        var header = context.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            failures.Record(address, "no bearer API key");
            throw Unauthorized("Send the API key as 'Authorization: Bearer <key>'.");
        }
        var presented = header[bearer.Length..].Trim();
        if (identities.Identify(presented) is not { } caller)
        {
            failures.Record(address, "a wrong API key");
            throw Unauthorized("The API key is not valid.");
        }
        var (id, role, enterprises) = caller;
        context.User = PrincipalOf(id, role);
        if (Refusal(context.Request, role, enterprises) is { } refusal)
        {
            throw new ApiProblemException(StatusCodes.Status403Forbidden, "Forbidden.", refusal);
        }
        return next(context);
    }

    private ClaimsPrincipal PrincipalOf(string id, ApiKeyRole role)
    {
        if (_principals.TryGetValue((id, role), out var known))
        {
            return known;
        }
        if (_principals.Count >= PrincipalsKept)
        {
            _principals.Clear();
        }
        return _principals[(id, role)] = new ClaimsPrincipal(
            new ClaimsIdentity([new(ClaimTypes.Name, id), new(ClaimTypes.Role, role.ToString())], Scheme));
    }

    private bool GuardsMetrics(PathString path) =>
        _metricsGuarded && path.StartsWithSegments(MetricsOptions.ScrapePath, StringComparison.OrdinalIgnoreCase);

    /// <summary>Why the role may not make this request, or null when it may.</summary>
    private static string? Refusal(HttpRequest request, ApiKeyRole role, IReadOnlyList<Guid>? enterprises)
    {
        switch (role)
        {
            case ApiKeyRole.Admin:
                return null;
            case ApiKeyRole.Reader:
                return HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)
                    ? null
                    : "A Reader key may only read (GET); this request changes something.";
            case ApiKeyRole.Producer:
                if (IngestEnterprise(request) is not { } enterprise)
                {
                    return "A Producer key may only post events (POST /api/v1/enterprises/{enterpriseId}/events).";
                }
                // An id that is not one of its enterprises, or not an id at all: the same answer, so it tells nothing.
                return enterprises is null || (Guid.TryParse(enterprise, out var id) && enterprises.Contains(id))
                    ? null
                    : "This API key may not post events for this enterprise.";
            default:
                return "This API key's role opens nothing."; // a role this version does not know
        }
    }

    /// <summary>The enterprise segment of <c>POST /api/v1/enterprises/{id}/events</c>, or null for any other request.</summary>
    private static string? IngestEnterprise(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method))
        {
            return null;
        }
        var segments = (request.Path.Value ?? "").Trim('/').Split('/');
        return segments.Length == 5
            && segments[0].Equals("api", StringComparison.OrdinalIgnoreCase)
            && segments[1].Equals("v1", StringComparison.OrdinalIgnoreCase)
            && segments[2].Equals("enterprises", StringComparison.OrdinalIgnoreCase)
            && segments[4].Equals("events", StringComparison.OrdinalIgnoreCase)
            ? segments[3]
            : null;
    }

    private static ApiProblemException Unauthorized(string detail) => new(StatusCodes.Status401Unauthorized, "Unauthorized.", detail);
}
