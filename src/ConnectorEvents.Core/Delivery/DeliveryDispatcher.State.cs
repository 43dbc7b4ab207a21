using System.Diagnostics;
using ConnectorEvents.Core.General;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Delivery;

/// <summary>The dispatcher's state (lanes, endpoints, client targets) and the signals its loop handles.</summary>
public sealed partial class DeliveryDispatcher
{
    private sealed class Lane(DeliveryLane key)
    {
        public DeliveryLane Key { get; } = key;
        public Guid ClientId { get; set; }
        public Queue<PendingMessage> Queue { get; } = new();
#pragma warning disable CA1051 // a field, so TryDequeue can write it in place
        public PendingMessage? Head;
#pragma warning restore CA1051
        /// <summary>A message is in flight or waiting for its retry time.</summary>
        public bool Busy { get; set; }
        public DateTimeOffset? WaitingUntil { get; set; }
        /// <summary>Storage holds pending messages beyond what is in memory.</summary>
        public bool Overflow { get; set; }
        public bool Refilling { get; set; }
        public bool MissedWhileRefilling { get; set; }
        /// <summary>General lanes: the event log holds events this integration has not yet taken into a message.</summary>
        public bool Unformed { get; set; }
        public DateTimeOffset UnformedSinceUtc { get; set; }

        /// <summary>The trace of the ingest whose events the next message starts with, and of the message being formed.</summary>
        public ActivityContext UnformedTrace { get; set; }

        public ActivityContext FormingTrace { get; set; }
        public bool Forming { get; set; }
        public bool ArrivedWhileForming { get; set; }
        /// <summary>Its partition went to another process: signals still under way for it change nothing.</summary>
        public bool Abandoned { get; set; }
        public long LastQueueSeq { get; set; }
        /// <summary>Outcomes posted to the writer and not yet committed.</summary>
        public int OutcomesUncommitted { get; set; }
        /// <summary>Outcomes whose commit failed and that are being written again; the lane sends nothing meanwhile.</summary>
        public int OutcomesFailing { get; set; }
        /// <summary>Messages settled since the lane's settled position was last written.</summary>
        public int SettledUnrecorded { get; set; }
        /// <summary>In the queue of lanes that wait for the writer to catch up.</summary>
        public bool WaitingForWriter { get; set; }
        public int Count => Queue.Count + (Head is null ? 0 : 1);
    }

    /// <summary>Where and how a client's messages go; refreshed when a secret in use expires.</summary>
    private sealed record ClientTarget(string? Url, bool Disabled, SigningKey[] Keys, DateTimeOffset? RefreshAt);

    private sealed record Send(Lane Lane, PendingMessage Message, ClientTarget Target);

    private sealed class Endpoint
    {
        public int Sending;
        public Queue<Send> Waiting { get; } = new();
    }

    private abstract record Signal;
    private sealed record Committed(IReadOnlyList<PendingMessage> Messages) : Signal;
    private sealed record AttemptDone(Lane Lane, PendingMessage Message, ClientTarget Target, AttemptResult Result) : Signal;
    private sealed record Refilled(Lane Lane, IReadOnlyList<PendingMessage> Messages, bool Failed) : Signal;
    private sealed record ClientUpdated(Guid ClientId) : Signal;
    private sealed record RetryRequested(Guid ClientId) : Signal;
    private sealed record EventsLogged(IReadOnlyList<Guid> IntegrationIds, ActivityContext Trace) : Signal;
    private sealed record Formed(Lane Lane, FormedMessage? Result, Exception? Error) : Signal;
    private sealed record OutcomeCommitted(Lane Lane, bool Retried) : Signal;
    private sealed record OutcomeFailed(Lane Lane, Func<IWriteTransaction, PendingMessage?> Write, bool Retried) : Signal;
    private sealed record CommittedElsewhere(IReadOnlyList<DeliveryLane> Lanes) : Signal;
    private sealed record RescanAll : Signal
    {
        public static readonly RescanAll Instance = new();
    }
    private sealed record TimerFired : Signal
    {
        public static readonly TimerFired Instance = new();
    }
    private sealed record SendsClosing : Signal
    {
        public static readonly SendsClosing Instance = new();
    }
    private sealed record OwnershipChanged(IReadOnlyList<int> Gained, IReadOnlyList<int> Lost) : Signal;
    private sealed record Scanned(IReadOnlyList<int> Partitions, IReadOnlyList<DeliveryLane> Lanes, IReadOnlyList<Guid> Unformed, bool Failed) : Signal;
}
