using ConnectorEvents.Core.Security;
using static ConnectorEvents.Storage.Sqlite.SqliteRows;

namespace ConnectorEvents.Storage.Sqlite;

/// <summary>The secret sweep: encrypting again, under the current key, what a batch of rows holds under another (or none).</summary>
internal sealed partial class SqliteWriteTransaction
{
    public SecretSweepBatch ReprotectSecrets(SecretSweepPosition from, int limit)
    {
        ArgumentNullException.ThrowIfNull(from);
        var work = new SecretSweepWork(_secrets);
        string? last = null;
        int read;
        switch (from.Table)
        {
            case SweptTable.Clients:
                var clients = Many(_connection, _tx, r => (Id: r.GetString(0), Integration: Text(r, 1), General: Text(r, 2)),
                    "SELECT id, integration_webhook_url, general_webhook_url FROM clients WHERE id > $after ORDER BY id LIMIT $limit",
                    ("$after", from.After ?? ""), ("$limit", limit));
                foreach (var (id, integrationUrl, generalUrl) in clients)
                {
                    var clientId = Guid.Parse(id);
                    var integration = work.Reprotect(integrationUrl, ProtectedColumns.IntegrationWebhookUrl(clientId));
                    var general = work.Reprotect(generalUrl, ProtectedColumns.GeneralWebhookUrl(clientId));
                    if (integration is not null || general is not null)
                    {
                        Execute(_connection, _tx, "UPDATE clients SET integration_webhook_url = $i, general_webhook_url = $g WHERE id = $id",
                            ("$id", id), ("$i", Db(integration ?? integrationUrl)), ("$g", Db(general ?? generalUrl)));
                    }
                }
                (read, last) = (clients.Count, clients.LastOrDefault().Id);
                break;
            case SweptTable.SigningSecrets:
                var secrets = Many(_connection, _tx, r => (RowId: r.GetInt64(0), ClientId: Id(r, 1), Secret: r.GetString(2)),
                    "SELECT rowid, client_id, secret FROM client_secrets WHERE rowid > $after ORDER BY rowid LIMIT $limit",
                    ("$after", long.Parse(from.After ?? "0", System.Globalization.CultureInfo.InvariantCulture)), ("$limit", limit));
                foreach (var (rowId, clientId, secret) in secrets)
                {
                    if (work.Reprotect(secret, ProtectedColumns.SigningSecret(clientId)) is { } reprotected)
                    {
                        Execute(_connection, _tx, "UPDATE client_secrets SET secret = $s WHERE rowid = $r", ("$r", rowId), ("$s", reprotected));
                    }
                }
                (read, last) = (secrets.Count, secrets.LastOrDefault().RowId.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            default:
                var bodies = Many(_connection, _tx, r => (Seq: r.GetInt64(0), Id: r.GetString(1), Body: (byte[])r.GetValue(2)), $"""
                    SELECT seq, id, body FROM messages INDEXED BY ix_messages_token_bearing
                    WHERE event_type IN {TokenBearingMessages.SqlList} AND seq > $after ORDER BY seq LIMIT $limit
                    """, ("$after", long.Parse(from.After ?? "0", System.Globalization.CultureInfo.InvariantCulture)), ("$limit", limit));
                foreach (var (seq, id, body) in bodies)
                {
                    if (work.Reprotect(body, ProtectedColumns.MessageBody(id)) is { } reprotected)
                    {
                        Execute(_connection, _tx, "UPDATE messages SET body = $b WHERE seq = $seq", ("$seq", seq), ("$b", reprotected));
                    }
                }
                (read, last) = (bodies.Count, bodies.LastOrDefault().Seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
        }
        return work.Done(from.Next(read, limit, last));
    }
}
