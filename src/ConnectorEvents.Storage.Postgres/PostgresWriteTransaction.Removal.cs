using ConnectorEvents.Core.Storage;
using static ConnectorEvents.Storage.Postgres.PostgresRows;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>
/// Deleting a client or an enterprise: only once its integrations are Deleted and their messages settled. The integrations
/// (and an enterprise) are locked before they are counted, NOWAIT as everywhere in a group: a retry or an append in another
/// process then either commits first, and is counted, or waits for the delete and finds nothing.
/// </summary>
internal sealed partial class PostgresWriteTransaction
{
    public RemovalHold FindRemovalHold(IntegrationOwner owner, Guid ownerId)
    {
        var column = OwnerColumn(owner);
        using var read = Query(
            Statement(owner == IntegrationOwner.Enterprise
                ? "SELECT 1 FROM enterprises WHERE id = @id FOR UPDATE NOWAIT"
                : "SELECT 1 FROM clients WHERE id = @id FOR UPDATE NOWAIT", ("id", ownerId)),
            Statement($"SELECT 1 FROM integrations WHERE {column} = @id FOR UPDATE NOWAIT", ("id", ownerId)),
            Statement($"""
                SELECT (SELECT count(*) FROM integrations WHERE {column} = @id AND state <> 'Deleted')::int,
                       (SELECT count(*) FROM integrations i JOIN messages m ON m.integration_id = i.id
                        WHERE i.{column} = @id AND m.status = 'Pending' AND NOT {Settled}
                          AND m.queue_seq > COALESCE((SELECT settled_through FROM lanes l
                              WHERE l.integration_id = m.integration_id AND l.channel = m.channel), 0))::int
                """, ("id", ownerId)));
        var reader = read.Reader;
        reader.NextResult();
        reader.NextResult();
        reader.Read();
        return new RemovalHold(reader.GetInt32(0), reader.GetInt32(1));
    }

    public void DeleteClient(Guid clientId)
    {
        DeleteIntegrationsOf(IntegrationOwner.Client, clientId);
        Defer("DELETE FROM client_secrets WHERE client_id = @id", ("id", clientId));
        Defer("DELETE FROM clients WHERE id = @id", ("id", clientId));
        _clients.Remove(clientId);
        _announcements.Add($"c {clientId}");
    }

    public void DeleteEnterprise(Guid enterpriseId)
    {
        DeleteIntegrationsOf(IntegrationOwner.Enterprise, enterpriseId);
        Defer("DELETE FROM services WHERE enterprise_id = @id", ("id", enterpriseId));
        Defer("DELETE FROM general_events WHERE enterprise_id = @id", ("id", enterpriseId));
        Defer("DELETE FROM ingest_requests WHERE enterprise_id = @id", ("id", enterpriseId));
        Defer("DELETE FROM enterprises WHERE id = @id", ("id", enterpriseId));
        _heldForAppend.Remove(enterpriseId);
        _enabledIn.Remove(enterpriseId);
    }

    private void DeleteIntegrationsOf(IntegrationOwner owner, Guid ownerId)
    {
        var column = OwnerColumn(owner);
        Defer($"DELETE FROM lanes WHERE integration_id IN (SELECT id FROM integrations WHERE {column} = @id)", ("id", ownerId));
        Defer($"DELETE FROM integrations WHERE {column} = @id", ("id", ownerId));
        foreach (var cached in _integrations.Values.Where(i => (owner == IntegrationOwner.Client ? i.ClientId : i.EnterpriseId) == ownerId).ToList())
        {
            _integrations.Remove(cached.Id);
            _cursors.Remove(cached.Id);
        }
    }

    private static string OwnerColumn(IntegrationOwner owner) => owner == IntegrationOwner.Client ? "client_id" : "enterprise_id";
}
