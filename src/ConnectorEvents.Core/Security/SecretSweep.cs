namespace ConnectorEvents.Core.Security;

/// <summary>The tables that hold encrypted values, in the order the sweep reads them.</summary>
public enum SweptTable
{
    Clients,
    SigningSecrets,
    Messages,
}

/// <summary>Where a sweep goes on from: a table, and the key of the last row it read there (null: from its first).</summary>
public sealed record SecretSweepPosition(SweptTable Table, string? After)
{
    public static SecretSweepPosition Start { get; } = new(SweptTable.Clients, null);

    /// <summary>After a batch that read <paramref name="read"/> rows of at most <paramref name="limit"/>, the last keyed <paramref name="lastKey"/>.</summary>
    public SecretSweepPosition? Next(int read, int limit, string? lastKey) =>
        read >= limit ? this with { After = lastKey }
        : Table == SweptTable.Messages ? null
        : new SecretSweepPosition(Table + 1, null);
}

/// <summary>What one batch of the sweep did, and where the next one starts (null: the sweep is done).</summary>
public sealed record SecretSweepBatch(SecretSweepPosition? Next, int Rewritten, IReadOnlyList<string> Unreadable);

/// <summary>
/// One batch's work on the values it reads: each one not under the current key is encrypted again; one that cannot be
/// read (its key is not configured, or it was altered) is left as it is and named, so the sweep goes on past it.
/// </summary>
public sealed class SecretSweepWork(SecretProtector secrets)
{
    private readonly List<string> _unreadable = [];

    public int Rewritten { get; private set; }

    public IReadOnlyList<string> Unreadable => _unreadable;

    /// <summary>The value under the current key, or null when it is already (or is null, or cannot be read).</summary>
    public string? Reprotect(string? stored, string purpose) =>
        stored is null || secrets.IsCurrent(stored) ? null : Attempt(() => secrets.Reprotect(stored, purpose), purpose);

    /// <inheritdoc cref="Reprotect(string?, string)"/>
    public byte[]? Reprotect(byte[] stored, string purpose) =>
        secrets.IsCurrent(stored) ? null : Attempt(() => secrets.Reprotect(stored, purpose), purpose);

    private T? Attempt<T>(Func<T> reprotect, string purpose) where T : class
    {
        try
        {
            var reprotected = reprotect();
            Rewritten++;
            return reprotected;
        }
        catch (SecretUnreadableException ex)
        {
            _unreadable.Add($"{purpose}: {ex.Message}");
            return null;
        }
    }

    public SecretSweepBatch Done(SecretSweepPosition? next) => new(next, Rewritten, _unreadable);
}
