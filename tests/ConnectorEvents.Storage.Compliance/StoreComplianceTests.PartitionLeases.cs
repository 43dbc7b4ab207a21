using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace ConnectorEvents.Storage.Compliance;

/// <summary>
/// <see cref="PartitionLeases"/> over the provider's store, with several nodes on one database and a fake clock: a
/// fair split, hand-back of a surplus, and takeover once a dead node's leases end.
/// </summary>
public abstract partial class StoreComplianceTests
{
    /// <summary>A migrated store with its writer and a fake clock, and a way to start a node on them.</summary>
    private (IConnectorStore Store, FakeTimeProvider Time, Func<string, PartitionLeases> Node) NewCluster()
    {
        var store = NewStore();
        var writer = NewWriter(store);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        return (store, time, nodeId => new PartitionLeases(store, writer,
            Options.Create(new ClusterOptions { NodeId = nodeId, RenewInterval = TimeSpan.FromSeconds(1), LeaseDuration = TimeSpan.FromSeconds(10) }),
            Options.Create(new DeliveryOptions { Timeout = TimeSpan.FromSeconds(5) }),
            time, NullLogger<PartitionLeases>.Instance));
    }

    [Fact]
    public async Task Two_nodes_split_the_partitions_and_the_survivor_takes_over_once_the_other_stops_renewing()
    {
        var (store, time, node) = NewCluster();
        await using var a = node("node-a");
        await using var b = node("node-b");

        await a.RoundAsync();
        Assert.Equal(DeliveryPartitions.Count, a.Held.Count);
        await b.RoundAsync();
        Assert.Empty(b.Held); // all held and not expired
        Assert.Equal(2, b.LiveNodes);

        // A sees two live nodes, hands back its surplus; B claims it on its next round.
        await a.RoundAsync();
        Assert.Equal(DeliveryPartitions.Count / 2, a.Held.Count);
        for (var i = 0; i < 500 && b.Held.Count < DeliveryPartitions.Count / 2; i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
            await b.RoundAsync();
        }
        Assert.Equal(DeliveryPartitions.Count / 2, b.Held.Count);
        Assert.Empty(a.Held.Intersect(b.Held));
        var leases = store.ListPartitionLeases();
        Assert.Equal(a.Held, leases.Where(l => l.NodeId == "node-a").Select(l => l.Partition));
        Assert.Equal(b.Held, leases.Where(l => l.NodeId == "node-b").Select(l => l.Partition));

        // A lease is trusted a little less long than it lasts, and an attempt starts only if it fits in what is left.
        var integration = Enumerable.Range(0, 1000).Select(_ => Guid.NewGuid()).First(id => b.Held.Contains(DeliveryPartitions.Of(id)));
        Assert.True(b.HoldsFor(integration, TimeSpan.FromSeconds(5)));
        Assert.False(a.Holds(integration));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(b.Holds(integration));
        Assert.False(b.HoldsFor(integration, TimeSpan.FromSeconds(5)));

        // A stops renewing (it died). Until its leases end B takes nothing of them; then B takes them all.
        await b.RoundAsync();
        Assert.Equal(DeliveryPartitions.Count / 2, b.Held.Count);
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Empty(a.Held); // A no longer trusts its leases either
        await b.RoundAsync();
        Assert.Equal(DeliveryPartitions.Count, b.Held.Count);
        Assert.Equal(1, b.LiveNodes);
        Assert.All(store.ListPartitionLeases(), l => Assert.Equal("node-b", l.NodeId));
    }

    [Fact]
    public async Task A_lease_that_lapsed_while_renewals_stalled_is_reported_as_gained_once_renewed()
    {
        var (_, time, node) = NewCluster();
        await using var a = node("node-a");
        var gained = new List<IReadOnlyList<int>>();
        a.Attach((g, _) => gained.Add(g), _ => Task.CompletedTask);
        await a.RoundAsync();
        Assert.Equal(DeliveryPartitions.Count, Assert.Single(gained).Count);
        await a.RoundAsync(); // renewed in time: nothing changes
        Assert.Single(gained);

        // Renewals stalled past the lease's end: nothing is trusted meanwhile, so the dispatcher dropped what was
        // committed to these partitions. Renewed, they are gained again, which makes the dispatcher scan storage.
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.Empty(a.Held);
        await a.RoundAsync();
        Assert.Equal(DeliveryPartitions.Count, a.Held.Count);
        Assert.Equal(2, gained.Count);
        Assert.Equal(DeliveryPartitions.Count, gained[1].Count);
    }

    [Fact]
    public async Task A_node_that_stops_hands_its_partitions_back_at_once()
    {
        var (store, time, node) = NewCluster();
        await using var a = node("node-a");
        await using var b = node("node-b");
        await a.RoundAsync();
        await a.StopAsync();
        Assert.Empty(a.Held);
        await b.RoundAsync();
        Assert.Equal(DeliveryPartitions.Count, b.Held.Count);
    }

    [Fact]
    public async Task Starting_takes_every_partition_when_alone_and_on_a_store_one_process_owns_even_from_a_dead_holder()
    {
        var (store, time, node) = NewCluster();
        // A holder that died without handing back, its leases still running.
        Write(store, tx => tx.ClaimPartitions("dead", DeliveryPartitions.Count, time.GetUtcNow(), time.GetUtcNow().AddMinutes(5)));
        await using var leases = node("fresh");
        await leases.StartAsync();
        Assert.Equal(store.IsShared ? 0 : DeliveryPartitions.Count, leases.Held.Count);
        if (!store.IsShared)
        {
            time.Advance(TimeSpan.FromDays(1)); // nobody else can use the file: no renewal is needed
            Assert.Equal(DeliveryPartitions.Count, leases.Held.Count);
        }
        await leases.StopAsync();
    }
}
