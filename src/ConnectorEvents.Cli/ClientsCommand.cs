using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace ConnectorEvents.Cli;

/// <summary><c>clients list|create|show</c> against a running server. Create prints the ClientToken and SigningSecret: the only time the server shows them.</summary>
internal static class ClientsCommand
{
    private const string Path = "api/v1/clients";

    public static Command Create(AdminCommand admin)
    {
        var limit = AdminCommand.Limit();
        var cursor = AdminCommand.Cursor();
        var all = AdminCommand.All();
        var list = admin.Sub("list", "List integration clients.", async (context, parse, ct) =>
        {
            var items = await AdminCommand.ListAsync(context, Path, "Clients", [], parse.GetValue(limit), parse.GetValue(cursor),
                parse.GetValue(all), ct).ConfigureAwait(false);
            if (items is not null)
            {
                AdminCommand.PrintTable(context.Out, items, "No clients.",
                    ("Id", AdminCommand.Field("Id")), ("Name", AdminCommand.Field("Name")), ("Version", AdminCommand.Field("ContractVersion")),
                    ("Signing", AdminCommand.Field("SigningScheme")), ("Integration webhook URL", AdminCommand.Field("IntegrationWebhookUrl")),
                    ("General webhook URL", AdminCommand.Field("GeneralWebhookUrl")), ("Created", AdminCommand.Field("CreatedUtc")));
            }
            return ExitCodes.Ok;
        }, limit, cursor, all);

        var name = new Option<string>("--name") { Description = "The client's (application's) name.", Required = true };
        var integrationUrl = new Option<string?>("--integration-webhook-url") { Description = "Where its Integration Webhooks go." };
        var generalUrl = new Option<string?>("--general-webhook-url") { Description = "Where its General Webhooks go." };
        var version = new Option<string?>("--contract-version") { Description = "The contract version it receives (the server's default: the latest)." };
        var scheme = new Option<string?>("--signing-scheme") { Description = "Hmac (v1, the default) or Ed25519 (v1a)." };
        var quiet = AdminCommand.Quiet();
        var create = admin.Sub("create", "Create an integration client; prints its ClientToken and SigningSecret, shown only now.",
            async (context, parse, ct) =>
            {
                var body = new JsonObject { ["Name"] = parse.GetValue(name) };
                AddIfGiven(body, "IntegrationWebhookUrl", parse.GetValue(integrationUrl));
                AddIfGiven(body, "GeneralWebhookUrl", parse.GetValue(generalUrl));
                AddIfGiven(body, "ContractVersion", parse.GetValue(version));
                AddIfGiven(body, "SigningScheme", parse.GetValue(scheme));
                var answer = await context.Api.SendAsync(HttpMethod.Post, Path, body, ct).ConfigureAwait(false);
                if (AdminCommand.PrintCreated(context, answer, parse.GetValue(quiet), "client", "Id", "Name", "ClientToken", "SigningSecret",
                        "SigningScheme", "SigningPublicKeys", "ContractVersion", "IntegrationWebhookUrl", "GeneralWebhookUrl", "CreatedUtc"))
                {
                    context.Out.MarkupLine("[yellow]The ClientToken" + (answer.Json["SigningSecret"] is null ? "" : " and the SigningSecret")
                        + " are shown only now: keep them.[/]");
                }
                return ExitCodes.Ok;
            }, name, integrationUrl, generalUrl, version, scheme, quiet);

        var showId = AdminCommand.Id("client");
        var show = admin.Sub("show", "Show one client (its tokens only by prefix).", async (context, parse, ct) =>
        {
            var answer = await context.Api.GetAsync($"{Path}/{Uri.EscapeDataString(parse.GetValue(showId)!)}", ct).ConfigureAwait(false);
            if (context.Json)
            {
                context.Consoles.WriteRaw(answer.Text);
            }
            else
            {
                AdminCommand.PrintFields(context.Out, answer.Object);
            }
            return ExitCodes.Ok;
        }, showId);

        return admin.Family("clients", "Integration clients of a running server: list, create, show.", list, create, show);
    }

    private static void AddIfGiven(JsonObject body, string field, string? value)
    {
        if (value is not null)
        {
            body[field] = value;
        }
    }
}
