using System.Collections.Concurrent;
using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Logging;

namespace ConnectorEvents.Core.Delivery;

/// <summary>
/// Reading lanes from storage: which lanes of newly held partitions have work (a scan), and a lane's next window of
/// pending messages when more wait than its in-memory window holds (a refill). Both read off the actor loop and post
/// their result back to it.
/// </summary>
public sealed partial class DeliveryDispatcher
{
    /// <summary>
    /// Readers of refills at once. Unbounded, the start of a drain (every lane of a large backlog refilling together)
    /// took a read connection per refill, each with its own page cache: about 300 MiB held at a million messages.
    /// </summary>
    private const int MaxConcurrentRefills = 4;

    /// <summary>
    /// Lanes one read refills: those that asked meanwhile (the lanes of another process's commit, or of a drain's start)
    /// cost one query, not one each. At 64 messages a lane, at most 2,048 messages a read.
    /// </summary>
    private const int MaxLanesPerRefill = 32;

    private readonly ConcurrentQueue<(Lane Lane, long After)> _refillsAsked = new();
    private int _refillReaders;

    /// <summary>Reads from storage which lanes of these partitions have work: pending messages or unformed General events.</summary>
    private void Scan(IReadOnlyList<int> partitions)
    {
        var wanted = new bool[DeliveryPartitions.Count];
        foreach (var p in partitions)
        {
            wanted[p] = true;
        }
        _ = Task.Run(() =>
        {
            try
            {
                var lanes = _store.ListLanesWithPending().Where(l => wanted[DeliveryPartitions.Of(l.IntegrationId)]).ToList();
                var unformed = _store.ListIntegrationsWithUnformedEvents().Where(i => wanted[DeliveryPartitions.Of(i)]).ToList();
                _inbox.Writer.TryWrite(new Scanned(partitions, lanes, unformed, Failed: false));
            }
#pragma warning disable CA1031 // storage hiccup: scanned again after a pause
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogScanFailed(_logger, ex);
                _inbox.Writer.TryWrite(new Scanned(partitions, [], [], Failed: true));
            }
        });
    }

    private void AfterScan(Scanned scanned)
    {
        if (scanned.Failed)
        {
            _ = Task.Delay(TimeSpan.FromSeconds(1), _time, _stopping.Token).ContinueWith(
                _ => _inbox.Writer.TryWrite(new OwnershipChanged(scanned.Partitions.Where(p => _leases.Held.Contains(p)).ToList(), [])),
                CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            return;
        }
        foreach (var key in scanned.Lanes.Where(l => _leases.Holds(l.IntegrationId)))
        {
            var lane = LaneOf(key);
            lane.Overflow = true;
            Pump(lane);
        }
        var now = _time.GetUtcNow();
        foreach (var integrationId in scanned.Unformed.Where(_leases.Holds))
        {
            var lane = LaneOf(new DeliveryLane(integrationId, WebhookChannel.General));
            MarkUnformed(lane, now);
            Pump(lane);
        }
    }

    private void StartRefill(Lane lane)
    {
        lane.Refilling = true;
        lane.Overflow = false;
        lane.MissedWhileRefilling = false;
        _refillsAsked.Enqueue((lane, lane.LastQueueSeq));
        if (TryClaimRefillReader())
        {
            _ = Task.Run(ReadRefills);
        }
    }

    private bool TryClaimRefillReader()
    {
        if (Interlocked.Increment(ref _refillReaders) <= MaxConcurrentRefills)
        {
            return true;
        }
        Interlocked.Decrement(ref _refillReaders); // the readers at work take it
        return false;
    }

    /// <summary>Reads the refills asked for, up to <see cref="MaxLanesPerRefill"/> lanes at a time, until none is left.</summary>
    private void ReadRefills()
    {
        var batch = new List<(Lane Lane, long After)>(MaxLanesPerRefill);
        while (true)
        {
            while (batch.Count < MaxLanesPerRefill && _refillsAsked.TryDequeue(out var asked))
            {
                batch.Add(asked);
            }
            if (batch.Count == 0)
            {
                Interlocked.Decrement(ref _refillReaders);
                // One asked for after the last look, while every reader was at work, would wait for the next: take it on.
                if (_refillsAsked.IsEmpty || !TryClaimRefillReader())
                {
                    return;
                }
                continue;
            }
            if (_stopping.IsCancellationRequested)
            {
                batch.Clear(); // stopping: nothing more is sent
                continue;
            }
            IReadOnlyList<PendingMessage> loaded;
            try
            {
                loaded = _store.LoadPending([.. batch.Select(b => new LanePosition(b.Lane.Key, b.After))], _options.InMemoryWindowPerIntegration);
            }
#pragma warning disable CA1031 // storage hiccup: the lanes stay marked as overflowing and try again after a pause
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogRefillFailed(_logger, ex, batch.Count);
                foreach (var (lane, _) in batch)
                {
                    _inbox.Writer.TryWrite(new Refilled(lane, [], Failed: true));
                }
                batch.Clear();
                continue;
            }
            var byLane = loaded.ToLookup(m => new DeliveryLane(m.IntegrationId, m.Channel));
            foreach (var (lane, _) in batch)
            {
                _inbox.Writer.TryWrite(new Refilled(lane, [.. byLane[lane.Key]], Failed: false));
            }
            batch.Clear();
        }
    }

    private void AfterRefill(Refilled refilled)
    {
        var lane = refilled.Lane;
        lane.Refilling = false;
        if (lane.Abandoned)
        {
            return;
        }
        foreach (var message in refilled.Messages)
        {
            if (message.QueueSeq > lane.LastQueueSeq)
            {
                lane.Queue.Enqueue(WithKeptTrace(message));
                lane.LastQueueSeq = message.QueueSeq;
            }
        }
        lane.Overflow = refilled.Failed || lane.MissedWhileRefilling
            || refilled.Messages.Count >= _options.InMemoryWindowPerIntegration;
        if (refilled.Failed)
        {
            Wait(lane, _time.GetUtcNow() + TimeSpan.FromSeconds(1));
            return;
        }
        _lanes.TryAdd(lane.Key, lane);
        Pump(lane);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loading pending messages of {Lanes} lanes failed; trying again in 1 s")]
    private static partial void LogRefillFailed(ILogger logger, Exception exception, int lanes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading which lanes have work failed; trying again in 1 s")]
    private static partial void LogScanFailed(ILogger logger, Exception exception);
}
