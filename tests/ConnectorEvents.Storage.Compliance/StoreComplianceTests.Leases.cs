using ConnectorEvents.Core.Storage;
using Xunit;

namespace ConnectorEvents.Storage.Compliance;

public abstract partial class StoreComplianceTests
{
    private const int PartitionCount = 64;

    private static readonly DateTimeOffset LeaseUntil = T0.AddSeconds(30);

    [Fact]
    public void ClaimPartitions_takes_up_to_max_lowest_first_and_a_second_node_gets_the_rest()
    {
        var store = NewStore();

        var first = Write(store, tx => tx.ClaimPartitions("node-a", 40, T0, LeaseUntil));
        var second = Write(store, tx => tx.ClaimPartitions("node-b", 40, T0, LeaseUntil));
        var third = Write(store, tx => tx.ClaimPartitions("node-c", 40, T0, LeaseUntil));

        Assert.Equal(Enumerable.Range(0, 40), first);
        Assert.Equal(Enumerable.Range(40, PartitionCount - 40), second);
        Assert.Empty(third);
    }

    [Fact]
    public void RenewPartitions_extends_only_the_nodes_own_leases()
    {
        var store = NewStore();
        Write(store, tx => tx.ClaimPartitions("node-a", 3, T0, LeaseUntil));
        Write(store, tx => tx.ClaimPartitions("node-b", 2, T0, LeaseUntil));

        var renewed = Write(store, tx => tx.RenewPartitions("node-a", T0.AddMinutes(5)));

        Assert.Equal([0, 1, 2], renewed);
        // node-b's leases were not extended: they end at LeaseUntil, so another node can take them just after.
        Assert.Equal([3, 4], Write(store, tx => tx.ClaimPartitions("node-c", 2, LeaseUntil.AddMilliseconds(1), T0.AddMinutes(10))));
        Assert.Empty(Write(store, tx => tx.RenewPartitions("node-b", T0.AddMinutes(5))));
    }

    [Fact]
    public void An_expired_lease_is_claimed_by_another_node()
    {
        var store = NewStore();
        Write(store, tx => tx.ClaimPartitions("node-a", PartitionCount, T0, LeaseUntil));

        Assert.Empty(Write(store, tx => tx.ClaimPartitions("node-b", 5, LeaseUntil.AddMilliseconds(-1), LeaseUntil.AddSeconds(30))));
        var taken = Write(store, tx => tx.ClaimPartitions("node-b", 5, LeaseUntil.AddMilliseconds(1), LeaseUntil.AddSeconds(30)));

        Assert.Equal([0, 1, 2, 3, 4], taken);
        Assert.Equal(Enumerable.Range(5, PartitionCount - 5), Write(store, tx => tx.RenewPartitions("node-a", LeaseUntil.AddSeconds(30))));
    }

    [Fact]
    public void Released_partitions_are_claimable_at_once()
    {
        var store = NewStore();
        Write(store, tx => tx.ClaimPartitions("node-a", 4, T0, LeaseUntil));

        Write(store, tx => tx.ReleasePartitions("node-a", [1, 3]));
        // Releasing partitions of another node changes nothing.
        Write(store, tx => tx.ReleasePartitions("node-b", [0, 2]));

        Assert.Equal([1, 3], Write(store, tx => tx.ClaimPartitions("node-b", 2, T0, LeaseUntil)));
        Assert.Equal([0, 2], Write(store, tx => tx.RenewPartitions("node-a", LeaseUntil)));
    }

    [Fact]
    public void ResetPartitions_frees_every_lease()
    {
        var store = NewStore();
        Write(store, tx => tx.ClaimPartitions("node-a", 10, T0, LeaseUntil));
        Write(store, tx => tx.ClaimPartitions("node-b", 10, T0, LeaseUntil));

        Write(store, tx => tx.ResetPartitions());

        Assert.Empty(Write(store, tx => tx.RenewPartitions("node-a", LeaseUntil)));
        Assert.Equal(Enumerable.Range(0, PartitionCount), Write(store, tx => tx.ClaimPartitions("node-c", 100, T0, LeaseUntil)));
    }

    [Fact]
    public void Heartbeat_counts_the_nodes_seen_since_a_time()
    {
        var store = NewStore();

        Assert.Equal(1, Write(store, tx => tx.Heartbeat("node-a", T0, T0.AddSeconds(-10))));
        Assert.Equal(2, Write(store, tx => tx.Heartbeat("node-b", T0.AddSeconds(5), T0.AddSeconds(-5))));
        // node-a was last seen at T0, before this window.
        Assert.Equal(1, Write(store, tx => tx.Heartbeat("node-b", T0.AddSeconds(20), T0.AddSeconds(1))));
        Assert.Equal(2, Write(store, tx => tx.Heartbeat("node-a", T0.AddSeconds(21), T0.AddSeconds(5))));
    }

    [Fact]
    public void Nodes_not_seen_since_a_time_are_forgotten_and_the_others_kept()
    {
        var store = NewStore();
        Write(store, tx => tx.Heartbeat("node-gone", T0, T0));
        Write(store, tx => tx.Heartbeat("node-stopped", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch)); // as a graceful stop leaves it
        Write(store, tx => tx.Heartbeat("node-live", T0.AddHours(2), T0));

        Assert.Equal(2, Write(store, tx => tx.ForgetNodes(T0.AddHours(1))));

        Assert.Equal(["node-live"], store.ListNodes().Select(n => n.NodeId));
        Assert.Equal(0, Write(store, tx => tx.ForgetNodes(T0.AddHours(1))));
    }
}
