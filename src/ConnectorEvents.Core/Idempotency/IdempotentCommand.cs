using System.Security.Cryptography;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Idempotency;

/// <summary>
/// A management command sent with an <c>Idempotency-Key</c>. Set as <see cref="Current"/> around the command; the first write
/// the command queues records the key in its own transaction (<see cref="GroupCommitWriter"/> calls <see cref="Claim"/>), so
/// the key exists exactly when the command's change does, whatever becomes of the answer. A retry with the key then applies
/// nothing: it gets the recorded answer, or a conflict while none is recorded.
/// </summary>
public sealed class IdempotentCommand(string caller, string key, byte[] requestHash, TimeSpan retention)
{
    private static readonly AsyncLocal<IdempotentCommand?> CurrentCommand = new();

    /// <summary>The command of the current request, if it carries a key.</summary>
    public static IdempotentCommand? Current
    {
        get => CurrentCommand.Value;
        set => CurrentCommand.Value = value;
    }

    public string Caller { get; } = caller;

    public string Key { get; } = key;

    private int _taken;
    private volatile bool _recorded;

    /// <summary>True once the write that recorded the key committed: the answer must then be recorded too.</summary>
    public bool Recorded => _recorded;

    /// <summary>Whether this write is the command's first (the one that records the key); only one ever is.</summary>
    internal bool TakeFirstWrite() => Interlocked.Exchange(ref _taken, 1) == 0;

    internal void Committed() => _recorded = true;

    /// <summary>
    /// Records the key in <paramref name="tx"/>, before the command's own writes. Throws, so that the command writes nothing,
    /// when the key was already used: <see cref="IdempotentReplayException"/> with the answer recorded for it,
    /// <see cref="DomainException"/> 409 while it has none, 422 when it came with another request.
    /// </summary>
    internal void Claim(IWriteTransaction tx, DateTimeOffset now)
    {
        if (tx.TryInsertIdempotentRequest(new IdempotentRequestRecord(Caller, Key, requestHash, now, null), now - retention))
        {
            return;
        }
        IdempotentRequestRecord? earlier;
        try
        {
            earlier = tx.FindIdempotentRequest(Caller, Key);
        }
        catch (SecretUnreadableException)
        {
            // Its answer is under an encryption key no longer configured: the key stands, the answer is gone.
            throw new DomainException(DomainErrorKind.Conflict,
                "A request with this Idempotency-Key was applied; its recorded answer can no longer be read. Read the resource to see the outcome.");
        }
        if (earlier is null)
        {
            // Recorded by another process's transaction that rolled back meanwhile: nothing was applied; try later.
            throw new DomainException(DomainErrorKind.Conflict,
                "A request with this Idempotency-Key was being processed at the same time; send it again.");
        }
        if (!CryptographicOperations.FixedTimeEquals(earlier.RequestHash, requestHash))
        {
            throw new DomainException(DomainErrorKind.Unprocessable,
                "This Idempotency-Key was already used with a different request (another route or body); use a new key for a new request.");
        }
        throw earlier.Response is { } response
            ? new IdempotentReplayException(response)
            : new DomainException(DomainErrorKind.Conflict,
                "A request with this Idempotency-Key was applied, but its answer is not recorded: it is still being answered, or the " +
                "answer was lost (the server stopped, or the database's answer to the commit was lost). Read the resource to see the outcome.");
    }
}

/// <summary>A command's key was used before and that command's answer is recorded: answer with it, apply nothing.</summary>
public sealed class IdempotentReplayException(byte[] response) : Exception("The request repeats an earlier one; its answer is recorded.")
{
    public byte[] Response { get; } = response;
}
