namespace ConnectorEvents.Core.Storage;

internal sealed class TransientCommitFailure(Exception inner) : Exception("A transient failure; the batch runs again.", inner)
{
    public bool LostConnection { get; init; }
}

/// <summary>The database could not take a write (disk full, read-only, gone). Callers answer 503.</summary>
public sealed class StorageUnavailableException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>
    /// The database's answer to the commit was lost and its outcome could not be learned in time: the write may have been
    /// applied. Otherwise it was not.
    /// </summary>
    public bool MayHaveApplied { get; init; }
}

/// <summary>
/// The connection failed and the database applied none of the transaction: it failed before its COMMIT was sent, or the
/// COMMIT's outcome was learned afterwards to be an abort. Thrown by <see cref="IWriteTransaction.Commit"/>, so that the
/// writer can run the work again, which it must not do after a COMMIT whose outcome is unknown.
/// </summary>
public sealed class CommitNotAppliedException(Exception inner) : Exception("The transaction was not applied.", inner);

/// <summary>
/// A write an earlier unit of the transaction left to be sent with later statements failed (see
/// <see cref="IConnectorStore.BeginWrite"/>): the transaction is lost, and the writer runs the batch again with each unit's
/// writes sent at its end.
/// </summary>
public sealed class HeldBackWriteFailedException(Exception inner) : Exception("A write held back from an earlier unit failed.", inner);

/// <summary>
/// The connection failed after the COMMIT was sent, and the database could not be asked within the time-out whether the
/// transaction committed (thrown by <see cref="IWriteTransaction.Commit"/>).
/// </summary>
public sealed class CommitOutcomeUnknownException(Exception inner) : Exception("Whether the transaction committed is unknown.", inner);
