using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace ConnectorEvents.Cli;

/// <summary><c>enterprises list|create|show</c> against a running server.</summary>
internal static class EnterprisesCommand
{
    private const string Path = "api/v1/enterprises";

    public static Command Create(AdminCommand admin)
    {
        var limit = AdminCommand.Limit();
        var cursor = AdminCommand.Cursor();
        var all = AdminCommand.All();
        var list = admin.Sub("list", "List enterprises.", async (context, parse, ct) =>
        {
            var items = await AdminCommand.ListAsync(context, Path, "Enterprises", [], parse.GetValue(limit), parse.GetValue(cursor),
                parse.GetValue(all), ct).ConfigureAwait(false);
            if (items is not null)
            {
                AdminCommand.PrintTable(context.Out, items, "No enterprises.", ("Id", AdminCommand.Field("Id")), ("Name", AdminCommand.Field("Name")));
            }
            return ExitCodes.Ok;
        }, limit, cursor, all);

        var name = new Option<string>("--name") { Description = "The enterprise's name.", Required = true };
        var id = new Option<Guid?>("--id") { Description = "Its id (default: a new one)." };
        var quiet = AdminCommand.Quiet();
        var create = admin.Sub("create", "Create an enterprise.", async (context, parse, ct) =>
        {
            var body = new JsonObject { ["Name"] = parse.GetValue(name) };
            if (parse.GetValue(id) is { } given)
            {
                body["Id"] = given.ToString();
            }
            var answer = await context.Api.SendAsync(HttpMethod.Post, Path, body, ct).ConfigureAwait(false);
            AdminCommand.PrintCreated(context, answer, parse.GetValue(quiet), "enterprise");
            return ExitCodes.Ok;
        }, name, id, quiet);

        var showId = AdminCommand.Id("enterprise");
        var show = admin.Sub("show", "Show one enterprise.", async (context, parse, ct) =>
        {
            var answer = await context.Api.GetAsync($"{Path}/{Uri.EscapeDataString(parse.GetValue(showId)!)}", ct).ConfigureAwait(false);
            return Print(context, answer);
        }, showId);

        return admin.Family("enterprises", "Enterprises of a running server: list, create, show.", list, create, show);
    }

    private static int Print(AdminContext context, AdminAnswer answer)
    {
        if (context.Json)
        {
            context.Consoles.WriteRaw(answer.Text);
        }
        else
        {
            AdminCommand.PrintFields(context.Out, answer.Object);
        }
        return ExitCodes.Ok;
    }
}
