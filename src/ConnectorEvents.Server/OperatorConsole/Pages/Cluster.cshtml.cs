using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Server.OperatorConsole.Pages;

/// <summary>The processes on this database, the delivery partitions and who holds each lease.</summary>
public sealed class ClusterModel(IConnectorStore store, PartitionLeases leases, TimeProvider time) : ConsolePageModel
{
    public string ThisNode { get; private set; } = "";
    public DateTimeOffset Now { get; private set; }
    public IReadOnlyList<NodeRecord> Nodes { get; private set; } = [];
    public IReadOnlyList<PartitionLeaseRecord> Partitions { get; private set; } = [];

    public void OnGet()
    {
        Now = time.GetUtcNow();
        ThisNode = leases.NodeId;
        Nodes = store.ListNodes();
        Partitions = store.ListPartitionLeases();
    }

    public int Held(string nodeId) => Partitions.Count(p => p.NodeId == nodeId && p.LeaseUntilUtc > Now);
}
