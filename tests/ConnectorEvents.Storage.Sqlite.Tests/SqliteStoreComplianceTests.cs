using ConnectorEvents.Core.Storage;
using ConnectorEvents.Storage.Compliance;

namespace ConnectorEvents.Storage.Sqlite.Tests;

/// <summary>The shared storage suite against a real SQLite file in a temporary folder, deleted afterwards.</summary>
public sealed class SqliteStoreComplianceTests : StoreComplianceTests
{
    private readonly TemporaryFolder _folder = new();

    private string DatabasePath => Path.Combine(_folder.Path, "connector.db");

    protected override IConnectorStore CreateStore() => new SqliteConnectorStore(DatabasePath);

    protected override IConnectorStore ReopenStore() => new SqliteConnectorStore(DatabasePath);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _folder.Dispose();
        }
    }
}
