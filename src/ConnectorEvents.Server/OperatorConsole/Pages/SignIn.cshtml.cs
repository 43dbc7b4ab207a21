using ConnectorEvents.Core.Security;
using ConnectorEvents.Server.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ConnectorEvents.Server.OperatorConsole.Pages;

/// <summary>
/// Sign-in with an API key. A wrong key counts as a failed authentication of the address, as on the API (limited per
/// minute, logged without the key), and the answer never says more than that the key was refused.
/// </summary>
public sealed class SignInModel(ApiKeyIdentities identities, FailedAuthentications failures) : ConsolePageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string? ApiKey { get; set; }

    public string? Refusal { get; private set; }

    protected override bool AdminOnly => false;

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var address = HttpContext.Connection.RemoteIpAddress;
        try
        {
            failures.ThrowIfBlocked(address);
        }
        catch (ApiProblemException ex) when (ex.RetryAfter is { } wait)
        {
            Response.Headers.RetryAfter = RateLimits.WholeSeconds(wait);
            return Refuse(StatusCodes.Status429TooManyRequests, "Too many failed sign-ins from this address; wait a minute and try again.");
        }
        var presented = ApiKey?.Trim() ?? "";
        ApiKey = null; // never echoed into the page
        if (presented.Length == 0 || identities.Identify(presented) is not { } caller)
        {
            failures.Record(address, "a wrong API key (console sign-in)");
            return Refuse(StatusCodes.Status401Unauthorized, "That key was refused.");
        }
        if (!ConsoleSession.MayOpen(caller.Role))
        {
            return Refuse(StatusCodes.Status403Forbidden, "A Producer key only posts events; sign in with an Admin or Reader key.");
        }
        await ConsoleSession.SignInAsync(HttpContext, caller, TokenDigest.HashOf(presented)).ConfigureAwait(false);
        return LocalRedirect(IsConsoleUrl(ReturnUrl) ? ReturnUrl! : "/console");
    }

    private PageResult Refuse(int status, string refusal)
    {
        Response.StatusCode = status;
        Refusal = refusal;
        return Page();
    }

    /// <summary>Only back into the console: a sign-in link cannot send anyone elsewhere.</summary>
    private bool IsConsoleUrl(string? url) =>
        url is not null && Url.IsLocalUrl(url) && url.StartsWith(ConsoleSession.Path, StringComparison.OrdinalIgnoreCase);
}
