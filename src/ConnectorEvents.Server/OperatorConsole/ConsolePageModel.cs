using ConnectorEvents.Core;
using ConnectorEvents.Server.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ConnectorEvents.Server.OperatorConsole;

/// <summary>
/// What every console page shares: who is signed in, and the rule that only an Admin changes anything. A Reader sees no
/// action, and a form a Reader posts anyway is refused (403) before its handler runs. An action's outcome is shown once, on
/// the page it redirects to (post, redirect, get), never in the URL.
/// </summary>
public abstract class ConsolePageModel : PageModel
{
    public bool IsAdmin => ConsoleSession.IsAdmin(User);

    /// <summary>The outcome of the last action, shown once.</summary>
    [TempData]
    public string? Notice { get; set; }

    /// <summary>Why the last action was refused, shown once.</summary>
    [TempData]
    public string? Problem { get; set; }

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (!HttpMethods.IsGet(Request.Method) && !HttpMethods.IsHead(Request.Method) && !IsAdmin && AdminOnly)
        {
            context.Result = new ContentResult
            {
                StatusCode = StatusCodes.Status403Forbidden,
                Content = "A Reader key may only look; this action changes something.",
                ContentType = "text/plain; charset=utf-8",
            };
            return;
        }
        await next().ConfigureAwait(false);
    }

    /// <summary>False on the pages whose forms anyone may post (sign-in, sign-out).</summary>
    protected virtual bool AdminOnly => true;

    /// <summary>
    /// Runs an action; its refusal (a state that does not allow it, a bad URL, a choice the form does not offer) becomes
    /// <see cref="Problem"/> instead of an error page. Then back to this page.
    /// </summary>
    protected async Task<IActionResult> ActAsync(Func<Task<string>> action, object routeValues)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            Notice = await action().ConfigureAwait(false);
        }
        catch (DomainException ex)
        {
            Problem = ex.Message;
        }
        catch (ApiProblemException ex) when (ex.Status < 500)
        {
            Problem = ex.Message;
        }
        return RedirectToPage(routeValues);
    }

    /// <summary>
    /// Runs an action whose answer carries a secret shown once (a rotated signing secret, a new access token): the page is
    /// rendered on this answer by <paramref name="show"/>, with no redirect and no notice to carry the secret. A refusal
    /// becomes <see cref="Problem"/>, as with <see cref="ActAsync"/>.
    /// </summary>
    protected async Task<IActionResult> ShowOnceAsync<T>(Func<Task<T>> action, Func<T, IActionResult> show, object routeValues)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(show);
        T issued;
        try
        {
            issued = await action().ConfigureAwait(false);
        }
        catch (DomainException ex)
        {
            Problem = ex.Message;
            return RedirectToPage(routeValues);
        }
        return show(issued);
    }
}
