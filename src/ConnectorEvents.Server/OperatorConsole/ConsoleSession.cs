using System.Security.Claims;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Server.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace ConnectorEvents.Server.OperatorConsole;

/// <summary>
/// A console sign-in: an HttpOnly, SameSite=Strict cookie (Secure when the request came over HTTPS) on <c>/console</c>,
/// sealed by <see cref="MasterKeyDataProtection"/>. It holds the key's id, role and digest (what storage keeps), never the
/// key; each request checks the digest again, so a deleted key or a changed bootstrap key ends its sessions at once.
/// </summary>
public static class ConsoleSession
{
    public const string Scheme = "ConsoleSession";
    public const string Policy = "Console";
    public const string CookieName = "ce_console";
    public const string Path = "/console";
    private const string DigestClaim = "connector-events/key-digest";

    public static bool IsAdmin(ClaimsPrincipal user) => user.IsInRole(nameof(ApiKeyRole.Admin));

    /// <summary>Admin and Reader keys may open the console; a Producer key only posts events.</summary>
    public static bool MayOpen(ApiKeyRole role) => role is ApiKeyRole.Admin or ApiKeyRole.Reader;

    public static Task SignInAsync(HttpContext context, ApiCaller caller, string keyDigest)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(caller);
        var identity = new ClaimsIdentity(
            [new(ClaimTypes.Name, caller.Id), new(ClaimTypes.Role, caller.Role.ToString()), new(DigestClaim, keyDigest)], Scheme);
        return context.SignInAsync(Scheme, new ClaimsPrincipal(identity));
    }

    public static void Configure(CookieAuthenticationOptions cookie, ConsoleOptions options)
    {
        ArgumentNullException.ThrowIfNull(cookie);
        ArgumentNullException.ThrowIfNull(options);
        cookie.Cookie.Name = CookieName;
        cookie.Cookie.Path = Path;
        cookie.Cookie.HttpOnly = true;
        cookie.Cookie.SameSite = SameSiteMode.Strict;
        cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        cookie.ExpireTimeSpan = options.SessionLifetime;
        cookie.SlidingExpiration = true;
        cookie.LoginPath = "/console/sign-in";
        cookie.LogoutPath = "/console/sign-out";
        cookie.AccessDeniedPath = "/console/sign-in";
        cookie.ReturnUrlParameter = "returnUrl";
        cookie.Events.OnValidatePrincipal = ValidateAsync;
    }

    /// <summary>Each request: the key behind the session must still exist and still open the console.</summary>
    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var digest = context.Principal?.FindFirst(DigestClaim)?.Value;
        var identities = context.HttpContext.RequestServices.GetRequiredService<ApiKeyIdentities>();
        if (digest is not null && identities.IdentifyDigest(digest) is { } caller && MayOpen(caller.Role)
            && context.Principal!.IsInRole(caller.Role.ToString()))
        {
            return;
        }
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(Scheme).ConfigureAwait(false);
    }
}
