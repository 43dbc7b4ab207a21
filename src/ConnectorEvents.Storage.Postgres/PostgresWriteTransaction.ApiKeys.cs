using ConnectorEvents.Core.ApiKeys;
using ConnectorEvents.Core.Storage;
using static ConnectorEvents.Storage.Postgres.PostgresRows;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>API keys: kept as digests, deleted for good, their last use recorded.</summary>
internal sealed partial class PostgresWriteTransaction
{
    public void InsertApiKey(ApiKeyRecord apiKey)
    {
        ArgumentNullException.ThrowIfNull(apiKey);
        Execute(Sent, _tx, $"INSERT INTO api_keys ({ApiKeyColumns}) VALUES (@id, @name, @role, @e, @hash, @prefix, @created, NULL)",
            ("id", apiKey.Id), ("name", apiKey.Name), ("role", apiKey.Role.ToString()),
            ("e", Db(ApiKeyEnterprises.ToStorage(apiKey.EnterpriseIds))), ("hash", apiKey.Key.Hash), ("prefix", apiKey.Key.Prefix),
            ("created", Db(apiKey.CreatedUtc)));
    }

    public bool DeleteApiKey(Guid id) => Execute(Sent, _tx, "DELETE FROM api_keys WHERE id = @id", ("id", id)) > 0;

    public void RecordApiKeyUse(Guid id, DateTimeOffset usedUtc) =>
        Defer("UPDATE api_keys SET last_used_utc = GREATEST(last_used_utc, @used) WHERE id = @id", ("id", id), ("used", Db(usedUtc)));
}
