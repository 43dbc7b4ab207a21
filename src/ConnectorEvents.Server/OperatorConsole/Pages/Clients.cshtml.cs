using ConnectorEvents.Core.Clients;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Server.OperatorConsole.Pages;

/// <summary>A client in the list: its endpoints, their state and how they fared among the newest attempts.</summary>
public sealed record ClientRow(
    ClientRecord Client, string? IntegrationUrl, string? GeneralUrl, EndpointTally? Integration, EndpointTally? General,
    EndpointState IntegrationState, EndpointState GeneralState);

/// <summary>The clients, a page at a time, with their endpoints and how many of their recent attempts failed.</summary>
public sealed class ClientsModel(IConnectorStore store) : ConsolePageModel
{
    public const int PageSize = 50;

    public IReadOnlyList<ClientRow> Rows { get; private set; } = [];
    public Guid? Next { get; private set; }

    public void OnGet(Guid? after)
    {
        var page = store.ListClients(PageSize, after);
        var tallies = store.TallyRecentAttempts(IndexModel.AttemptsRanked).ToDictionary(t => (t.ClientId, t.Channel));
        Rows = page.Select(c =>
        {
            var integration = tallies.GetValueOrDefault((c.Id, WebhookChannel.Integration));
            var general = tallies.GetValueOrDefault((c.Id, WebhookChannel.General));
            return new ClientRow(c,
                c.IntegrationWebhookUrl is { } i ? DeliveryLog.Shown(i) : null,
                c.GeneralWebhookUrl is { } g ? DeliveryLog.Shown(g) : null,
                integration, general,
                StateOf(c.IntegrationWebhookDisabledUtc, integration), StateOf(c.GeneralWebhookDisabledUtc, general));
        }).ToList();
        Next = page.Count == PageSize ? page[^1].Id : null;
    }

    /// <summary>An endpoint's state as the newest attempts show it: Failing when its last one failed.</summary>
    public static EndpointState StateOf(DateTimeOffset? disabledUtc, EndpointTally? tally) =>
        disabledUtc is not null ? EndpointState.Disabled
        : tally is { Failures: > 0 } && !(tally.LastSuccessUtc > tally.LastFailureUtc) ? EndpointState.Failing
        : EndpointState.Healthy;
}
