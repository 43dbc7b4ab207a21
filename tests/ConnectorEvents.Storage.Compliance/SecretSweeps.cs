using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Storage.Compliance;

/// <summary>Runs the secret sweep over a store to its end, one committed transaction per batch, as the server's sweeper does.</summary>
public static class SecretSweeps
{
    public static (IReadOnlyList<int> Rewritten, IReadOnlyList<string> Unreadable) Run(IConnectorStore store, int limit)
    {
        ArgumentNullException.ThrowIfNull(store);
        var rewritten = new List<int>();
        var unreadable = new List<string>();
        for (SecretSweepPosition? position = SecretSweepPosition.Start; position is not null;)
        {
            using var tx = store.BeginWrite();
            var batch = tx.ReprotectSecrets(position, limit);
            tx.Commit();
            rewritten.Add(batch.Rewritten);
            unreadable.AddRange(batch.Unreadable);
            position = batch.Next;
        }
        return (rewritten, unreadable);
    }
}
