using System.Security.Cryptography;
using System.Text;
using ConnectorEvents.Server.Hosting;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Api;

/// <summary>
/// Guards <c>/api</c> with <c>Authorization: Bearer &lt;admin key&gt;</c>. The key is compared in constant time and
/// never echoed or logged.
/// </summary>
public sealed class AdminAuthentication(RequestDelegate next, IOptions<SecurityOptions> options)
{
    private readonly byte[] _key = Encoding.UTF8.GetBytes(options.Value.AdminApiKey ?? "");

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
            return Refuse(context, "Send the admin API key as 'Authorization: Bearer <key>'.");
        }
        var presented = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
        if (_key.Length == 0 || !CryptographicOperations.FixedTimeEquals(presented, _key))
        {
            return Refuse(context, "The API key is not valid.");
        }
        return next(context);
    }

    private static Task Refuse(HttpContext context, string detail) =>
        throw new ApiProblemException(StatusCodes.Status401Unauthorized, "Unauthorized.", detail);
}
