using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace ConnectorEvents.Server.OperatorConsole.Pages;

/// <summary>Sign-out is a POST (with its antiforgery token), so no link or image elsewhere can sign anyone out.</summary>
public sealed class SignOutModel : ConsolePageModel
{
    protected override bool AdminOnly => false;

    public IActionResult OnGet() => RedirectToPage("/Index");

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(ConsoleSession.Scheme).ConfigureAwait(false);
        return Redirect("/console/sign-in");
    }
}
