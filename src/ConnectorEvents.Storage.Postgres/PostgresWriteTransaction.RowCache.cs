using ConnectorEvents.Core.Storage;
using static ConnectorEvents.Storage.Postgres.PostgresRows;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>
/// The integrations, clients and General cursors this transaction read or wrote, so that reading one again costs no round
/// trip: a disable reads its integration and client twice, and the units of one group often share a client. An
/// integration is read FOR UPDATE, so nobody else changes it before the commit; a client is read without a lock, so its
/// copy is as fresh as a read at its first use in the group (a read in READ COMMITTED promises no more). What a unit put
/// here is forgotten when the unit rolls back, with its writes.
/// </summary>
internal sealed partial class PostgresWriteTransaction
{
    private readonly Dictionary<Guid, IntegrationRecord> _integrations = [];
    private readonly Dictionary<Guid, long> _cursors = [];
    private readonly Dictionary<Guid, ClientRecord> _clients = [];
    private readonly List<Guid> _cachedInUnit = [];

    // FOR UPDATE (a client only when asked): a state change reads, decides and writes; the row lock keeps another
    // process from deciding on a stale row. NOWAIT everywhere: a group transaction already holds rows of earlier units, so
    // waiting here could deadlock with another process's group; instead the unit fails at once (55P03) and the writer runs
    // it in a later transaction.
    public ClientRecord? FindClient(Guid id, bool forUpdate = false)
    {
        if (!forUpdate && _clients.TryGetValue(id, out var cached))
        {
            return cached;
        }
        using var read = Query(Statement($"SELECT {ClientColumns} FROM clients WHERE id = @id{(forUpdate ? " FOR UPDATE NOWAIT" : "")}", ("id", id)));
        return read.Reader.Read() ? Cache(Client(read.Reader, _secrets)) : null;
    }

    // The General cursor and the client come along in the same round trip: nearly every integration command reads its
    // client next, and leaving Enabled reads the cursor.
    public IntegrationRecord? FindIntegration(Guid id)
    {
        if (_integrations.TryGetValue(id, out var cached))
        {
            return cached;
        }
        using var read = Query(
            Statement($"SELECT {IntegrationColumns}, general_cursor FROM integrations WHERE id = @id FOR UPDATE NOWAIT", ("id", id)),
            Statement($"SELECT {ClientColumns} FROM clients WHERE id = (SELECT client_id FROM integrations WHERE id = @id)", ("id", id)));
        var reader = read.Reader;
        if (!reader.Read())
        {
            return null;
        }
        var integration = Cache(Integration(reader));
        _cursors[id] = reader.IsDBNull(16) ? 0 : reader.GetInt64(16);
        if (reader.NextResult() && reader.Read() && !_clients.ContainsKey(integration.ClientId))
        {
            Cache(Client(reader, _secrets));
        }
        return integration;
    }

    public long GeneralCursor(Guid integrationId)
    {
        if (_cursors.TryGetValue(integrationId, out var cached))
        {
            return cached;
        }
        using var read = Query(Statement("SELECT general_cursor FROM integrations WHERE id = @id", ("id", integrationId)));
        var cursor = read.Reader.Read() && !read.Reader.IsDBNull(0) ? read.Reader.GetInt64(0) : 0;
        _cursors[integrationId] = cursor;
        _cachedInUnit.Add(integrationId);
        return cursor;
    }

    public void SetGeneralCursor(Guid integrationId, long seq)
    {
        _cursors[integrationId] = seq;
        _cachedInUnit.Add(integrationId);
        // Into the integration's UPDATE when that is the last statement, still unsent (an enable writes its state, then this):
        // a second UPDATE of a row this transaction changed runs its three foreign-key checks (59 µs against 26 µs for the
        // first, pg_stat_statements). Being last, it belongs to the unit at work, so a rollback takes both.
        if (_deferred.Count > 0 && _deferred[^1] is { CommandText: $"{UpdateIntegrationSql} WHERE id = @id" } update
            && update.Parameters["id"].Value is Guid id && id == integrationId)
        {
#pragma warning disable CA2100 // the SQL is this provider's own text; the value goes in as a parameter
            update.CommandText = $"{UpdateIntegrationSql}, general_cursor = @cursor WHERE id = @id";
#pragma warning restore CA2100
            update.Parameters.AddWithValue("cursor", seq);
            return;
        }
        Defer("UPDATE integrations SET general_cursor = @seq WHERE id = @id", ("id", integrationId), ("seq", seq));
    }

    private IntegrationRecord Cache(IntegrationRecord integration)
    {
        ArgumentNullException.ThrowIfNull(integration);
        _integrations[integration.Id] = integration;
        _cachedInUnit.Add(integration.Id);
        return integration;
    }

    private ClientRecord Cache(ClientRecord client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _clients[client.Id] = client;
        _cachedInUnit.Add(client.Id);
        return client;
    }

    /// <summary>The unit rolled back: what it read or wrote is read again from the database next time.</summary>
    private void ForgetCachedInUnit()
    {
        foreach (var id in _cachedInUnit)
        {
            _integrations.Remove(id);
            _clients.Remove(id);
            _cursors.Remove(id);
        }
        _cachedInUnit.Clear();
    }
}
