using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Server.OperatorConsole.Pages;

/// <summary>Integrations filtered by enterprise, client and state, a page at a time.</summary>
public sealed class IntegrationsModel(IConnectorStore store) : ConsolePageModel
{
    public const int PageSize = 50;

    /// <summary>Choices offered in the filters' lists; more are reached by pasting an id into the URL.</summary>
    private const int ChoicesListed = 200;

    public Guid? Enterprise { get; private set; }
    public Guid? ClientId { get; private set; }
    public IntegrationState? State { get; private set; }
    public IReadOnlyList<IntegrationRecord> Rows { get; private set; } = [];
    public IReadOnlyList<EnterpriseRecord> Enterprises { get; private set; } = [];
    public IReadOnlyList<ClientRecord> Clients { get; private set; } = [];
    public Guid? Next { get; private set; }

    public void OnGet(Guid? enterprise, Guid? client, IntegrationState? state, Guid? after)
    {
        (Enterprise, ClientId, State) = (enterprise, client, state);
        Enterprises = store.ListEnterprises(ChoicesListed, null);
        Clients = store.ListClients(ChoicesListed, null);
        Rows = store.ListIntegrations(new IntegrationQuery(enterprise, client, state, PageSize, after));
        Next = Rows.Count == PageSize ? Rows[^1].Id : null;
    }

    public string EnterpriseName(Guid id) => Enterprises.FirstOrDefault(e => e.Id == id)?.Name ?? Show.Abbreviated(id);

    public string ClientName(Guid id) => Clients.FirstOrDefault(c => c.Id == id)?.Name ?? Show.Abbreviated(id);
}
