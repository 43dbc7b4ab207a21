using System.Diagnostics;
using ConnectorEvents.Core.General;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Delivery;

/// <summary>General lanes: events arrive in the enterprise's log, and the lane forms its next message from them when it may send.</summary>
public sealed partial class DeliveryDispatcher
{
    private static void MarkUnformed(Lane lane, DateTimeOffset now, ActivityContext trace = default)
    {
        if (lane.Forming)
        {
            lane.ArrivedWhileForming = true;
        }
        else if (!lane.Unformed)
        {
            lane.Unformed = true;
            lane.UnformedSinceUtc = now;
        }
        if (lane.UnformedTrace == default)
        {
            lane.UnformedTrace = trace; // the first ingest the next message carries gives it its trace
        }
    }

    private void StartForming(Lane lane)
    {
        var now = _time.GetUtcNow();
        var window = _options.General.BatchWindow;
        if (window > TimeSpan.Zero && lane.UnformedSinceUtc + window > now)
        {
            Wait(lane, lane.UnformedSinceUtc + window);
            return;
        }
        lane.Busy = true;
        lane.Forming = true;
        lane.Unformed = false;
        lane.FormingTrace = lane.UnformedTrace;
        lane.UnformedTrace = default;
        lane.ArrivedWhileForming = false;
        var integrationId = lane.Key.IntegrationId;
        var capacity = _options.General.MaxEventsPerMessage;
        // The result is signalled from the writer thread right after the commit, so it reaches the inbox before any
        // message a later unit of the same commit hands over (e.g. a retry of this lane with a later queue position).
        _writer.ExecuteAsync(tx => GeneralMessageFormation.Form(tx, integrationId, capacity, now),
                formed => _inbox.Writer.TryWrite(new Formed(lane, formed, null)), integrationId)
            .ContinueWith(t => _inbox.Writer.TryWrite(new Formed(lane, null, t.Exception!.GetBaseException())),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
    }

    private void AfterFormed(Formed formed)
    {
        var lane = formed.Lane;
        lane.Busy = false;
        lane.Forming = false;
        if (lane.Abandoned)
        {
            return; // the message formed (if any) is pending in storage for the partition's new holder
        }
        if (formed.Result is { } made)
        {
            _telemetry?.MessagesCreated(WebhookChannel.General, made.Message is null ? 0 : 1, made.Skipped);
        }
        if (formed.Result is not { } result)
        {
            LogFormingFailed(_logger, formed.Error!, lane.Key.IntegrationId);
            MarkUnformed(lane, _time.GetUtcNow());
            Wait(lane, _time.GetUtcNow() + TimeSpan.FromSeconds(1));
            return;
        }
        if (result.ClientId is { } clientId)
        {
            lane.ClientId = clientId;
        }
        if (result.MoreWaiting || lane.ArrivedWhileForming)
        {
            lane.ArrivedWhileForming = false;
            MarkUnformed(lane, _time.GetUtcNow());
        }
        if (result.Parked)
        {
            lane.Unformed = true; // ClientChanged pumps the lane again once the URL is set
            return;
        }
        _lanes.TryAdd(lane.Key, lane);
        if (result.Message is { } message)
        {
            Accept(lane, lane.FormingTrace == default ? message : message with { Trace = lane.FormingTrace });
        }
        Pump(lane); // Accept may have queued the message without sending it (overflow, refill)
    }
}
