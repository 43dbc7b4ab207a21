using ConnectorEvents.Core.ApiKeys;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using static ConnectorEvents.Storage.Postgres.PostgresRows;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>API keys, and encrypting stored secrets again under the current key.</summary>
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

    public int ReprotectSecrets(int limit)
    {
        var text = _secrets.CurrentTextPrefix;
        var done = 0;
        foreach (var (id, integrationUrl, generalUrl) in Many(Sent, _tx, r => (r.GetGuid(0), Text(r, 1), Text(r, 2)), """
            SELECT id, integration_webhook_url, general_webhook_url FROM clients
            WHERE left(integration_webhook_url, length(@p)) <> @p OR left(general_webhook_url, length(@p)) <> @p
            LIMIT @limit FOR UPDATE SKIP LOCKED
            """, ("p", text), ("limit", limit)))
        {
            Execute(Sent, _tx, "UPDATE clients SET integration_webhook_url = @i, general_webhook_url = @g WHERE id = @id",
                ("id", id), ("i", Db(_secrets.Reprotect(integrationUrl, ProtectedColumns.IntegrationWebhookUrl(id)))),
                ("g", Db(_secrets.Reprotect(generalUrl, ProtectedColumns.GeneralWebhookUrl(id)))));
            _announcements.Add($"c {id}");
            done++;
        }
        foreach (var (clientId, secret) in Many(Sent, _tx, r => (r.GetGuid(0), r.GetString(1)), """
            SELECT client_id, secret FROM client_secrets WHERE left(secret, length(@p)) <> @p LIMIT @limit FOR UPDATE SKIP LOCKED
            """, ("p", text), ("limit", limit - done)))
        {
            // A stored value names its row: a nonce makes every encrypted one unique, and legacy secrets are random.
            Execute(Sent, _tx, "UPDATE client_secrets SET secret = @s WHERE client_id = @c AND secret = @old",
                ("c", clientId), ("old", secret), ("s", _secrets.Reprotect(secret, ProtectedColumns.SigningSecret(clientId))));
            done++;
        }
        var binary = _secrets.CurrentBinaryPrefix;
        foreach (var (seq, messageId, body) in Many(Sent, _tx, r => (r.GetInt64(0), r.GetString(1), r.GetFieldValue<byte[]>(2)), $"""
            SELECT seq, id, body FROM messages
            WHERE event_type IN {TokenBearingMessages.SqlList} AND substring(body from 1 for {binary.Length}) <> @p LIMIT @limit FOR UPDATE SKIP LOCKED
            """, ("p", binary), ("limit", limit - done)))
        {
            Execute(Sent, _tx, "UPDATE messages SET body = @b WHERE seq = @seq",
                ("seq", seq), ("b", _secrets.Reprotect(body, ProtectedColumns.MessageBody(messageId))));
            done++;
        }
        return done;
    }
}
