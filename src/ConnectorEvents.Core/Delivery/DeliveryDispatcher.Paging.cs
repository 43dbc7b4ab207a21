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
    /// Refills reading storage at once. Unbounded, the start of a drain (every lane of a large backlog refilling together)
    /// took a read connection per refill, each with its own page cache: about 300 MiB held at a million messages.
    /// </summary>
    private const int MaxConcurrentRefills = 4;

    private readonly SemaphoreSlim _refills = new(MaxConcurrentRefills);

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
        var after = lane.LastQueueSeq;
        var limit = _options.InMemoryWindowPerIntegration;
        _ = Task.Run(async () =>
        {
            IReadOnlyList<PendingMessage> loaded;
            try
            {
                await _refills.WaitAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return; // stopping: nothing more is sent
            }
            try
            {
                loaded = _store.LoadPending(lane.Key, after, limit);
            }
#pragma warning disable CA1031 // storage hiccup: keep the lane marked as overflowing and try again on the next pump
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogRefillFailed(_logger, ex, lane.Key.IntegrationId);
                _inbox.Writer.TryWrite(new Refilled(lane, [], Failed: true));
                return;
            }
            finally
            {
                _refills.Release();
            }
            _inbox.Writer.TryWrite(new Refilled(lane, loaded, Failed: false));
        });
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loading pending messages of integration {IntegrationId} failed")]
    private static partial void LogRefillFailed(ILogger logger, Exception exception, Guid integrationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading which lanes have work failed; trying again in 1 s")]
    private static partial void LogScanFailed(ILogger logger, Exception exception);
}
