using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Cluster;

/// <summary>
/// Holds this process's leases on delivery partitions. Every <see cref="ClusterOptions.RenewInterval"/> it records
/// that the process is alive, renews what it holds and claims a fair share (partitions / live processes) of what is
/// free or expired; a process holding more than its share hands the surplus back once the sends under way on it are
/// done. A lease counts here only until shortly before it ends in storage, so a process that cannot renew (storage
/// gone, process paused) stops delivering before anyone else may start.
/// </summary>
public sealed partial class PartitionLeases : IAsyncDisposable
{
    /// <summary>A lease is trusted this much less long than storage keeps it, for clock drift between processes.</summary>
    public static readonly TimeSpan ClockAllowance = TimeSpan.FromSeconds(1);

    private readonly IConnectorStore _store;
    private readonly GroupCommitWriter _writer;
    private readonly ClusterOptions _options;
    private readonly TimeSpan _leaseDuration;
    private readonly TimeProvider _time;
    private readonly ILogger<PartitionLeases> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _round = new(1, 1);
    private volatile Snapshot _held = Snapshot.None;
    private Action<IReadOnlyList<int>, IReadOnlyList<int>>? _changed;
    private Func<IReadOnlyList<int>, Task>? _drain;
    private HashSet<int> _releasing = [];
    private Task _handBack = Task.CompletedTask;
    private Task _loop = Task.CompletedTask;
    private int _liveNodes;

    public PartitionLeases(
        IConnectorStore store, GroupCommitWriter writer, IOptions<ClusterOptions> options, IOptions<DeliveryOptions> delivery,
        TimeProvider time, ILogger<PartitionLeases> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(delivery);
        _leaseDuration = options.Value.EffectiveLeaseDuration(delivery.Value);
        _store = store;
        _writer = writer;
        _options = options.Value;
        _time = time;
        _logger = logger;
        NodeId = _options.NodeId ?? ClusterOptions.NewNodeId();
    }

    public string NodeId { get; }

    /// <summary>Processes that renewed within the last lease duration, this one included (as of the last round).</summary>
    public int LiveNodes => Volatile.Read(ref _liveNodes);

    /// <summary>Partitions this process holds and trusts right now.</summary>
    public IReadOnlyList<int> Held
    {
        get
        {
            var held = _held;
            return held.ValidUntil > _time.GetUtcNow() ? held.Partitions : [];
        }
    }

    /// <summary>True while this process holds the integration's partition.</summary>
    public bool Holds(Guid integrationId) => HoldsFor(integrationId, TimeSpan.Zero);

    /// <summary>True when this process holds the integration's partition for at least <paramref name="duration"/> more.</summary>
    public bool HoldsFor(Guid integrationId, TimeSpan duration)
    {
        var held = _held;
        return held.Contains(DeliveryPartitions.Of(integrationId)) && held.ValidUntil > _time.GetUtcNow() + duration;
    }

    /// <summary>
    /// Called by the dispatcher before <see cref="StartAsync"/>: <paramref name="changed"/> hears of partitions gained
    /// and lost; <paramref name="drain"/> completes once no send is under way on the given partitions and their outcomes
    /// are committed, after which they are handed back.
    /// </summary>
    public void Attach(Action<IReadOnlyList<int>, IReadOnlyList<int>> changed, Func<IReadOnlyList<int>, Task> drain)
    {
        _changed = changed;
        _drain = drain;
    }

    /// <summary>
    /// Takes the first leases, then keeps them renewed. A store that one process owns gives it every partition for
    /// good: the previous owner of the file is gone, even if it died without handing its leases back.
    /// </summary>
    public async Task StartAsync()
    {
        if (!_store.IsShared)
        {
            var node = NodeId;
            var all = await _writer.ExecuteAsync(tx =>
            {
                tx.ResetPartitions();
                return tx.ClaimPartitions(node, DeliveryPartitions.Count, DateTimeOffset.MinValue, DateTimeOffset.MaxValue);
            }).ConfigureAwait(false);
            Volatile.Write(ref _liveNodes, 1);
            Publish(new Snapshot(all, DateTimeOffset.MaxValue));
            return;
        }
        await RoundAsync().ConfigureAwait(false);
        _loop = Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(_options.RenewInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await RoundAsync().ConfigureAwait(false);
                }
#pragma warning disable CA1031 // storage may be away for a while; leases lapse on their own and the next round tries again
                catch (Exception ex) when (!_stopping.IsCancellationRequested)
#pragma warning restore CA1031
                {
                    LogRenewFailed(_logger, ex);
                    LapseIfExpired();
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>One renewal; public so tests can run one without waiting for the timer.</summary>
    public async Task RoundAsync()
    {
        await _round.WaitAsync(_stopping.Token).ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow();
            var until = now + _leaseDuration;
            var node = NodeId;
            var (live, held) = await _writer.ExecuteAsync(tx =>
            {
                var live = Math.Max(1, tx.Heartbeat(node, now, now - _leaseDuration));
                tx.ForgetNodes(now - _options.ForgetNodesAfter);
                var held = tx.RenewPartitions(node, until);
                var fair = FairShare(live);
                var claimed = held.Count < fair ? tx.ClaimPartitions(node, fair - held.Count, now, until) : [];
                return (live, held.Concat(claimed).Order().ToArray());
            }).ConfigureAwait(false);
            Volatile.Write(ref _liveNodes, live);

            // Partitions being handed back stay leased (renewed above) until their sends are done, but count as lost here.
            var trusted = held.Where(p => !_releasing.Contains(p)).ToList();
            var surplus = trusted.Count - FairShare(live);
            if (surplus > 0 && _releasing.Count == 0)
            {
                _releasing = [.. trusted.TakeLast(surplus)];
                trusted.RemoveRange(trusted.Count - surplus, surplus);
            }
            Publish(new Snapshot(trusted, until - ClockAllowance));
            if (_releasing.Count > 0 && _handBack.IsCompleted)
            {
                _handBack = HandBackAsync([.. _releasing]);
            }
        }
        finally
        {
            _round.Release();
        }
    }

    private static int FairShare(int live) => (DeliveryPartitions.Count + live - 1) / live;

    private async Task HandBackAsync(IReadOnlyList<int> partitions)
    {
        try
        {
            if (_drain is { } drain)
            {
                await drain(partitions).ConfigureAwait(false);
            }
            // Under the round's lock: a round must not renew these and then trust them after they were handed back.
            await _round.WaitAsync(_stopping.Token).ConfigureAwait(false);
            try
            {
                var node = NodeId;
                await _writer.ExecuteAsync(tx => { tx.ReleasePartitions(node, partitions); return true; }).ConfigureAwait(false);
                _releasing = [];
            }
            finally
            {
                _round.Release();
            }
            LogHandedBack(_logger, partitions.Count, NodeId);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // the next round tries again; meanwhile these partitions stay leased here, unused
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogHandBackFailed(_logger, ex);
        }
    }

    private void LapseIfExpired()
    {
        var held = _held;
        if (held.Partitions.Count > 0 && held.ValidUntil <= _time.GetUtcNow())
        {
            LogLapsed(_logger, held.Partitions.Count);
            Publish(Snapshot.None);
        }
    }

    private void Publish(Snapshot next)
    {
        var before = _held;
        _held = next;
        // A lease that lapsed (renewals stalled past its end) was not trusted meanwhile: the dispatcher dropped what was
        // committed to its partitions, so renewing it is a gain, and a gain makes the dispatcher read storage again.
        var trusted = before.ValidUntil > _time.GetUtcNow() ? before : Snapshot.None;
        var gained = next.Partitions.Where(p => !trusted.Contains(p)).ToList();
        var lost = before.Partitions.Where(p => !next.Contains(p)).ToList();
        if (gained.Count > 0 || lost.Count > 0)
        {
            LogChanged(_logger, NodeId, next.Partitions.Count, gained.Count, lost.Count);
            _changed?.Invoke(gained, lost);
        }
    }

    /// <summary>Stops renewing and hands every lease back, so other processes take over at once.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        await _handBack.ConfigureAwait(false);
        var held = _held.Partitions.Concat(_releasing).Distinct().ToList();
        Publish(Snapshot.None);
        var node = NodeId;
        await _writer.ExecuteAsync(tx =>
        {
            tx.ReleasePartitions(node, held);
            // Seen long ago: the others count one process fewer at once and claim a full share.
            tx.Heartbeat(node, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
            return true;
        }).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }
        await _loop.ConfigureAwait(false);
        await _handBack.ConfigureAwait(false);
        _stopping.Dispose();
        _round.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing partition leases failed")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition leases lapsed ({Count} partitions): delivery stops here until they are renewed")]
    private static partial void LogLapsed(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {NodeId} holds {Held} delivery partitions (+{Gained} −{Lost})")]
    private static partial void LogChanged(ILogger logger, string nodeId, int held, int gained, int lost);

    [LoggerMessage(Level = LogLevel.Information, Message = "Handed {Count} partitions back for other nodes to take (node {NodeId})")]
    private static partial void LogHandedBack(ILogger logger, int count, string nodeId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handing partitions back failed; the next round tries again")]
    private static partial void LogHandBackFailed(ILogger logger, Exception exception);

    private sealed class Snapshot(IReadOnlyList<int> partitions, DateTimeOffset validUntil)
    {
        public static readonly Snapshot None = new([], DateTimeOffset.MinValue);

        private readonly bool[] _set = ToSet(partitions);

        public IReadOnlyList<int> Partitions { get; } = partitions;

        public DateTimeOffset ValidUntil { get; } = validUntil;

        public bool Contains(int partition) => _set[partition];

        private static bool[] ToSet(IReadOnlyList<int> partitions)
        {
            var set = new bool[DeliveryPartitions.Count];
            foreach (var p in partitions)
            {
                set[p] = true;
            }
            return set;
        }
    }
}
