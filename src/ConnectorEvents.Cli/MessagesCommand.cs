using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace ConnectorEvents.Cli;

/// <summary><c>messages list|show|retry</c> against a running server: what was sent, each attempt, and sending one again.</summary>
internal static class MessagesCommand
{
    private const string Path = "api/v1/messages";

    public static Command Create(AdminCommand admin) =>
        admin.Family("messages", "Webhook messages of a running server: list (newest first), show (body and attempts), retry.",
            List(admin), Show(admin), Retry(admin));

    private static Command List(AdminCommand admin)
    {
        var client = new Option<string?>("--client-id") { Description = "Only this client's." };
        var integration = new Option<string?>("--integration-id") { Description = "Only this integration's." };
        var status = new Option<string?>("--status") { Description = "Only in this status: Pending, Delivered, Failed, Skipped." };
        var limit = AdminCommand.Limit();
        var cursor = AdminCommand.Cursor();
        var all = AdminCommand.All();
        return admin.Sub("list", "List messages, newest first.", async (context, parse, ct) =>
        {
            var items = await AdminCommand.ListAsync(context, Path, "Messages",
                [("clientId", parse.GetValue(client)), ("integrationId", parse.GetValue(integration)), ("status", parse.GetValue(status))],
                parse.GetValue(limit), parse.GetValue(cursor), parse.GetValue(all), ct).ConfigureAwait(false);
            if (items is not null)
            {
                AdminCommand.PrintTable(context.Out, items, "No messages.",
                    ("Id", AdminCommand.Field("Id")), ("Channel", AdminCommand.Field("Channel")), ("Event", AdminCommand.Field("EventType")),
                    ("Status", AdminCommand.Field("Status")), ("Attempts", AdminCommand.Field("AttemptCount")),
                    ("Integration", AdminCommand.Field("IntegrationId")), ("Created", AdminCommand.Field("CreatedUtc")),
                    ("Completed", AdminCommand.Field("CompletedUtc")), ("Next attempt", AdminCommand.Field("NextAttemptUtc")));
            }
            return ExitCodes.Ok;
        }, client, integration, status, limit, cursor, all);
    }

    private static Command Show(AdminCommand admin)
    {
        var id = AdminCommand.Id("message");
        return admin.Sub("show", "Show a message: its summary, every attempt, and the body as sent (a token in it cut to its prefix).",
            async (context, parse, ct) =>
            {
                var answer = await context.Api.GetAsync($"{Path}/{Uri.EscapeDataString(parse.GetValue(id)!)}", ct).ConfigureAwait(false);
                if (context.Json)
                {
                    context.Consoles.WriteRaw(answer.Text);
                    return ExitCodes.Ok;
                }
                AdminCommand.PrintFields(context.Out, answer.Json["Message"] as JsonObject ?? []);
                context.Out.WriteLine();
                AdminCommand.PrintTable(context.Out, answer.Json["Attempts"] as JsonArray ?? [], "No attempts yet.",
                    ("#", AdminCommand.Field("AttemptNumber")), ("Started", AdminCommand.Field("StartedUtc")),
                    ("Ms", item => AdminCommand.Cell(item["DurationMs"]) is { Length: > 0 } ms && double.TryParse(ms,
                        System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
                        ? value.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) : ""),
                    ("Status", AdminCommand.Field("StatusCode")), ("Error", item => AdminCommand.Cell(item["ErrorKind"]) is { Length: > 0 } kind
                        ? $"{kind}: {AdminCommand.Cell(item["Error"])}" : ""),
                    ("URL", AdminCommand.Field("Url")));
                context.Out.WriteLine();
                context.Out.MarkupLine("[bold]Body[/]");
                var body = answer.Json["Body"];
                foreach (var line in JsonText.Indent(body is null ? "null" : JsonText.Pretty(body)))
                {
                    context.Out.WriteLine(line);
                }
                return ExitCodes.Ok;
            }, id);
    }

    private static Command Retry(AdminCommand admin)
    {
        var id = AdminCommand.Id("message");
        return admin.Sub("retry", "Send a Delivered or Failed message again, with the same webhook-id.", async (context, parse, ct) =>
        {
            var answer = await context.Api.SendAsync(HttpMethod.Post, $"{Path}/{Uri.EscapeDataString(parse.GetValue(id)!)}/retry", null, ct)
                .ConfigureAwait(false);
            if (context.Json)
            {
                context.Consoles.WriteRaw(answer.Text);
            }
            else
            {
                context.Out.MarkupLine($"Message [bold]{Markup.Escape(AdminCommand.Cell(answer.Json["Id"]))}[/] is "
                    + $"[bold]{Markup.Escape(AdminCommand.Cell(answer.Json["Status"]))}[/] again: it is sent after what is queued for its integration.");
            }
            return ExitCodes.Ok;
        }, id);
    }
}
