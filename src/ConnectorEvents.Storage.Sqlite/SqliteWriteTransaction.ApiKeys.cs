using ConnectorEvents.Core.ApiKeys;
using ConnectorEvents.Core.Storage;
using static ConnectorEvents.Storage.Sqlite.SqliteRows;

namespace ConnectorEvents.Storage.Sqlite;

/// <summary>API keys: kept as digests, deleted for good, their last use recorded.</summary>
internal sealed partial class SqliteWriteTransaction
{
    public void InsertApiKey(ApiKeyRecord apiKey)
    {
        ArgumentNullException.ThrowIfNull(apiKey);
        Execute(_connection, _tx, $"INSERT INTO api_keys ({ApiKeyColumns}) VALUES ($id, $name, $role, $e, $hash, $prefix, $created, NULL)",
            ("$id", Db(apiKey.Id)), ("$name", apiKey.Name), ("$role", apiKey.Role.ToString()),
            ("$e", Db(ApiKeyEnterprises.ToStorage(apiKey.EnterpriseIds))), ("$hash", apiKey.Key.Hash), ("$prefix", apiKey.Key.Prefix),
            ("$created", Db(apiKey.CreatedUtc)));
    }

    public bool DeleteApiKey(Guid id) => Execute(_connection, _tx, "DELETE FROM api_keys WHERE id = $id", ("$id", Db(id))) > 0;

    public void RecordApiKeyUse(Guid id, DateTimeOffset usedUtc) =>
        Execute(_connection, _tx, "UPDATE api_keys SET last_used_utc = MAX(COALESCE(last_used_utc, 0), $used) WHERE id = $id",
            ("$id", Db(id)), ("$used", Db(usedUtc)));
}
