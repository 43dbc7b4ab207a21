using ConnectorEvents.Core.Storage;
using static ConnectorEvents.Storage.Sqlite.SqliteRows;

namespace ConnectorEvents.Storage.Sqlite;

/// <summary>Deleting a client or an enterprise: only once its integrations are Deleted and their messages settled.</summary>
internal sealed partial class SqliteWriteTransaction
{
    public RemovalHold FindRemovalHold(IntegrationOwner owner, Guid ownerId)
    {
        var column = OwnerColumn(owner);
        return Many(_connection, _tx, r => new RemovalHold(r.GetInt32(0), r.GetInt32(1)), $"""
            SELECT (SELECT COUNT(*) FROM integrations WHERE {column} = $id AND state <> 'Deleted'),
                   (SELECT COUNT(*) FROM integrations i CROSS JOIN messages m ON m.integration_id = i.id {OutcomeOfMessage}
                    WHERE i.{column} = $id
                      AND m.queue_seq > COALESCE((SELECT settled_through FROM lanes l
                          WHERE l.integration_id = m.integration_id AND l.channel = m.channel), 0)
                      AND {EffectiveStatus} = 'Pending')
            """, ("$id", Db(ownerId)))[0];
    }

    public void DeleteClient(Guid clientId) => Execute(_connection, _tx, $"""
        {DeleteIntegrationsOf(IntegrationOwner.Client)}
        DELETE FROM client_secrets WHERE client_id = $id;
        DELETE FROM clients WHERE id = $id;
        """, ("$id", Db(clientId)));

    public void DeleteEnterprise(Guid enterpriseId) => Execute(_connection, _tx, $"""
        {DeleteIntegrationsOf(IntegrationOwner.Enterprise)}
        DELETE FROM services WHERE enterprise_id = $id;
        DELETE FROM general_events WHERE enterprise_id = $id;
        DELETE FROM ingest_requests WHERE enterprise_id = $id;
        DELETE FROM enterprises WHERE id = $id;
        """, ("$id", Db(enterpriseId)));

    private static string DeleteIntegrationsOf(IntegrationOwner owner) => $"""
        DELETE FROM lanes WHERE integration_id IN (SELECT id FROM integrations WHERE {OwnerColumn(owner)} = $id);
        DELETE FROM integrations WHERE {OwnerColumn(owner)} = $id;
        """;

    private static string OwnerColumn(IntegrationOwner owner) => owner == IntegrationOwner.Client ? "client_id" : "enterprise_id";
}
