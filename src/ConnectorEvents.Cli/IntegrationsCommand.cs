using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace ConnectorEvents.Cli;

/// <summary>
/// <c>integrations list|create|show|enable|disable|cancel|reinstate|delete|regenerate-access-token</c> against a running
/// server. Create and regenerate-access-token print the AccessToken: the only answers that show it.
/// </summary>
internal static class IntegrationsCommand
{
    private const string Path = "api/v1/integrations";

    /// <summary>The state commands: name, HTTP method, route suffix and description.</summary>
    private static readonly (string Name, string Method, string Suffix, string Description)[] StateCommands =
    [
        ("enable", "POST", "/enable", "Disabled → Enabled; the server emits IntegrationEnabled."),
        ("disable", "POST", "/disable", "Enabled → Disabled; the server emits IntegrationDisabled."),
        ("cancel", "POST", "/cancel", "Enabled or Disabled → Canceled; the server emits IntegrationCanceled."),
        ("reinstate", "POST", "/reinstate", "Canceled → the state before; the server emits IntegrationReinstated."),
        ("delete", "DELETE", "", "Any state but Deleted → Deleted; the server emits IntegrationDeleted."),
        ("regenerate-access-token", "POST", "/regenerate-access-token",
            "A new AccessToken, printed once; the server emits IntegrationApiKeyCreated. With -q, only the token."),
    ];

    public static Command Create(AdminCommand admin)
    {
        var subcommands = new List<Command> { List(admin), CreateIntegration(admin), Show(admin) };
        foreach (var (name, method, suffix, description) in StateCommands)
        {
            var id = AdminCommand.Id("integration");
            var quiet = AdminCommand.Quiet();
            Symbol[] symbols = name == "regenerate-access-token" ? [id, quiet] : [id];
            subcommands.Add(admin.Sub(name, description, async (context, parse, ct) =>
            {
                var answer = await context.Api.SendAsync(new HttpMethod(method), $"{Path}/{Uri.EscapeDataString(parse.GetValue(id)!)}{suffix}",
                    null, ct).ConfigureAwait(false);
                var token = (string?)answer.Json["AccessToken"];
                if (token is not null && parse.GetValue(quiet))
                {
                    context.Consoles.WriteRaw(token);
                }
                else if (context.Json)
                {
                    context.Consoles.WriteRaw(answer.Text);
                }
                else
                {
                    context.Out.MarkupLine($"Integration [bold]{Markup.Escape(AdminCommand.Cell(answer.Json["Id"]))}[/] is "
                        + $"[bold]{Markup.Escape(AdminCommand.Cell(answer.Json["State"]))}[/].");
                    if (token is not null)
                    {
                        AdminCommand.PrintFields(context.Out, answer.Object, "AccessToken");
                        context.Out.MarkupLine("[yellow]The AccessToken is shown only now: keep it.[/]");
                    }
                }
                return ExitCodes.Ok;
            }, symbols));
        }
        return admin.Family("integrations",
            "Integrations of a running server: list, create, show, and the state commands (each emits its Integration Webhook).",
            [.. subcommands]);
    }

    private static Command List(AdminCommand admin)
    {
        var enterprise = new Option<string?>("--enterprise-id") { Description = "Only this enterprise's." };
        var client = new Option<string?>("--client-id") { Description = "Only this client's." };
        var state = new Option<string?>("--state") { Description = "Only in this state: Enabled, Disabled, Canceled, Deleted." };
        var limit = AdminCommand.Limit();
        var cursor = AdminCommand.Cursor();
        var all = AdminCommand.All();
        return admin.Sub("list", "List integrations.", async (context, parse, ct) =>
        {
            var items = await AdminCommand.ListAsync(context, Path, "Integrations",
                [("enterpriseId", parse.GetValue(enterprise)), ("clientId", parse.GetValue(client)), ("state", parse.GetValue(state))],
                parse.GetValue(limit), parse.GetValue(cursor), parse.GetValue(all), ct).ConfigureAwait(false);
            if (items is not null)
            {
                AdminCommand.PrintTable(context.Out, items, "No integrations.",
                    ("Id", AdminCommand.Field("Id")), ("Name", AdminCommand.Field("Name")), ("State", AdminCommand.Field("State")),
                    ("Enterprise", AdminCommand.Field("EnterpriseId")), ("Client", AdminCommand.Field("ClientId")),
                    ("Token prefix", AdminCommand.Field("AccessTokenPrefix")), ("Updated", AdminCommand.Field("UpdatedUtc")));
            }
            return ExitCodes.Ok;
        }, enterprise, client, state, limit, cursor, all);
    }

    private static Command CreateIntegration(AdminCommand admin)
    {
        var enterprise = new Option<Guid>("--enterprise-id") { Description = "The enterprise it connects.", Required = true };
        var client = new Option<Guid>("--client-id") { Description = "The client (application) it connects.", Required = true };
        var service = new Option<Guid?>("--service-id") { Description = "The enterprise's service it is for." };
        var name = new Option<string?>("--name") { Description = "Its name (default: the client's)." };
        var disabled = new Option<bool>("--disabled") { Description = "Create it Disabled (default Enabled)." };
        var requestorName = new Option<string?>("--requestor-name") { Description = "Who asked for it (with --requestor-email)." };
        var requestorEmail = new Option<string?>("--requestor-email") { Description = "Their e-mail address." };
        var quiet = AdminCommand.Quiet();
        return admin.Sub("create", "Create an integration (emits IntegrationCreated); prints its AccessToken, shown only now.",
            async (context, parse, ct) =>
            {
                var body = new JsonObject
                {
                    ["EnterpriseId"] = parse.GetValue(enterprise).ToString(),
                    ["ClientId"] = parse.GetValue(client).ToString(),
                    ["IsEnabled"] = !parse.GetValue(disabled),
                };
                if (parse.GetValue(service) is { } serviceId)
                {
                    body["ServiceId"] = serviceId.ToString();
                }
                if (parse.GetValue(name) is { } given)
                {
                    body["Name"] = given;
                }
                if (parse.GetValue(requestorName) is not null || parse.GetValue(requestorEmail) is not null)
                {
                    body["Requestor"] = new JsonObject { ["Name"] = parse.GetValue(requestorName), ["Email"] = parse.GetValue(requestorEmail) };
                }
                var answer = await context.Api.SendAsync(HttpMethod.Post, Path, body, ct).ConfigureAwait(false);
                if (AdminCommand.PrintCreated(context, answer, parse.GetValue(quiet), "integration", "Id", "Name", "State", "AccessToken",
                        "EnterpriseId", "ClientId", "ServiceId", "CreatedUtc"))
                {
                    context.Out.MarkupLine("[yellow]The AccessToken is shown only now: keep it.[/]");
                }
                return ExitCodes.Ok;
            }, enterprise, client, service, name, disabled, requestorName, requestorEmail, quiet);
    }

    private static Command Show(AdminCommand admin)
    {
        var id = AdminCommand.Id("integration");
        return admin.Sub("show", "Show one integration (its token only by prefix).", async (context, parse, ct) =>
        {
            var answer = await context.Api.GetAsync($"{Path}/{Uri.EscapeDataString(parse.GetValue(id)!)}", ct).ConfigureAwait(false);
            if (context.Json)
            {
                context.Consoles.WriteRaw(answer.Text);
            }
            else
            {
                AdminCommand.PrintFields(context.Out, answer.Object);
            }
            return ExitCodes.Ok;
        }, id);
    }
}
