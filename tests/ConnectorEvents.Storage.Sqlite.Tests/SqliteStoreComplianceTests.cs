using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Storage.Compliance;

namespace ConnectorEvents.Storage.Sqlite.Tests;

/// <summary>The shared storage suite against a real SQLite file in a temporary folder, deleted afterwards.</summary>
public sealed class SqliteStoreComplianceTests : StoreComplianceTests
{
    private readonly TemporaryFolder _folder = new();

    private string DatabasePath => Path.Combine(_folder.Path, "connector.db");

    protected override IConnectorStore CreateStore() => new SqliteConnectorStore(DatabasePath, Secrets);

    protected override IConnectorStore ReopenStore(SecretProtector secrets) => new SqliteConnectorStore(DatabasePath, secrets);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _folder.Dispose();
        }
    }
}
