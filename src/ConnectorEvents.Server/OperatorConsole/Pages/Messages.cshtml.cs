using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Server.OperatorConsole.Pages;

/// <summary>Messages, newest first, filtered by status, client, integration, channel and creation time, a page at a time.</summary>
public sealed class MessagesModel(IConnectorStore store) : ConsolePageModel
{
    public const int PageSize = 50;

    public MessageStatus? Status { get; private set; }
    public Guid? ClientId { get; private set; }
    public Guid? IntegrationId { get; private set; }
    public WebhookChannel? Channel { get; private set; }
    public string? Since { get; private set; }
    public string? Until { get; private set; }
    public IReadOnlyList<MessageRecord> Rows { get; private set; } = [];
    public IReadOnlyList<ClientRecord> Clients { get; private set; } = [];
    public long? Next { get; private set; }

    /// <summary>Filters given a value this page cannot read (typed into the URL): left out, and named above the list.</summary>
    public IReadOnlyList<string> Ignored { get; private set; } = [];

    public void OnGet(MessageStatus? status, Guid? client, Guid? integration, WebhookChannel? channel, string? since, string? until, long? before)
    {
        (Status, ClientId, IntegrationId, Channel, Since, Until) = (status, client, integration, channel, since, until);
        var (from, to) = (Show.ParseInput(since), Show.ParseInput(until));
        var ignored = ModelState.Where(e => e.Value?.Errors.Count > 0).Select(e => e.Key).ToList(); // status, ids, channel
        if (!string.IsNullOrWhiteSpace(since) && from is null)
        {
            ignored.Add("since");
        }
        if (!string.IsNullOrWhiteSpace(until) && to is null)
        {
            ignored.Add("until");
        }
        Ignored = ignored;
        Clients = store.ListClients(200, null);
        Rows = store.ListMessages(new MessageQuery(client, integration, status, before, PageSize, channel, from, to));
        Next = Rows.Count == PageSize ? Rows[^1].Seq : null;
    }

    /// <summary>This page's filters with a cursor, for the next page's link.</summary>
    public string NextUrl(long before) =>
        "/console/messages" + new Microsoft.AspNetCore.Http.Extensions.QueryBuilder(new Dictionary<string, string>
        {
            ["status"] = Status?.ToString() ?? "", ["client"] = ClientId?.ToString() ?? "", ["integration"] = IntegrationId?.ToString() ?? "",
            ["channel"] = Channel?.ToString() ?? "", ["since"] = Since ?? "", ["until"] = Until ?? "",
            ["before"] = before.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }.Where(p => p.Value.Length > 0));
}
