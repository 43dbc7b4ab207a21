using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Core.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ConnectorEvents.Server.Api;

public static class ClusterEndpoints
{
    public static void MapCluster(this IEndpointRouteBuilder api)
    {
        api.MapGet("/cluster", Ok<ClusterStatus> (IConnectorStore store, PartitionLeases leases, TimeProvider time) =>
        {
            var now = time.GetUtcNow();
            var partitions = store.ListPartitionLeases();
            var nodes = store.ListNodes().Select(n => new NodeStatus(
                n.NodeId, n.SeenUtc, partitions.Count(p => p.NodeId == n.NodeId && p.LeaseUntilUtc > now))).ToList();
            return TypedResults.Ok(new ClusterStatus(leases.NodeId, leases.Held.Count, nodes,
                partitions.Select(p => new PartitionStatus(p.Partition, p.LeaseUntilUtc > now ? p.NodeId : null, p.LeaseUntilUtc)).ToList()));
        }).WithTags("Cluster").WithName("GetCluster").WithSummary("Cluster status")
            .WithDescription("The server processes on this database and which one delivers for each partition (a partition whose lease ended shows no holder).");
    }
}

/// <param name="NodeId">The process that answered.</param>
/// <param name="HeldHere">Partitions the answering process delivers for right now.</param>
public sealed record ClusterStatus(string NodeId, int HeldHere, IReadOnlyList<NodeStatus> Nodes, IReadOnlyList<PartitionStatus> Partitions);

public sealed record NodeStatus(string NodeId, DateTimeOffset SeenUtc, int Partitions);

public sealed record PartitionStatus(int Partition, string? NodeId, DateTimeOffset? LeaseUntilUtc);
