using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using static ConnectorEvents.Storage.Postgres.PostgresRows;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>Idempotency keys of management commands, recorded with the command and answered from what was recorded.</summary>
internal sealed partial class PostgresWriteTransaction
{
    // ON CONFLICT DO NOTHING waits for another process's transaction inserting the same key, then sees its row (or none, if
    // that one rolled back): two retries at once on two processes never both run.
    public bool TryInsertIdempotentRequest(IdempotentRequestRecord request, DateTimeOffset expiredBefore)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Scalar(Sent, _tx, """
            DELETE FROM idempotent_requests WHERE caller = @c AND idempotency_key = @k AND created_utc < @expired;
            INSERT INTO idempotent_requests (caller, idempotency_key, request_hash, created_utc) VALUES (@c, @k, @h, @created)
            ON CONFLICT DO NOTHING RETURNING 1
            """, ("c", request.Caller), ("k", request.Key), ("h", request.RequestHash), ("created", Db(request.CreatedUtc)),
            ("expired", Db(expiredBefore))) is not null;
    }

    public IdempotentRequestRecord? FindIdempotentRequest(string caller, string key) => One(Sent, _tx,
        r => new IdempotentRequestRecord(caller, key, r.GetFieldValue<byte[]>(0), Time(r, 1),
            r.IsDBNull(2) ? null : _secrets.Unprotect(r.GetFieldValue<byte[]>(2), ProtectedColumns.IdempotentResponse(caller, key))),
        "SELECT request_hash, created_utc, response FROM idempotent_requests WHERE caller = @c AND idempotency_key = @k",
        ("c", caller), ("k", key));

    public void SetIdempotentResponse(string caller, string key, byte[] response) =>
        Defer("UPDATE idempotent_requests SET response = @r WHERE caller = @c AND idempotency_key = @k",
            ("c", caller), ("k", key), ("r", _secrets.Protect(response, ProtectedColumns.IdempotentResponse(caller, key))));
}
