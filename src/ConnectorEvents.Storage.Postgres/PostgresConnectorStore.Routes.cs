using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Storage;
using static ConnectorEvents.Storage.Postgres.PostgresRows;

namespace ConnectorEvents.Storage.Postgres;

public sealed partial class PostgresConnectorStore
{
    public IReadOnlyList<GeneralRoute> ListGeneralRoutes(Guid enterpriseId) => Read(c => Many(c, null,
        r => new GeneralRoute(r.GetGuid(0), EventSubscription.FromStorage(Text(r, 1)), r.GetBoolean(2), ContractVersion.Parse(r.GetString(3))),
        """
        SELECT i.id, i.general_events, c.general_webhook_url IS NOT NULL, c.contract_version
        FROM integrations i JOIN clients c ON c.id = i.client_id
        WHERE i.enterprise_id = @e AND i.state = 'Enabled'
        """, ("e", enterpriseId)));
}
