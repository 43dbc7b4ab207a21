using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using ConnectorEvents.Core.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.OperatorConsole;

/// <summary>The operator console: Razor Pages under <c>/console</c>, its sign-in, its headers and its embedded assets.</summary>
public static class ConsoleHosting
{
    /// <summary>
    /// Scripts and styles only from this server, no inline script or style, no frames, forms post only here: a page that
    /// shows a receiver's answer or a message body can run nothing of it.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static void AddOperatorConsole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ConsoleOptions>().Bind(configuration.GetSection(ConsoleOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConsoleOptions>, ConsoleOptionsValidator>();
        if (!configuration.GetValue($"{ConsoleOptions.Section}:{nameof(ConsoleOptions.Enabled)}", true))
        {
            return;
        }
        // Before AddRazorPages, whose data protection only adds its own provider when none is registered.
        services.AddSingleton<IDataProtectionProvider>(sp => new MasterKeyDataProtection(sp.GetRequiredService<SecretProtector>(), "console"));
        services.AddRazorPages(o =>
        {
            o.RootDirectory = "/OperatorConsole/Pages";
            o.Conventions.AuthorizeFolder("/", ConsoleSession.Policy);
            o.Conventions.AllowAnonymousToPage("/SignIn");
        });
        services.Configure<Microsoft.AspNetCore.Mvc.CookieTempDataProviderOptions>(o =>
        {
            o.Cookie.Name = "ce_console_notice";
            o.Cookie.Path = ConsoleSession.Path;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "ce_console_antiforgery";
            o.Cookie.Path = ConsoleSession.Path;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.FormFieldName = "__antiforgery";
        });
        // Not the default scheme: the API keeps its own keys; only the console's pages ask for this one (by their policy).
        // As the only scheme it would become the default (ASP.NET Core 7+), and the authentication middleware the host adds
        // would then read the session cookie on every request, ingest and WebSockets included.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        services.AddAuthentication().AddCookie(ConsoleSession.Scheme, _ => { });
        services.AddOptions<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions>(ConsoleSession.Scheme)
            .Configure<IOptions<ConsoleOptions>>((cookie, console) => ConsoleSession.Configure(cookie, console.Value));
        services.AddAuthorization(o => o.AddPolicy(ConsoleSession.Policy, p => p.AddAuthenticationSchemes(ConsoleSession.Scheme).RequireAuthenticatedUser()));
        // The framework's data protection starts a service that creates a key ring on disk; ours needs none (see above).
        foreach (var keyRing in services.Where(d => d.ImplementationType?.Name == "DataProtectionHostedService").ToList())
        {
            services.Remove(keyRing);
        }
        services.AddSingleton<ConsoleMetrics>();
        services.AddHostedService(sp => sp.GetRequiredService<ConsoleMetrics>());
    }

    public static void MapOperatorConsole(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.Services.GetRequiredService<IOptions<ConsoleOptions>>().Value.Enabled)
        {
            return;
        }
        app.UseWhen(c => c.Request.Path.StartsWithSegments(ConsoleSession.Path, StringComparison.OrdinalIgnoreCase), console => console.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XFrameOptions = "DENY";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            if (!context.Request.Path.StartsWithSegments(AssetsPath, StringComparison.OrdinalIgnoreCase))
            {
                // Pages show live data, and some a secret just rotated. As antiforgery sets them on a page with a form: any
                // other value it would override, with a Warning in the log for every page.
                headers.CacheControl = "no-cache, no-store";
                headers.Pragma = "no-cache";
            }
            return next(context);
        }));
        app.UseAuthorization();
        app.MapGet(AssetsPath + "/{name}", (string name, HttpContext context) =>
        {
            if (!Assets.TryGetValue(name, out var asset))
            {
                return Results.NotFound();
            }
            if (context.Request.Headers.IfNoneMatch == asset.ETag)
            {
                return Results.StatusCode(StatusCodes.Status304NotModified);
            }
            context.Response.Headers.ETag = asset.ETag;
            context.Response.Headers.CacheControl = "no-cache";
            return Results.Bytes(asset.Content, asset.ContentType);
        }).ExcludeFromDescription();
        app.MapRazorPages().ExcludeFromDescription(); // pages, not API operations: not in /openapi/v1.json
    }

    public const string AssetsPath = "/console/assets";

    /// <summary>The stylesheet and the script, embedded in the assembly (no files to deploy, no build step).</summary>
    private static readonly FrozenDictionary<string, (byte[] Content, string ContentType, string ETag)> Assets = LoadAssets();

    /// <summary>An asset's URL with its version, so a new build's is fetched at once.</summary>
    public static string AssetUrl(string name) => $"{AssetsPath}/{name}?v={Assets[name].ETag.Trim('"')}";

    private static FrozenDictionary<string, (byte[], string, string)> LoadAssets()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var assets = new Dictionary<string, (byte[], string, string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("console/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            var name = resource["console/".Length..];
            var type = Path.GetExtension(name) switch
            {
                ".css" => "text/css; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                _ => "application/octet-stream",
            };
            assets[name] = (content, type, $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"");
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
