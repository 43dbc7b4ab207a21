using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace ConnectorEvents.Cli;

/// <summary>What an admin subcommand works with: where to print, the server's API, and how the user wants the answer.</summary>
internal sealed class AdminContext(CliConsoles consoles, AdminApi api, bool json)
{
    public CliConsoles Consoles { get; } = consoles;

    public IAnsiConsole Out => Consoles.Out;

    public AdminApi Api { get; } = api;

    /// <summary><c>--json</c>: print the server's answer as it came, instead of tables.</summary>
    public bool Json { get; } = json;
}

/// <summary>
/// The options every admin command family shares (<c>--server</c>, <c>--api-key</c>, <c>--json</c>, each also from the
/// environment where it says so), the runner that turns them into an <see cref="AdminApi"/> and every
/// <see cref="AdminFailure"/> into one error line, and the printing the families share (tables, fields, paging).
/// </summary>
internal sealed class AdminCommand(Func<CliConsoles> consoles, Func<string, string?> environment)
{
    public const string ServerVariable = "CONNECTOR_EVENTS_SERVER";
    public const string ApiKeyVariable = "CONNECTOR_EVENTS_API_KEY";

    /// <summary>Page size of <c>--all</c>: the API's largest.</summary>
    private const int AllPageSize = 500;

    private readonly Option<string?> _server = new("--server")
    {
        Description = $"The server's base URL (default {AdminApi.DefaultServer}, or ${ServerVariable}).",
        Recursive = true,
    };

    private readonly Option<string?> _apiKey = new("--api-key")
    {
        Description = $"An API key of the server (or ${ApiKeyVariable}); never printed.",
        Recursive = true,
    };

    private readonly Option<bool> _json = new("--json") { Description = "Print the server's JSON answer instead of a table.", Recursive = true };

    public Func<CliConsoles> Consoles { get; } = consoles;

    /// <summary><c>-q</c>: print only the id of what was created (or the token that was issued), for scripts.</summary>
    public static Option<bool> Quiet() => new("--quiet", "-q") { Description = "Print only the id of what was created, for scripts." };

    public static Option<int?> Limit() => new("--limit") { Description = "Items per page, 1–500 (the server's default is 100)." };

    public static Option<string?> Cursor() => new("--cursor") { Description = "Start after this cursor (the previous page's last)." };

    public static Option<bool> All() => new("--all") { Description = "Page through every item (shows progress); --limit sets the page size." };

    public static Argument<string> Id(string what) => new("id") { Description = $"The {what}'s id." };

    /// <summary>A command family (<c>integrations</c>, …) carrying the shared options for all its subcommands.</summary>
    public Command Family(string name, string description, params Command[] subcommands)
    {
        var family = new Command(name, description) { _server, _apiKey, _json };
        foreach (var subcommand in subcommands)
        {
            family.Subcommands.Add(subcommand);
        }
        return family;
    }

    /// <summary>A subcommand whose action gets an <see cref="AdminContext"/>; refusals become one error line and their exit code.</summary>
    public Command Sub(string name, string description, Func<AdminContext, ParseResult, CancellationToken, Task<int>> run, params Symbol[] symbols)
    {
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Option option:
                    command.Options.Add(option);
                    break;
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
            }
        }
        command.SetAction((parse, cancellationToken) => RunAsync(parse, run, cancellationToken));
        return command;
    }

    private async Task<int> RunAsync(ParseResult parse, Func<AdminContext, ParseResult, CancellationToken, Task<int>> run,
        CancellationToken cancellationToken)
    {
        var consoles = Consoles();
        var serverText = (Nonempty(parse.GetValue(_server)) ?? Nonempty(environment(ServerVariable)) ?? AdminApi.DefaultServer).Trim();
        if (!Uri.TryCreate(serverText.EndsWith('/') ? serverText : serverText + "/", UriKind.Absolute, out var server)
            || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(server.Host))
        {
            return consoles.Fail(ExitCodes.InvalidInput, $"--server must be an http:// or https:// URL such as {AdminApi.DefaultServer}.");
        }
        var apiKey = Nonempty(parse.GetValue(_apiKey)) ?? Nonempty(environment(ApiKeyVariable));
        if (apiKey is null)
        {
            return consoles.Fail(ExitCodes.InvalidInput,
                $"No API key: pass --api-key <key> or set {ApiKeyVariable} (a server started with 'dotnet run' keeps its admin key in data/admin-api-key).");
        }
        using var api = new AdminApi(server, apiKey.Trim());
        try
        {
            return await run(new AdminContext(consoles, api, parse.GetValue(_json)), parse, cancellationToken).ConfigureAwait(false);
        }
        catch (AdminFailure failure)
        {
            return consoles.Fail(failure.ExitCode, failure.Message);
        }
    }

    private static string? Nonempty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>A path with the query parameters that have a value.</summary>
    public static string WithQuery(string path, params (string Name, string? Value)[] query)
    {
        var given = query.Where(q => !string.IsNullOrEmpty(q.Value)).Select(q => $"{q.Name}={Uri.EscapeDataString(q.Value!)}").ToList();
        return given.Count == 0 ? path : path + "?" + string.Join('&', given);
    }

    /// <summary>
    /// One page of a list (<paramref name="itemsName"/> is its array, as <c>Integrations</c>), or with <paramref name="all"/> every
    /// page, following the cursors with a progress line. Prints the answer as JSON (<c>--json</c>; all pages as one answer of
    /// the same shape) or hands the items back to print as a table (null when printed).
    /// </summary>
    public static async Task<JsonArray?> ListAsync(AdminContext context, string path, string itemsName, (string, string?)[] filters,
        int? limit, string? cursor, bool all, CancellationToken cancellationToken)
    {
        string Page(string? after, int? take) => WithQuery(path, [.. filters, ("limit", take?.ToString(CultureInfo.InvariantCulture)), ("cursor", after)]);
        if (!all)
        {
            var answer = await context.Api.GetAsync(Page(cursor, limit), cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.Consoles.WriteRaw(answer.Text);
                return null;
            }
            var items = answer.Json[itemsName] as JsonArray ?? [];
            var next = (string?)answer.Json["Cursor"];
            if (next is not null)
            {
                context.Consoles.Error.MarkupLine($"[grey]More: --cursor {Markup.Escape(next)} (or --all).[/]");
            }
            return items;
        }

        var collected = new JsonArray();
        var pages = 0;
        async Task FetchAllAsync(Action<string> progress)
        {
            var after = cursor;
            do
            {
                var answer = await context.Api.GetAsync(Page(after, limit ?? AllPageSize), cancellationToken).ConfigureAwait(false);
                pages++;
                foreach (var item in (answer.Json[itemsName] as JsonArray ?? []).ToList())
                {
                    collected.Add(item?.DeepClone());
                }
                after = (string?)answer.Json["Cursor"];
                progress(string.Create(CultureInfo.InvariantCulture, $"{collected.Count:N0} {itemsName.ToLowerInvariant()} fetched ({pages} page{(pages == 1 ? "" : "s")})…"));
            }
            while (after is not null);
        }
        var error = context.Consoles.Error;
        if (error.Profile.Capabilities.Interactive)
        {
            await error.Status().StartAsync($"Fetching {itemsName.ToLowerInvariant()}…", status => FetchAllAsync(text => status.Status(text)))
                .ConfigureAwait(false);
        }
        else
        {
            await FetchAllAsync(_ => { }).ConfigureAwait(false);
        }
        error.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"[grey]{collected.Count:N0} {itemsName.ToLowerInvariant()} in {pages} page{(pages == 1 ? "" : "s")}.[/]"));
        if (context.Json)
        {
            context.Consoles.WriteRaw(new JsonObject { [itemsName] = collected, ["Cursor"] = null }.ToJsonString());
            return null;
        }
        return collected;
    }

    /// <summary>A table of <paramref name="items"/>, one column per (header, cell).</summary>
    public static void PrintTable(IAnsiConsole console, JsonArray items, string empty, params (string Header, Func<JsonNode, string> Cell)[] columns)
    {
        if (items.Count == 0)
        {
            console.MarkupLine($"[grey]{Markup.Escape(empty)}[/]");
            return;
        }
        var table = new Table().Border(TableBorder.Simple);
        foreach (var (header, _) in columns)
        {
            table.AddColumn(new TableColumn(Markup.Escape(header)).NoWrap());
        }
        foreach (var item in items.OfType<JsonNode>())
        {
            table.AddRow(columns.Select(c => new Text(c.Cell(item))).ToArray<Spectre.Console.Rendering.IRenderable>());
        }
        console.Write(table);
    }

    /// <summary>
    /// What a create printed: only the new id with <c>--quiet</c>, the server's answer with <c>--json</c>, else a line and the
    /// <paramref name="fields"/> of the new thing; true in that last case, for a note to follow.
    /// </summary>
    public static bool PrintCreated(AdminContext context, AdminAnswer answer, bool quiet, string what, params string[] fields)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(answer);
        if (quiet)
        {
            context.Consoles.WriteRaw((string?)answer.Json["Id"] ?? "");
            return false;
        }
        if (context.Json)
        {
            context.Consoles.WriteRaw(answer.Text);
            return false;
        }
        context.Out.MarkupLine($"Created {what} [bold]{Markup.Escape(Cell(answer.Json["Id"]))}[/].");
        PrintFields(context.Out, answer.Object, fields);
        return true;
    }

    /// <summary>Named values of one thing, one per line; <paramref name="fields"/> null shows every property in order.</summary>
    public static void PrintFields(IAnsiConsole console, JsonObject thing, params string[] fields)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        foreach (var field in fields.Length == 0 ? thing.Select(p => p.Key) : fields.Where(thing.ContainsKey))
        {
            grid.AddRow(new Text(field), new Text(Cell(thing[field], field)));
        }
        console.Write(grid);
    }

    /// <summary>A value as a table cell: text as is (a URL with its <c>Token</c> masked), other values as JSON, null empty.</summary>
    public static string Cell(JsonNode? node, string? field = null) => node switch
    {
        null => "",
        JsonValue value when value.GetValueKind() == JsonValueKind.String =>
            field is not null && field.EndsWith("Url", StringComparison.Ordinal) && Uri.TryCreate((string)value!, UriKind.Absolute, out var url)
                ? Secrets.Redact(url)
                : (string)value!,
        JsonArray array => string.Join(", ", array.Select(item => Cell(item))),
        _ => node.ToJsonString(),
    };

    /// <summary>The string at <paramref name="field"/> of an item, for a column.</summary>
    public static Func<JsonNode, string> Field(string field) => item => Cell(item[field], field);
}
