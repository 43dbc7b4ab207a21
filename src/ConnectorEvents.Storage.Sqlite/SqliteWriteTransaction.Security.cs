using ConnectorEvents.Core.ApiKeys;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using static ConnectorEvents.Storage.Sqlite.SqliteRows;

namespace ConnectorEvents.Storage.Sqlite;

/// <summary>API keys, and encrypting stored secrets again under the current key.</summary>
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

    public int ReprotectSecrets(int limit)
    {
        var text = _secrets.CurrentTextPrefix;
        var textLength = text.Length;
        var done = 0;
        foreach (var (id, integrationUrl, generalUrl) in Many(_connection, _tx, r => (Id(r, 0), Text(r, 1), Text(r, 2)), $"""
            SELECT id, integration_webhook_url, general_webhook_url FROM clients
            WHERE substr(integration_webhook_url, 1, {textLength}) <> $p OR substr(general_webhook_url, 1, {textLength}) <> $p LIMIT $limit
            """, ("$p", text), ("$limit", limit)))
        {
            Execute(_connection, _tx, "UPDATE clients SET integration_webhook_url = $i, general_webhook_url = $g WHERE id = $id",
                ("$id", Db(id)), ("$i", Db(_secrets.Reprotect(integrationUrl, ProtectedColumns.IntegrationWebhookUrl(id)))),
                ("$g", Db(_secrets.Reprotect(generalUrl, ProtectedColumns.GeneralWebhookUrl(id)))));
            done++;
        }
        foreach (var (clientId, secret) in Many(_connection, _tx, r => (Id(r, 0), r.GetString(1)), $"""
            SELECT client_id, secret FROM client_secrets WHERE substr(secret, 1, {textLength}) <> $p LIMIT $limit
            """, ("$p", text), ("$limit", limit - done)))
        {
            // A stored value names its row: a nonce makes every encrypted one unique, and legacy secrets are random.
            Execute(_connection, _tx, "UPDATE client_secrets SET secret = $s WHERE client_id = $c AND secret = $old",
                ("$c", Db(clientId)), ("$old", secret), ("$s", _secrets.Reprotect(secret, ProtectedColumns.SigningSecret(clientId))));
            done++;
        }
        var binary = _secrets.CurrentBinaryPrefix;
        foreach (var (seq, messageId, body) in Many(_connection, _tx, r => (r.GetInt64(0), r.GetString(1), (byte[])r.GetValue(2)), $"""
            SELECT seq, id, body FROM messages INDEXED BY ix_messages_token_bearing
            WHERE event_type IN {TokenBearingMessages.SqlList} AND substr(body, 1, {binary.Length}) <> $p LIMIT $limit
            """, ("$p", binary), ("$limit", limit - done)))
        {
            Execute(_connection, _tx, "UPDATE messages SET body = $b WHERE seq = $seq",
                ("$seq", seq), ("$b", _secrets.Reprotect(body, ProtectedColumns.MessageBody(messageId))));
            done++;
        }
        return done;
    }
}
