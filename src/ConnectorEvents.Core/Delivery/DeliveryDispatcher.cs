using System.Threading.Channels;
using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Core.Operations;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Core.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Delivery;

/// <summary>
/// Delivers outbox messages. One actor loop owns all scheduling state (no locks); HTTP sends run beside it.
/// Each integration has a lane per channel (Integration and General Webhooks): at most one message of a lane is in
/// flight or waiting to retry, which keeps FIFO per lane, and the two channels of an integration never hold each
/// other up. New messages arrive straight from the writer after their commit, so nothing polls. A lane keeps a
/// bounded window in memory and pages the rest in from storage. A General lane forms its next message from the
/// enterprise's event log when its turn comes, so events that arrive meanwhile travel together.
/// Lanes are worked only for the partitions this process holds a lease on (<see cref="PartitionLeases"/>): where
/// several processes share a database, each integration is delivered by one of them at a time.
/// </summary>
public sealed partial class DeliveryDispatcher : IAsyncDisposable
{
    private readonly IConnectorStore _store;
    private readonly GroupCommitWriter _writer;
    private readonly WebhookSender _sender;
    private readonly RetryPolicy _retry;
    private readonly PartitionLeases _leases;
    private readonly DeliveryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DeliveryDispatcher> _logger;
    private readonly ConnectorTelemetry? _telemetry;
    private readonly OperationalEvents? _operations;

    private readonly Channel<Signal> _inbox = Channel.CreateUnbounded<Signal>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<DeliveryLane, Lane> _lanes = [];
    private readonly Dictionary<(Guid, WebhookChannel), ClientTarget> _clients = [];
    // Sends under way per endpoint URL, and in all: counted on the dispatcher's own thread, so a send that must wait for a
    // slot waits in a queue here instead of on a semaphore (a contended async wait costs a cancellation registration).
    private readonly Dictionary<string, Endpoint> _endpoints = new(StringComparer.Ordinal);
    private readonly Queue<Send> _waitingForSlot = new();
    // Since when every attempt to an endpoint failed, as this process saw it (Delivery:DisableEndpointAfter).
    private readonly Dictionary<(Guid ClientId, WebhookChannel Channel), DateTimeOffset> _failingSince = [];
    // Lanes that would send but wait until the writer has caught up with the outcomes already handed to it.
    private readonly Queue<Lane> _waitingForWriter = new();
    private int _outcomesUncommitted;
    private readonly PriorityQueue<Lane, DateTimeOffset> _waiting = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer _timer;
    private Task _loop = Task.CompletedTask;
    private readonly int[] _sendingByPartition = new int[DeliveryPartitions.Count];
    private int _sending;
    private int _disposed;
    // Set by a graceful stop: no send starts any more, and this completes once none is under way.
    private bool _sendsClosed;
    private readonly TaskCompletionSource _sendsEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DeliveryDispatcher(
        IConnectorStore store,
        GroupCommitWriter writer,
        WebhookSender sender,
        RetryPolicy retry,
        PartitionLeases leases,
        IOptions<DeliveryOptions> options,
        TimeProvider time,
        ILogger<DeliveryDispatcher> logger,
        ConnectorTelemetry? telemetry = null,
        OperationalEvents? operations = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _writer = writer;
        _sender = sender;
        _retry = retry;
        _leases = leases;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _telemetry = telemetry;
        _operations = operations;
        _timer = time.CreateTimer(_ => _inbox.Writer.TryWrite(TimerFired.Instance), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public bool IsRunning => !_loop.IsCompleted;

    /// <summary>Requests being sent right now.</summary>
    public int InFlight => Volatile.Read(ref _sending);

    /// <summary>
    /// Starts delivering. What storage holds for a partition (from an earlier run, or another process) is picked up
    /// when this process gains the partition's lease, so start the leases after this.
    /// </summary>
    public void Start()
    {
        _leases.Attach(
            (gained, lost) => _inbox.Writer.TryWrite(new OwnershipChanged(gained, lost)),
            DrainAsync);
        // A commit whose answer was lost may have applied messages that nobody handed over: look for them once writes work.
        _writer.AfterUncertainCommit = Rescan;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Completes once no send is under way on these partitions and every outcome recorded so far is committed.</summary>
    private async Task DrainAsync(IReadOnlyList<int> partitions)
    {
        while (partitions.Any(p => Volatile.Read(ref _sendingByPartition[p]) > 0))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, _stopping.Token).ConfigureAwait(false);
        }
        await _writer.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Messages just committed to the outbox.</summary>
    public void Enqueue(IReadOnlyList<PendingMessage> messages)
    {
        if (messages.Count > 0)
        {
            _inbox.Writer.TryWrite(new Committed(Traced(messages)));
        }
    }

    /// <summary>General events just committed to the log of these integrations' enterprise.</summary>
    public void EventsArrived(IReadOnlyList<Guid> integrationIds)
    {
        if (integrationIds.Count > 0)
        {
            _inbox.Writer.TryWrite(new EventsLogged(integrationIds, CurrentTrace()));
        }
    }

    /// <summary>Another process committed messages to these lanes: those this process delivers for are read from storage.</summary>
    public void MessagesCommittedElsewhere(IReadOnlyList<DeliveryLane> lanes)
    {
        if (lanes.Count > 0)
        {
            _inbox.Writer.TryWrite(new CommittedElsewhere(lanes));
        }
    }

    /// <summary>Signals may have been missed: every lane this process delivers for is checked against storage.</summary>
    public void Rescan() => _inbox.Writer.TryWrite(RescanAll.Instance);

    /// <summary>The client's URL, state or secrets changed.</summary>
    public void ClientChanged(Guid clientId) => _inbox.Writer.TryWrite(new ClientUpdated(clientId));

    /// <summary>The client's lanes held here that wait for a retry (a receiver that failed and is healed now) send now.</summary>
    public void RetryNow(Guid clientId) => _inbox.Writer.TryWrite(new RetryRequested(clientId));

    private async Task RunAsync()
    {
        var reader = _inbox.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var signal))
                {
                    try
                    {
                        Handle(signal);
                    }
#pragma warning disable CA1031 // the loop must outlive one bad signal; the message stays pending in storage
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        LogSignalFailed(_logger, ex, signal.GetType().Name);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private void Handle(Signal signal)
    {
        switch (signal)
        {
            case Committed committed:
                foreach (var message in committed.Messages.Where(m => _leases.Holds(m.IntegrationId)))
                {
                    Accept(LaneOf(new DeliveryLane(message.IntegrationId, message.Channel)), message);
                }
                break;
            case EventsLogged logged:
                var now = _time.GetUtcNow();
                foreach (var integrationId in logged.IntegrationIds.Where(_leases.Holds))
                {
                    var lane = LaneOf(new DeliveryLane(integrationId, WebhookChannel.General));
                    MarkUnformed(lane, now, logged.Trace);
                    Pump(lane);
                }
                break;
            case Formed formed:
                AfterFormed(formed);
                break;
            case AttemptDone done:
                Finish(done);
                break;
            case OutcomeCommitted committedOutcome:
                committedOutcome.Lane.OutcomesUncommitted--;
                _outcomesUncommitted--;
                ResumeLanesWaitingForWriter();
                if (committedOutcome.Retried)
                {
                    committedOutcome.Lane.OutcomesFailing--;
                }
                Pump(committedOutcome.Lane); // an idle lane may go now
                break;
            case OutcomeFailed failedOutcome:
                if (!failedOutcome.Retried)
                {
                    failedOutcome.Lane.OutcomesFailing++;
                }
                _ = Task.Delay(TimeSpan.FromSeconds(1), _time, _stopping.Token).ContinueWith(
                    _ => PostOutcome(failedOutcome.Lane, failedOutcome.Write, retried: true),
                    CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                break;
            case Refilled refilled:
                AfterRefill(refilled);
                break;
            case OwnershipChanged changed:
                foreach (var lane in _lanes.Values.Where(l => !_leases.Holds(l.Key.IntegrationId)).ToList())
                {
                    Pump(lane); // abandons it
                }
                if (changed.Gained.Count > 0)
                {
                    Scan(changed.Gained);
                }
                break;
            case Scanned scanned:
                AfterScan(scanned);
                break;
            case CommittedElsewhere elsewhere:
                foreach (var key in elsewhere.Lanes)
                {
                    if (_leases.Holds(key.IntegrationId))
                    {
                        var lane = LaneOf(key);
                        lane.Overflow = true; // storage has it; a refill brings it in order
                        Pump(lane);
                    }
                }
                break;
            case RescanAll:
                Scan(_leases.Held);
                break;
            case ClientUpdated updated:
                _clients.Remove((updated.ClientId, WebhookChannel.Integration));
                _clients.Remove((updated.ClientId, WebhookChannel.General));
                foreach (var lane in _lanes.Values.Where(l => l.ClientId == updated.ClientId).ToList())
                {
                    Pump(lane);
                }
                break;
            case RetryRequested retry:
                EndRetryWaits(retry.ClientId);
                break;
            case TimerFired:
                WakeDueLanes();
                break;
            case SendsClosing:
                CloseSends();
                break;
        }
    }

    private Lane LaneOf(DeliveryLane key)
    {
        if (!_lanes.TryGetValue(key, out var lane))
        {
            lane = new Lane(key);
            _lanes.Add(key, lane);
        }
        return lane;
    }

    private void Accept(Lane lane, PendingMessage message)
    {
        if (message.QueueSeq <= lane.LastQueueSeq)
        {
            return;
        }
        KeepTrace(message); // the copy read back from storage (refill) takes it up
        if (lane.Refilling)
        {
            lane.MissedWhileRefilling = true;
            return;
        }
        if (_store.IsShared && !(message.PendingBefore is { } before && before <= lane.LastQueueSeq))
        {
            // Another process may have committed an earlier message of this lane whose signal is still on its way;
            // storage, read in queue order, is the only source that cannot put this one first. Unless the commit said which
            // Pending message came before it, and the lane already took that one: then none can come between.
            lane.Overflow = true;
            Pump(lane);
            return;
        }
        if (lane.Overflow || lane.Count >= _options.InMemoryWindowPerIntegration)
        {
            lane.Overflow = true; // storage has it; a refill brings it in order
            return;
        }
        lane.Queue.Enqueue(message);
        lane.LastQueueSeq = message.QueueSeq;
        Pump(lane);
    }

    private void Pump(Lane lane)
    {
        if (lane.Abandoned || _sendsClosed)
        {
            return;
        }
        if (!_leases.Holds(lane.Key.IntegrationId))
        {
            // Another process delivers for it now (or will, once this one's lease ends); what is under way finishes.
            lane.Abandoned = true;
            if (_lanes.TryGetValue(lane.Key, out var current) && current == lane)
            {
                _lanes.Remove(lane.Key);
            }
            return;
        }
        if (lane.Busy)
        {
            return;
        }
        if (lane.OutcomesFailing > 0)
        {
            // Held until the failed outcome is written: a later outcome must not be overwritten by it.
            return;
        }
        if (lane.Head is null && !lane.Queue.TryDequeue(out lane.Head))
        {
            if (lane.Overflow)
            {
                StartRefill(lane);
            }
            else if (lane.Unformed && !lane.Refilling)
            {
                StartForming(lane);
            }
            else if (!lane.Refilling && lane.OutcomesUncommitted == 0)
            {
                // Not before its outcomes are committed: until then storage still calls them Pending, and a lane made
                // afresh (say, for a message another process committed) would page them in and send them again.
                _lanes.Remove(lane.Key);
            }
            return;
        }
        var message = lane.Head;
        lane.ClientId = message.ClientId;
        var now = _time.GetUtcNow();
        if (message.NextAttemptUtc is { } due && due > now)
        {
            Wait(lane, due);
            return;
        }
        var target = TargetOf(message.ClientId, lane.Key.Channel, now);
        if (target.Url is null || target.Disabled)
        {
            return; // parked until the client's URL is set or re-enabled; ClientChanged pumps it again
        }
        if (!_leases.HoldsFor(lane.Key.IntegrationId, _options.Timeout))
        {
            // The lease ends before an attempt could: wait for its renewal rather than risk a send beside the next holder.
            Wait(lane, now + TimeSpan.FromMilliseconds(200));
            return;
        }
        if (_outcomesUncommitted >= MaxOutcomesUncommitted)
        {
            // The writer is behind: every outcome it holds is memory, so no new send until it catches up.
            if (!lane.WaitingForWriter)
            {
                lane.WaitingForWriter = true;
                _waitingForWriter.Enqueue(lane);
            }
            return;
        }
        lane.Busy = true;
        Interlocked.Increment(ref _sendingByPartition[DeliveryPartitions.Of(lane.Key.IntegrationId)]);
        StartOrQueue(new Send(lane, message, target));
    }

    private void Wait(Lane lane, DateTimeOffset due)
    {
        lane.Busy = true;
        lane.WaitingUntil = due;
        _waiting.Enqueue(lane, due);
        if (_waiting.TryPeek(out _, out var earliest) && earliest == due)
        {
            _timer.Change(Max(due - _time.GetUtcNow(), TimeSpan.Zero), Timeout.InfiniteTimeSpan);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>The client's lanes waiting for a retry send now. Each head keeps its attempt count; the stale wait-queue entry is skipped.</summary>
    private void EndRetryWaits(Guid clientId)
    {
        foreach (var lane in _lanes.Values.Where(l => l.ClientId == clientId && l.WaitingUntil is not null && l.Head is not null).ToList())
        {
            lane.Head = lane.Head! with { NextAttemptUtc = null };
            lane.WaitingUntil = null;
            lane.Busy = false;
            Pump(lane);
        }
    }

    private void WakeDueLanes()
    {
        var now = _time.GetUtcNow();
        while (_waiting.TryPeek(out var lane, out var due) && due <= now)
        {
            _waiting.Dequeue();
            if (lane.WaitingUntil == due)
            {
                lane.WaitingUntil = null;
                lane.Busy = false;
                Pump(lane);
            }
        }
        if (_waiting.TryPeek(out _, out var next))
        {
            _timer.Change(next - now, Timeout.InfiniteTimeSpan);
        }
    }

    private ClientTarget TargetOf(Guid clientId, WebhookChannel channel, DateTimeOffset now)
    {
        if (_clients.TryGetValue((clientId, channel), out var cached) && (cached.RefreshAt is null || cached.RefreshAt > now))
        {
            return cached;
        }
        var client = _store.FindClient(clientId);
        var secrets = _store.ListSecrets(clientId).Where(s => s.ExpiresUtc is null || s.ExpiresUtc > now).ToList();
        var general = channel == WebhookChannel.General;
        var target = new ClientTarget(
            general ? client?.GeneralWebhookUrl : client?.IntegrationWebhookUrl,
            (general ? client?.GeneralWebhookDisabledUtc : client?.IntegrationWebhookDisabledUtc) is not null,
            secrets.Select(s => SigningKey.Parse(s.Secret)).ToArray(),
            secrets.Min(s => s.ExpiresUtc));
        _clients[(clientId, channel)] = target;
        return target;
    }

    /// <summary>
    /// A graceful stop: no new send starts, the sends under way get up to <see cref="DeliveryOptions.ShutdownGracePeriod"/>
    /// to finish, and their outcomes go to the writer (flush it after this), so a restart does not send them again. A
    /// send still running after that is cancelled; its message stays pending and is sent again, with the same id.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (IsRunning && _inbox.Writer.TryWrite(SendsClosing.Instance))
        {
            try
            {
                await _sendsEnded.Task.WaitAsync(_options.ShutdownGracePeriod, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                LogSendsCutShort(_logger, InFlight, "the end of the grace period");
            }
            catch (OperationCanceledException)
            {
                LogSendsCutShort(_logger, InFlight, "the end of the host's shutdown time-out");
            }
        }
        await DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        _inbox.Writer.TryComplete();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await _timer.DisposeAsync().ConfigureAwait(false);
        // The slots and the token source are not disposed: sends still winding down release and read them.
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Stopping delivery: no new send starts; {Count} under way get up to {GracePeriod} to finish")]
    private static partial void LogSendsClosing(ILogger logger, int count, TimeSpan gracePeriod);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Stopping: {Count} sends were still under way at {Limit} and are cancelled; their messages stay pending")]
    private static partial void LogSendsCutShort(ILogger logger, int count, string limit);

    [LoggerMessage(Level = LogLevel.Error, Message = "The dispatcher failed to handle {Signal}")]
    private static partial void LogSignalFailed(ILogger logger, Exception exception, string signal);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sending message {MessageId} failed unexpectedly")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forming the next General message of integration {IntegrationId} failed; retrying in 1 s")]
    private static partial void LogFormingFailed(ILogger logger, Exception exception, Guid integrationId);
}
