using ConnectorEvents.Core.Security;
using static ConnectorEvents.Storage.Postgres.PostgresRows;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>The secret sweep: encrypting again, under the current key, what a batch of rows holds under another (or none).</summary>
internal sealed partial class PostgresWriteTransaction
{
    public SecretSweepBatch ReprotectSecrets(SecretSweepPosition from, int limit)
    {
        ArgumentNullException.ThrowIfNull(from);
        var work = new SecretSweepWork(_secrets);
        string? last = null;
        int read;
        // Rows another process is writing right now are skipped (SKIP LOCKED): their writer encrypts them under its key, and
        // the next start's sweep reads them again. No change is announced: the values mean what they meant.
        switch (from.Table)
        {
            case SweptTable.Clients:
                var clients = Many(Sent, _tx, r => (Id: r.GetGuid(0), Integration: Text(r, 1), General: Text(r, 2)), """
                    SELECT id, integration_webhook_url, general_webhook_url FROM clients
                    WHERE id > @after ORDER BY id LIMIT @limit FOR UPDATE SKIP LOCKED
                    """, ("after", from.After is null ? Guid.Empty : Guid.Parse(from.After)), ("limit", limit));
                foreach (var (id, integrationUrl, generalUrl) in clients)
                {
                    var integration = work.Reprotect(integrationUrl, ProtectedColumns.IntegrationWebhookUrl(id));
                    var general = work.Reprotect(generalUrl, ProtectedColumns.GeneralWebhookUrl(id));
                    if (integration is not null || general is not null)
                    {
                        Execute(Sent, _tx, "UPDATE clients SET integration_webhook_url = @i, general_webhook_url = @g WHERE id = @id",
                            ("id", id), ("i", Db(integration ?? integrationUrl)), ("g", Db(general ?? generalUrl)));
                    }
                }
                (read, last) = (clients.Count, clients.LastOrDefault().Id.ToString());
                break;
            case SweptTable.SigningSecrets:
                var secrets = Many(Sent, _tx, r => (Seq: r.GetInt64(0), ClientId: r.GetGuid(1), Secret: r.GetString(2)), """
                    SELECT seq, client_id, secret FROM client_secrets WHERE seq > @after ORDER BY seq LIMIT @limit FOR UPDATE SKIP LOCKED
                    """, ("after", long.Parse(from.After ?? "0", System.Globalization.CultureInfo.InvariantCulture)), ("limit", limit));
                foreach (var (seq, clientId, secret) in secrets)
                {
                    if (work.Reprotect(secret, ProtectedColumns.SigningSecret(clientId)) is { } reprotected)
                    {
                        Execute(Sent, _tx, "UPDATE client_secrets SET secret = @s WHERE seq = @seq", ("seq", seq), ("s", reprotected));
                    }
                }
                (read, last) = (secrets.Count, secrets.LastOrDefault().Seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            default:
                var bodies = Many(Sent, _tx, r => (Seq: r.GetInt64(0), Id: r.GetString(1), Body: r.GetFieldValue<byte[]>(2)), $"""
                    SELECT seq, id, body FROM messages
                    WHERE event_type IN {TokenBearingMessages.SqlList} AND seq > @after ORDER BY seq LIMIT @limit FOR UPDATE SKIP LOCKED
                    """, ("after", long.Parse(from.After ?? "0", System.Globalization.CultureInfo.InvariantCulture)), ("limit", limit));
                foreach (var (seq, id, body) in bodies)
                {
                    if (work.Reprotect(body, ProtectedColumns.MessageBody(id)) is { } reprotected)
                    {
                        Execute(Sent, _tx, "UPDATE messages SET body = @b WHERE seq = @seq", ("seq", seq), ("b", reprotected));
                    }
                }
                (read, last) = (bodies.Count, bodies.LastOrDefault().Seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
        }
        return work.Done(from.Next(read, limit, last));
    }
}
