using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ConnectorEvents.Storage.Compliance;

/// <summary>
/// What every <see cref="IConnectorStore"/> provider must do, checked through the public store and transaction API and
/// through a real <see cref="GroupCommitWriter"/>. A provider's test project derives from this class and says how to
/// make a store; the tests here are then run against it. Timestamps are compared at millisecond precision.
/// </summary>
public abstract partial class StoreComplianceTests : IDisposable
{
    private readonly List<GroupCommitWriter> _writers = [];
    private readonly List<IConnectorStore> _stores = [];

    /// <summary>The key every store of the suite encrypts with, unless a test says otherwise.</summary>
    protected static byte[] SuiteKey { get; } = Convert.FromBase64String("q0Rm1Lh8T0Jm7z1wqkqB8cC9o2mJm6yqgE9m1Y8b2aQ=");

    /// <summary>Encrypts with <see cref="SuiteKey"/>.</summary>
    protected static SecretProtector Secrets { get; } = new(SuiteKey);

    /// <summary>A store over a fresh, empty database, not yet migrated, encrypting with <see cref="Secrets"/>. Called at most once per test.</summary>
    protected abstract IConnectorStore CreateStore();

    /// <summary>A second, independent store over the database of the last <see cref="CreateStore"/>, as after a restart.</summary>
    protected IConnectorStore ReopenStore() => ReopenStore(Secrets);

    /// <summary>As <see cref="ReopenStore()"/>, encrypting with <paramref name="secrets"/> (a key rotation).</summary>
    protected abstract IConnectorStore ReopenStore(SecretProtector secrets);

    /// <summary>A migrated store owned by the test.</summary>
    protected IConnectorStore NewStore()
    {
        var store = Own(CreateStore());
        store.Migrate();
        return store;
    }

    protected IConnectorStore Own(IConnectorStore store)
    {
        _stores.Add(store);
        return store;
    }

    protected GroupCommitWriter NewWriter(IConnectorStore store)
    {
        var writer = new GroupCommitWriter(store, NullLogger<GroupCommitWriter>.Instance);
        _writers.Add(writer);
        return writer;
    }

    /// <summary>One committed transaction, straight on the store.</summary>
    protected static void Write(IConnectorStore store, Action<IWriteTransaction> work)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(work);
        using var tx = store.BeginWrite();
        work(tx);
        tx.Commit();
    }

    protected static T Write<T>(IConnectorStore store, Func<IWriteTransaction, T> work)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(work);
        using var tx = store.BeginWrite();
        var result = work(tx);
        tx.Commit();
        return result;
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }
        foreach (var writer in _writers)
        {
            writer.Dispose();
        }
        _writers.Clear();
        foreach (var store in _stores)
        {
            store.Dispose();
        }
        _stores.Clear();
    }
}
