using System.Diagnostics;
using System.Diagnostics.Metrics;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Telemetry;

/// <summary>
/// The server's metrics (meter <see cref="Name"/>) and trace spans (activity source <see cref="Name"/>). Every instrument
/// is created once; recording into one that nobody listens to costs a branch. Instrument names follow the OpenTelemetry
/// conventions (dots, units in <c>unit</c>); the Prometheus exporter turns <c>connector_events.messages.delivered</c> into
/// <c>connector_events_messages_delivered_total</c>.
/// </summary>
public sealed class ConnectorTelemetry : IDisposable
{
    public const string Name = "ConnectorEvents";

    /// <summary>The trace spans: an API command or ingest, its commit, each delivery attempt.</summary>
    public static readonly ActivitySource Source = new(Name);

    private readonly Meter _meter;
    private readonly Counter<long> _created;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _skipped;
    private readonly Counter<long> _attempts;
    private readonly Histogram<double> _latency;
    private readonly Histogram<double> _attemptDuration;
    private readonly Counter<long> _ingestEvents;
    private readonly Counter<long> _frames;
    private readonly Histogram<int> _commitUnits;
    private readonly Histogram<double> _commitDuration;

    public ConnectorTelemetry(IMeterFactory? meterFactory = null)
    {
        // Through the host's factory, so that two servers in one process (the tests) keep their figures apart.
        _meter = meterFactory?.Create(Name) ?? new Meter(Name);
        _created = _meter.CreateCounter<long>("connector_events.messages.created", "{message}",
            "Messages written to the outbox, Pending or Skipped.");
        _delivered = _meter.CreateCounter<long>("connector_events.messages.delivered", "{message}",
            "Messages the receiver acknowledged with a 2xx.");
        _failed = _meter.CreateCounter<long>("connector_events.messages.failed", "{message}",
            "Messages given up: retries exhausted, or the receiver answered 410 Gone.");
        _skipped = _meter.CreateCounter<long>("connector_events.messages.skipped", "{message}",
            "Messages recorded without being sent: no URL, or the client's pinned contract version lacks them.");
        _attempts = _meter.CreateCounter<long>("connector_events.delivery.attempts", "{attempt}",
            "Delivery attempts, by outcome: success, http_error, timeout, connection_error, blocked.");
        _latency = _meter.CreateHistogram<double>("connector_events.delivery.latency", "s",
            "From a message's creation to its acknowledgement.");
        _attemptDuration = _meter.CreateHistogram<double>("connector_events.attempt.duration", "s",
            "One delivery attempt, from the request's start to the answer's end.");
        _ingestEvents = _meter.CreateCounter<long>("connector_events.ingest.events", "{event}",
            "Events taken in by POST /api/v1/enterprises/{id}/events (replays of an Idempotency-Key not counted).");
        _frames = _meter.CreateCounter<long>("connector_events.websocket.frames", "{frame}",
            "Frames queued to connected WebSockets.");
        _commitUnits = _meter.CreateHistogram<int>("connector_events.storage.commit.units", "{unit}",
            "Writes committed together in one transaction (group commit).");
        _commitDuration = _meter.CreateHistogram<double>("connector_events.storage.commit.duration", "s",
            "One group commit, from its first statement to the end of COMMIT.");
    }

    /// <summary>This server's meter: a listener in the same process (the console's charts) tells it from another server's.</summary>
    public Meter Meter => _meter;

    /// <summary>The backlog gauges, read from <paramref name="backlog"/> when the metrics are collected.</summary>
    public void ObserveBacklog(Func<BacklogFigures> backlog)
    {
        ArgumentNullException.ThrowIfNull(backlog);
        _meter.CreateObservableGauge("connector_events.backlog.messages",
            () => backlog().Channels.Select(c => new Measurement<long>(c.Pending, Channel(c.Channel))),
            "{message}", "Messages waiting for delivery.");
        _meter.CreateObservableGauge("connector_events.backlog.oldest_age",
            () => backlog().Channels.Select(c => new Measurement<double>(c.OldestAge.TotalSeconds, Channel(c.Channel))),
            "s", "How long the oldest waiting message has waited.");
    }

    /// <summary>The WebSocket connection gauge, read from <paramref name="connections"/> when the metrics are collected.</summary>
    public void ObserveWebSocketConnections(Func<int> connections) =>
        _meter.CreateObservableGauge("connector_events.websocket.connections", connections, "{connection}", "Open WebSocket connections.");

    public void MessagesCreated(WebhookChannel channel, int pending, int skipped)
    {
        if (pending + skipped > 0)
        {
            _created.Add(pending + skipped, Channel(channel));
        }
        if (skipped > 0)
        {
            _skipped.Add(skipped, Channel(channel));
        }
    }

    /// <summary>One attempt's result and, when it settled the message, the message's end.</summary>
    public void AttemptEnded(WebhookChannel channel, AttemptResult result, MessageStatus settled, TimeSpan sinceCreated)
    {
        ArgumentNullException.ThrowIfNull(result);
        var channelTag = Channel(channel);
        _attempts.Add(1, channelTag, new KeyValuePair<string, object?>("outcome", OutcomeOf(result)));
        _attemptDuration.Record(result.DurationMs / 1000, channelTag);
        switch (settled)
        {
            case MessageStatus.Delivered:
                _delivered.Add(1, channelTag);
                _latency.Record(Math.Max(0, sinceCreated.TotalSeconds), channelTag);
                break;
            case MessageStatus.Failed:
                _failed.Add(1, channelTag);
                break;
        }
    }

    public void EventsIngested(int count) => _ingestEvents.Add(count);

    public void FramesQueued(int count) => _frames.Add(count);

    public void Committed(int units, TimeSpan took)
    {
        _commitUnits.Record(units);
        _commitDuration.Record(took.TotalSeconds);
    }

    /// <summary>Every value of the <c>outcome</c> attribute, in the order the console shows them.</summary>
    public static IReadOnlyList<string> Outcomes { get; } = ["success", "http_error", "timeout", "connection_error", "blocked"];

    /// <summary>The <c>outcome</c> attribute of an attempt: one of <see cref="Outcomes"/>.</summary>
    public static string OutcomeOf(AttemptResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result switch
        {
            { Succeeded: true } => "success",
            { ErrorKind: AttemptErrors.Timeout } => "timeout",
            { ErrorKind: AttemptErrors.AddressBlocked } => "blocked",
            { StatusCode: not null } => "http_error",
            { ErrorKind: AttemptErrors.TooManyRedirects or AttemptErrors.InvalidRedirect } => "http_error",
            _ => "connection_error",
        };
    }

    private static KeyValuePair<string, object?> Channel(WebhookChannel channel) =>
        new("channel", channel == WebhookChannel.General ? "General" : "Integration");

    public void Dispose() => _meter.Dispose();
}

/// <summary>What waits for delivery, per channel.</summary>
public sealed record BacklogFigures(IReadOnlyList<ChannelBacklog> Channels)
{
    public static readonly BacklogFigures Empty = new([]);
}

/// <param name="OldestAge">How long the oldest waiting message has waited; zero when none waits.</param>
public sealed record ChannelBacklog(WebhookChannel Channel, long Pending, TimeSpan OldestAge);
