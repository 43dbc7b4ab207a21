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

    /// <summary>A form's value the action cannot take (an unknown choice): shown as <see cref="Problem"/>, nothing done.</summary>
    protected static string Refused(string reason) => throw new RefusedInputException(reason);

    private sealed class RefusedInputException(string message) : Exception(message);

    /// <summary>
    /// Runs an action; its refusal (a state that does not allow it, a bad URL) becomes <see cref="Problem"/> instead of an
    /// error page. Then back to <paramref name="page"/>, or to this page.
    /// </summary>
    protected async Task<IActionResult> ActAsync(Func<Task<string>> action, string? page = null, object? routeValues = null)
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
        catch (RefusedInputException ex)
        {
            Problem = ex.Message;
        }
        return page is null ? RedirectToPage(routeValues) : RedirectToPage(page, routeValues);
    }
}
