using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using static ConnectorEvents.Storage.Sqlite.SqliteRows;

namespace ConnectorEvents.Storage.Sqlite;

/// <summary>Idempotency keys of management commands, recorded with the command and answered from what was recorded.</summary>
internal sealed partial class SqliteWriteTransaction
{
    public bool TryInsertIdempotentRequest(IdempotentRequestRecord request, DateTimeOffset expiredBefore)
    {
        ArgumentNullException.ThrowIfNull(request);
        Execute(_connection, _tx, "DELETE FROM idempotent_requests WHERE caller = $c AND idempotency_key = $k AND created_utc < $expired",
            ("$c", request.Caller), ("$k", request.Key), ("$expired", Db(expiredBefore)));
        return Execute(_connection, _tx, """
            INSERT INTO idempotent_requests (caller, idempotency_key, request_hash, created_utc) VALUES ($c, $k, $h, $created)
            ON CONFLICT DO NOTHING
            """, ("$c", request.Caller), ("$k", request.Key), ("$h", request.RequestHash), ("$created", Db(request.CreatedUtc))) > 0;
    }

    public IdempotentRequestRecord? FindIdempotentRequest(string caller, string key) => One(_connection, _tx,
        r => new IdempotentRequestRecord(caller, key, (byte[])r.GetValue(0), Time(r, 1),
            r.IsDBNull(2) ? null : _secrets.Unprotect((byte[])r.GetValue(2), ProtectedColumns.IdempotentResponse(caller, key))),
        "SELECT request_hash, created_utc, response FROM idempotent_requests WHERE caller = $c AND idempotency_key = $k",
        ("$c", caller), ("$k", key));

    public void SetIdempotentResponse(string caller, string key, byte[] response) =>
        Execute(_connection, _tx, "UPDATE idempotent_requests SET response = $r WHERE caller = $c AND idempotency_key = $k",
            ("$c", caller), ("$k", key), ("$r", _secrets.Protect(response, ProtectedColumns.IdempotentResponse(caller, key))));
}
