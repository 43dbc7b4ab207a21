using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Core.Operations;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Delivery;

/// <summary>
/// Sending: a send takes its endpoint's slot and a global one, runs off the dispatcher's thread, and its outcome goes to
/// the writer without waiting; a graceful stop closes sends.
/// </summary>
public sealed partial class DeliveryDispatcher
{
    /// <summary>Outcomes handed to the writer and not yet committed, at most: four times the sends that may be under way.</summary>
    private int MaxOutcomesUncommitted => 4 * _options.MaxConcurrency;

    /// <summary>
    /// A lane's settled position is written with every this many settled messages, and whenever its queue in memory runs
    /// empty: often enough that a store's search for pending messages (after a restart, say) skips nearly all settled
    /// ones, rarely enough to cost nothing.
    /// </summary>
    private const int SettleLaneEvery = 64;

    private void ResumeLanesWaitingForWriter()
    {
        while (_outcomesUncommitted < MaxOutcomesUncommitted && _waitingForWriter.TryDequeue(out var lane))
        {
            lane.WaitingForWriter = false;
            Pump(lane);
        }
    }

    /// <summary>Starts the send if its endpoint and the whole process have a slot free; else it waits in line.</summary>
    private void StartOrQueue(Send send)
    {
        if (!_endpoints.TryGetValue(send.Target.Url!, out var endpoint))
        {
            endpoint = new Endpoint();
            _endpoints.Add(send.Target.Url!, endpoint);
        }
        if (endpoint.Sending >= _options.MaxConcurrencyPerEndpoint)
        {
            endpoint.Waiting.Enqueue(send); // a slow endpoint's sends wait behind it, not in everyone's line
            return;
        }
        if (_sending >= _options.MaxConcurrency)
        {
            _waitingForSlot.Enqueue(send);
            return;
        }
        endpoint.Sending++;
        Volatile.Write(ref _sending, _sending + 1);
        _ = SendAsync(send.Lane, send.Message, send.Target);
    }

    /// <summary>A send to <paramref name="url"/> ended: its slots go to whoever waits for them.</summary>
    private void ReleaseSlots(string url)
    {
        Volatile.Write(ref _sending, _sending - 1);
        var endpoint = _endpoints[url];
        endpoint.Sending--;
        if (_sendsClosed)
        {
            return; // the queues were emptied when sends closed
        }
        if (endpoint.Waiting.TryDequeue(out var next))
        {
            StartOrQueue(next);
        }
        while (_sending < _options.MaxConcurrency && _waitingForSlot.TryDequeue(out next))
        {
            StartOrQueue(next);
        }
        if (endpoint.Sending == 0 && endpoint.Waiting.Count == 0)
        {
            _endpoints.Remove(url);
        }
    }

    private async Task SendAsync(Lane lane, PendingMessage message, ClientTarget target)
    {
        AttemptResult? result = null;
        try
        {
            // Off the dispatcher's thread: signing and writing the request are the send's own work.
            await Task.Yield();
            result = await SendTracedAsync(message, target, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            Interlocked.Decrement(ref _sendingByPartition[DeliveryPartitions.Of(lane.Key.IntegrationId)]);
            return; // shutting down: the message is still pending in storage
        }
#pragma warning disable CA1031 // an unexpected failure is recorded as an attempt, never lost
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogSendFailed(_logger, ex, message.Id);
            result = new AttemptResult(_time.GetUtcNow(), 0, WebhookSender.Redact(new Uri(target.Url!)), null,
                AttemptErrors.ConnectionFailed, ex.GetType().Name, null, null);
        }
        _inbox.Writer.TryWrite(new AttemptDone(lane, message, target, result));
    }

    /// <summary>
    /// An outcome whose commit failed (a full or read-only disk) is written again every second until it commits: storage
    /// still calls its message Pending, and this process, which believes it settled, would otherwise never send it again.
    /// </summary>
    /// <param name="write">Returns the operational event it wrote beside the outcome, if any, for delivery after the commit.</param>
    private void PostOutcome(Lane lane, Func<IWriteTransaction, PendingMessage?> write, bool retried)
    {
        PendingMessage? operational = null;
        _writer.Post(tx => operational = write(tx), () =>
            {
                _inbox.Writer.TryWrite(new OutcomeCommitted(lane, retried));
                if (operational is { } message)
                {
                    _inbox.Writer.TryWrite(new Committed([message]));
                }
            },
            _ => _inbox.Writer.TryWrite(new OutcomeFailed(lane, write, retried)));
    }

    private void Finish(AttemptDone done)
    {
        var (lane, message, target, result) = done;
        ReleaseSlots(target.Url!);
        var attempts = message.AttemptCount + 1;
        var now = _time.GetUtcNow();
        MessageProgress progress;
        if (result.Succeeded)
        {
            progress = new MessageProgress(message.Seq, MessageStatus.Delivered, null, attempts, null, now);
            lane.Head = null;
        }
        else if (result.Gone)
        {
            progress = new MessageProgress(message.Seq, MessageStatus.Failed,
                $"The receiver answered 410 Gone; the client's {ChannelUrl(lane.Key.Channel)} is disabled until it is updated.",
                attempts, null, now);
            lane.Head = null;
            DisableEndpoint(message.ClientId, lane.Key.Channel, target, now, "The receiver answered 410 Gone.");
        }
        else if (_retry.NextDelay(attempts, result.RetryAfter) is { } delay)
        {
            var next = now + delay;
            progress = new MessageProgress(message.Seq, MessageStatus.Pending, null, attempts, next, null);
            lane.Head = message with { AttemptCount = attempts, NextAttemptUtc = next };
        }
        else
        {
            progress = new MessageProgress(message.Seq, MessageStatus.Failed,
                $"Given up after {attempts} attempts.", attempts, null, now);
            lane.Head = null;
        }
        if (!result.Gone)
        {
            NoteEndpointOutcome(message.ClientId, lane.Key.Channel, target, result.Succeeded, now);
        }
        _telemetry?.AttemptEnded(lane.Key.Channel, result, progress.Status, now - message.CreatedUtc);
        LogAttempt(message, lane.Key.Channel, attempts, result, progress);
        var attempt = new AttemptRecord(message.Seq, attempts, result.StartedUtc, result.DurationMs, result.Url,
            result.StatusCode, result.ErrorKind, result.Error, result.ResponseBody);
        long settledThrough = 0;
        if (lane.Head is null && (++lane.SettledUnrecorded >= SettleLaneEvery || lane.Queue.Count == 0))
        {
            // Settled, and so is every earlier message of the lane: it goes in queue order.
            settledThrough = message.QueueSeq;
            lane.SettledUnrecorded = 0;
        }
        lane.OutcomesUncommitted++;
        _outcomesUncommitted++;
        var reportFailure = progress.Status == MessageStatus.Failed && _operations is { Enabled: true };
        PostOutcome(lane, tx =>
        {
            tx.RecordAttempt(attempt);
            tx.UpdateProgress(progress);
            if (settledThrough > 0)
            {
                tx.SettleLane(lane.Key, settledThrough);
            }
            return reportFailure
                ? _operations!.Emit(tx, OperationalEvents.MessageFailed, message.ClientId, lane.Key.Channel, target.Url!, progress.StatusReason!,
                    message.Id, message.IntegrationId, attempts)
                : null;
        }, retried: false);
        Interlocked.Decrement(ref _sendingByPartition[DeliveryPartitions.Of(lane.Key.IntegrationId)]); // after the outcome is queued
        lane.Busy = false;
        Pump(lane);
        SignalIfSendsEnded();
    }

    /// <summary>Once sends are closed and none is under way, every outcome is with the writer: the stop may go on.</summary>
    private void SignalIfSendsEnded()
    {
        if (_sendsClosed && _sending == 0)
        {
            _sendsEnded.TrySetResult();
        }
    }

    /// <summary>
    /// No send starts any more; those waiting for a slot are dropped (their messages stay pending in storage), and the
    /// stop waits only for the sends already under way.
    /// </summary>
    private void CloseSends()
    {
        _sendsClosed = true;
        LogSendsClosing(_logger, _sending, _options.ShutdownGracePeriod);
        var waiting = _waitingForSlot.Concat(_endpoints.Values.SelectMany(e => e.Waiting)).ToList();
        _waitingForSlot.Clear();
        foreach (var endpoint in _endpoints.Values)
        {
            endpoint.Waiting.Clear();
        }
        foreach (var send in waiting)
        {
            send.Lane.Busy = false;
            Interlocked.Decrement(ref _sendingByPartition[DeliveryPartitions.Of(send.Lane.Key.IntegrationId)]);
        }
        SignalIfSendsEnded();
    }
}
