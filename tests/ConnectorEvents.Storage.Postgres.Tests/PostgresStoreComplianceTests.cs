using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Storage.Compliance;
using ConnectorEvents.Testing;

namespace ConnectorEvents.Storage.Postgres.Tests;

/// <summary>The shared storage suite against a fresh database of the test PostgreSQL cluster per test.</summary>
public sealed class PostgresStoreComplianceTests : StoreComplianceTests
{
    private string? _connectionString;

    protected override IConnectorStore CreateStore()
    {
        _connectionString = PostgresServer.CreateDatabase();
        return new PostgresConnectorStore(_connectionString, "compliance-node", Secrets);
    }

    protected override IConnectorStore ReopenStore(SecretProtector secrets) =>
        new PostgresConnectorStore(_connectionString ?? throw new InvalidOperationException("CreateStore first."), "compliance-node", secrets);
}
