using ConnectorEvents.Core.Storage;
using Npgsql;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>
/// How the transaction's statements reach the database: writes whose answer nobody reads are held back and go out with the
/// next statement that needs an answer (<see cref="Query"/>), a unit's last writes with the next unit's first round trip,
/// savepoints around units, and the commit, whose outcome is learned should its answer be lost.
/// </summary>
internal sealed partial class PostgresWriteTransaction
{
    private const string SavepointName = "unit";

    // Writes whose answer nobody reads wait here and go out in one round trip with the next statement that needs an
    // answer, or at the commit: a delivery outcome (an attempt and a status) then costs no round trip of its own.
    private readonly List<NpgsqlBatchCommand> _deferred = [];

    // Where the current unit's SAVEPOINT sits in _deferred while unsent, else -1; and how many of its writes wait.
    private int _savepointAt = -1;
    private int _unitWrites;
    private bool _inUnit;

    // How many statements at the head of _deferred earlier units left there (their last writes and RELEASE, or a posted
    // unit's writes): unless SendEachUnit, a unit's writes go out with the next unit's first round trip, not one of their own.
    private int _heldBack;

    /// <summary>Whether anything of this transaction went to the database before its COMMIT.</summary>
    private bool _sentAny;

    // Whether a failure is of the connection; and, after one that lost the COMMIT's answer, the fate of the transaction (by
    // its mark and its backend's process id): true committed, false not, null unknown (the database out of reach too long).
    private readonly Func<Exception, bool> _isLostConnection;
    private readonly Func<long, int, bool?> _resolveCommit;

    /// <summary>Send each unit's writes at its end (the writer's run after a held-back write failed).</summary>
    public bool SendEachUnit { get; init; }

    /// <summary>The connection, once every deferred statement is sent: a statement whose answer is read comes after them.</summary>
    private NpgsqlConnection Sent
    {
        get
        {
            Flush();
            _sentAny = true;
            return _connection;
        }
    }

    private void Defer(string sql, params (string Name, object Value)[] parameters) => Defer(Statement(sql, parameters));

    private void Defer(NpgsqlBatchCommand statement)
    {
        CloseOutcomes();
        _deferred.Add(statement);
        _unitWrites++;
    }

    public void Flush()
    {
        if (_deferred.Count > 0)
        {
            Send(batch =>
            {
                using (batch)
                {
                    return batch.ExecuteNonQuery();
                }
            });
        }
    }

    /// <summary>
    /// Sends the deferred statements and then <paramref name="statements"/> in one round trip (not the deferred ones first and
    /// the read after them); the reader stands on the result of the first of <paramref name="statements"/>, each of which
    /// returns rows (a SELECT, or a write with RETURNING). A failure among the deferred ones surfaces here, as in a flush.
    /// </summary>
    private DeferredRead Query(params NpgsqlBatchCommand[] statements) => Send(batch =>
    {
        var reader = batch.ExecuteReader();
        while (reader.FieldCount == 0 && reader.NextResult())
        {
            // a deferred write: no rows
        }
        return new DeferredRead(batch, reader);
    }, statements);

    /// <summary>
    /// Runs <paramref name="execute"/> on one batch of the deferred statements (then no longer held: after a failure nothing
    /// of it is sent again, what ran is undone by the rollback that follows) and <paramref name="statements"/>. The batch is
    /// disposed on a failure, else by what <paramref name="execute"/> returns. A failure of a statement an earlier unit left
    /// held back is a <see cref="HeldBackWriteFailedException"/>: no savepoint can undo it alone.
    /// </summary>
    private T Send<T>(Func<NpgsqlBatch, T> execute, params NpgsqlBatchCommand[] statements)
    {
        CloseOutcomes();
        var heldBack = SendEachUnit ? 0 : _heldBack;
        var batch = new NpgsqlBatch(_connection, _tx);
        foreach (var command in _deferred.Concat(statements))
        {
            batch.BatchCommands.Add(command);
        }
        _deferred.Clear();
        _savepointAt = -1;
        _unitWrites = 0;
        _heldBack = 0;
        _sentAny = true;
        try
        {
            return execute(batch);
        }
        catch (PostgresException ex) when (heldBack > 0 && !(ex.BatchCommand is { } failed && batch.BatchCommands.IndexOf(failed) >= heldBack))
        {
            batch.Dispose();
            throw new HeldBackWriteFailedException(ex); // a statement among the first heldBack, or at an unknown place
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    private static NpgsqlBatchCommand Statement(string sql, params (string Name, object Value)[] parameters)
    {
#pragma warning disable CA2100 // the SQL is this provider's own text; values always go in as parameters
        var command = new NpgsqlBatchCommand(sql);
#pragma warning restore CA2100
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }

    private sealed class DeferredRead(NpgsqlBatch batch, NpgsqlDataReader reader) : IDisposable
    {
        public NpgsqlDataReader Reader { get; } = reader;

        public void Dispose()
        {
            Reader.Dispose();
            batch.Dispose();
        }
    }

    public void Savepoint()
    {
        _heldBack = _deferred.Count; // what earlier units left unsent
        Defer($"SAVEPOINT {SavepointName}");
        _savepointAt = _deferred.Count - 1;
        _unitWrites = 0;
        _inUnit = true;
        _announcements.Mark();
        _cachedInUnit.Clear();
        _lanesInUnit.Clear();
    }

    public void RollbackToSavepoint()
    {
        _outcomes = null; // the unit's, if any: an earlier unit's was closed by this unit's SAVEPOINT
        if (_savepointAt >= 0)
        {
            // The unit never reached the server: dropping its statements undoes it.
            _deferred.RemoveRange(_savepointAt, _deferred.Count - _savepointAt);
        }
        else
        {
            _deferred.Clear(); // the unit's unsent writes: everything older went out with or before its savepoint
            Defer($"ROLLBACK TO SAVEPOINT {SavepointName}");
            Defer($"RELEASE SAVEPOINT {SavepointName}");
        }
        _savepointAt = -1;
        _unitWrites = 0;
        _inUnit = false;
        _announcements.RollBackToMark();
        ForgetCachedInUnit();
        RollBackLanesOfUnit();
    }

    public void ReleaseSavepoint()
    {
        if (!_inUnit)
        {
            return; // the rollback closed it
        }
        _inUnit = false;
        if (_savepointAt >= 0 && (_unitWrites == 0 || !SendEachUnit))
        {
            // Nothing of the unit reached the server: no savepoint to release. A unit that wrote nothing needs none; one
            // whose writes wait needs none either, since a failure among them, once sent with a later statement, is an
            // earlier unit's (HeldBackWriteFailedException), which no savepoint undoes alone: the group runs again.
            _deferred.RemoveAt(_savepointAt);
        }
        else
        {
            var unsentWrites = _unitWrites > 0;
            Defer($"RELEASE SAVEPOINT {SavepointName}");
            if (unsentWrites && SendEachUnit)
            {
                Flush(); // now, so that a failing write fails this unit and not the next one
            }
        }
        _savepointAt = -1;
        _unitWrites = 0;
        _announcements.ReleaseMark();
        _cachedInUnit.Clear();
        _lanesInUnit.Clear();
    }

    public void Commit()
    {
        var announcements = _announcements.Payloads();
        if (!_sentAny && _deferred.Count == 0 && announcements.Count == 0)
        {
            CommitNothingWritten();
            return;
        }
        _heldBack = _deferred.Count; // no unit is at work: whatever is unsent, an earlier unit left
        // One round trip: the writes, this commit's mark, the NOTIFYs (PostgreSQL delivers them only if the commit succeeds,
        // and together with it), then COMMIT. A failure before the COMMIT makes the server skip it; should the answer be
        // lost, the mark read on a fresh connection says whether it applied.
        var mark = NextMark();
        var backend = _connection.ProcessID;
        try
        {
            Send(batch =>
            {
                using (batch)
                {
                    return batch.ExecuteNonQuery();
                }
            }, [
                Statement(MarkSql, ("w", _writer), ("m", mark)),
                .. announcements.Select(payload => new NpgsqlBatchCommand($"SELECT pg_notify('{ChangeAnnouncements.Channel}', $1)")
                {
                    Parameters = { new NpgsqlParameter<string> { TypedValue = payload } },
                }),
                new NpgsqlBatchCommand("COMMIT"),
            ]);
        }
        catch (NpgsqlException ex) when (_isLostConnection(ex))
        {
            switch (_resolveCommit(mark, backend))
            {
                case true:
                    return; // it was applied: the callers get the truth, and delivery its messages
                case false:
                    throw new CommitNotAppliedException(ex);
                default:
                    throw new CommitOutcomeUnknownException(ex);
            }
        }
    }

    // Only in a transaction that wrote: one that only read commits with nothing to flush, and should its answer be lost it
    // is found not applied and runs again, which costs nothing.
    private const string MarkSql = """
        INSERT INTO commit_marks (writer, mark, written_utc) SELECT @w, @m, now() WHERE pg_current_xact_id_if_assigned() IS NOT NULL
        ON CONFLICT (writer) DO UPDATE SET mark = EXCLUDED.mark, written_utc = EXCLUDED.written_utc
        """;

    private readonly Guid _writer;

    // Random: the row holding this value after a lost answer can only mean this commit applied (2^-64 of doubt).
    private static long NextMark() => Random.Shared.NextInt64(long.MinValue, long.MaxValue);

    /// <summary>A transaction that wrote nothing: whether its COMMIT arrived does not matter, it applied nothing.</summary>
    private void CommitNothingWritten()
    {
        try
        {
            _tx.Commit();
        }
        catch (NpgsqlException ex) when (ex is not PostgresException)
        {
            throw new CommitNotAppliedException(ex);
        }
    }
}
