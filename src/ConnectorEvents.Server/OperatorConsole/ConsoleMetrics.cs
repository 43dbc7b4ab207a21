using System.Diagnostics.Metrics;
using ConnectorEvents.Core.Realtime;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Core.Telemetry;

namespace ConnectorEvents.Server.OperatorConsole;

/// <summary>
/// The console's charts: this process's own instruments (<see cref="ConnectorTelemetry"/>), heard in-process through a
/// <see cref="MeterListener"/> and kept as one hour of ten-second steps (360 of them, a few hundred KiB), with the open
/// WebSockets and the backlog (the whole database's, from <see cref="BacklogMeter"/>). The backlog is counted once a
/// minute, and only while someone looks at it (the Overview served in the last <see cref="Watching"/>): with a large
/// backlog the count reads every pending row, and its long read holds the SQLite log from being reset, which nobody
/// should pay for while nobody looks. Nothing leaves the process; the figures start again at a restart.
/// </summary>
public sealed class ConsoleMetrics : IHostedService, IDisposable
{
    public static readonly TimeSpan StepLength = TimeSpan.FromSeconds(10);
    public const int Steps = 360;
    private const int BacklogEverySteps = 6;

    /// <summary>How long after a console page was served the backlog is still counted.</summary>
    public static readonly TimeSpan Watching = TimeSpan.FromMinutes(15);

    /// <summary>Delivery latency histogram: bucket i holds values up to <see cref="LatencyBase"/> × 1.25^i seconds.</summary>
    private const int LatencyBuckets = 72;
    private const double LatencyBase = 0.0005;
    private const double LatencyGrowth = 1.25;

    private readonly ConnectorTelemetry _telemetry;
    private readonly BacklogMeter _backlog;
    private readonly WebSocketHub _webSockets;
    private readonly TimeProvider _time;
    private readonly MeterListener _listener = new();
    private readonly Interval?[] _ring = new Interval?[Steps];
    private readonly Lock _gate = new();
    private Interval _current;
    private int _index;
    private int _sinceBacklog = BacklogEverySteps;
    private BacklogFigures _lastBacklog = BacklogFigures.Empty;
    private long _lastViewedTicks; // never
    private ITimer? _timer;

    public ConsoleMetrics(ConnectorTelemetry telemetry, BacklogMeter backlog, WebSocketHub webSockets, TimeProvider time)
    {
        _telemetry = telemetry;
        _backlog = backlog;
        _webSockets = webSockets;
        _time = time;
        _current = new Interval();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == _telemetry.Meter && Heard.TryGetValue(instrument.Name, out var heard))
            {
                listener.EnableMeasurementEvents(instrument, heard); // the callbacks switch on it, not on the name
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => Count((Instrument)state!, value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => Latency((Instrument)state!, value, tags));
    }

    /// <summary>The instruments heard, boxed once each (the state a measurement comes with).</summary>
    private enum Instrument
    {
        Delivered,
        Failed,
        Attempts,
        Latency,
        Ingested,
        Frames,
    }

    private static readonly Dictionary<string, object> Heard = new(StringComparer.Ordinal)
    {
        ["connector_events.messages.delivered"] = Instrument.Delivered,
        ["connector_events.messages.failed"] = Instrument.Failed,
        ["connector_events.delivery.attempts"] = Instrument.Attempts,
        ["connector_events.delivery.latency"] = Instrument.Latency,
        ["connector_events.ingest.events"] = Instrument.Ingested,
        ["connector_events.websocket.frames"] = Instrument.Frames,
    };

    /// <summary>One step's figures, by channel (<see cref="WebhookChannel"/> as index); counters are added to from the delivery threads.</summary>
    public sealed class Interval
    {
        private static readonly int OutcomeCount = ConnectorTelemetry.Outcomes.Count;

        internal readonly long[] Delivered = new long[2];
        internal readonly long[] Failed = new long[2];
        internal readonly long[] Attempts = new long[2 * OutcomeCount];
        internal readonly long[] Latency = new long[2 * LatencyBuckets];
        internal long Ingested;
        internal long Frames;
        internal readonly long[] Pending = new long[2];
        internal readonly double[] OldestAgeSeconds = new double[2];
        internal int WebSockets;

        public long DeliveredOf(WebhookChannel channel) => Delivered[(int)channel];
        public long FailedOf(WebhookChannel channel) => Failed[(int)channel];

        /// <param name="outcome">An index into <see cref="ConnectorTelemetry.Outcomes"/>.</param>
        public long AttemptsOf(WebhookChannel channel, int outcome) => Attempts[AttemptSlot((int)channel, outcome)];
        public long IngestedEvents => Ingested;
        public long FramesQueued => Frames;
        public long PendingOf(WebhookChannel channel) => Pending[(int)channel];
        public double OldestAgeOf(WebhookChannel channel) => OldestAgeSeconds[(int)channel];
        public int WebSocketConnections => WebSockets;

        internal static int AttemptSlot(int channel, int outcome) => (channel * OutcomeCount) + outcome;

        /// <summary>The delivery latency at quantile <paramref name="q"/> in seconds (the upper bound of its bucket), or null.</summary>
        public double? LatencyAt(WebhookChannel channel, double q)
        {
            var from = (int)channel * LatencyBuckets;
            var total = 0L;
            for (var i = 0; i < LatencyBuckets; i++)
            {
                total += Latency[from + i];
            }
            if (total == 0)
            {
                return null;
            }
            var rank = (long)Math.Ceiling(q * total);
            var seen = 0L;
            for (var i = 0; i < LatencyBuckets; i++)
            {
                seen += Latency[from + i];
                if (seen >= rank)
                {
                    return LatencyBase * Math.Pow(LatencyGrowth, i);
                }
            }
            return LatencyBase * Math.Pow(LatencyGrowth, LatencyBuckets - 1);
        }
    }

    /// <summary>A count per step as a rate per second, a value per step.</summary>
    public static IReadOnlyList<double?> PerSecond(IReadOnlyList<Interval> steps, Func<Interval, long> count)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(count);
        return steps.Select(s => (double?)(count(s) / StepLength.TotalSeconds)).ToList();
    }

    /// <summary>The closed steps of the last hour, oldest first, and the step under way last.</summary>
    public IReadOnlyList<Interval> Read()
    {
        lock (_gate)
        {
            var steps = new List<Interval>(Steps + 1);
            for (var i = 1; i <= Steps; i++)
            {
                if (_ring[(_index + i) % Steps] is { } step)
                {
                    steps.Add(step);
                }
            }
            steps.Add(_current);
            return steps;
        }
    }

    private static int ChannelOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "channel")
            {
                return tag.Value is "General" ? 1 : 0;
            }
        }
        return 0;
    }

    private void Count(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var step = Volatile.Read(ref _current);
        switch (instrument)
        {
            case Instrument.Delivered:
                Interlocked.Add(ref step.Delivered[ChannelOf(tags)], value);
                break;
            case Instrument.Failed:
                Interlocked.Add(ref step.Failed[ChannelOf(tags)], value);
                break;
            case Instrument.Attempts:
                var outcome = 0;
                foreach (var tag in tags)
                {
                    if (tag.Key == "outcome")
                    {
                        outcome = OutcomeIndex(tag.Value);
                    }
                }
                Interlocked.Add(ref step.Attempts[Interval.AttemptSlot(ChannelOf(tags), outcome)], value);
                break;
            case Instrument.Ingested:
                Interlocked.Add(ref step.Ingested, value);
                break;
            case Instrument.Frames:
                Interlocked.Add(ref step.Frames, value);
                break;
        }
    }

    private static int OutcomeIndex(object? outcome)
    {
        for (var i = 0; i < ConnectorTelemetry.Outcomes.Count; i++)
        {
            if (Equals(ConnectorTelemetry.Outcomes[i], outcome))
            {
                return i;
            }
        }
        return 0;
    }

    private void Latency(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (instrument != Instrument.Latency)
        {
            return;
        }
        var bucket = seconds <= LatencyBase ? 0 : Math.Min(LatencyBuckets - 1, (int)Math.Ceiling(Math.Log(seconds / LatencyBase, LatencyGrowth)));
        Interlocked.Increment(ref Volatile.Read(ref _current).Latency[(ChannelOf(tags) * LatencyBuckets) + bucket]);
    }

    /// <summary>The Overview was served: the backlog is counted from the next step on, for <see cref="Watching"/>.</summary>
    public void NoteViewer()
    {
        var now = _time.GetUtcNow().UtcTicks;
        var last = Interlocked.Exchange(ref _lastViewedTicks, now);
        if (now - last > Watching.Ticks)
        {
            Volatile.Write(ref _sinceBacklog, BacklogEverySteps); // back after a while: count at the next step, not a minute on
        }
    }

    /// <summary>Closes the step under way (its gauges read now) and opens the next.</summary>
    internal void Advance()
    {
        var now = _time.GetUtcNow();
        var watched = now.UtcTicks - Interlocked.Read(ref _lastViewedTicks) <= Watching.Ticks;
        if (watched && ++_sinceBacklog >= BacklogEverySteps)
        {
            _sinceBacklog = 0;
            _lastBacklog = _backlog.Read();
        }
        lock (_gate)
        {
            var closing = _current;
            foreach (var channel in _lastBacklog.Channels)
            {
                var i = (int)channel.Channel;
                closing.Pending[i] = channel.Pending;
                closing.OldestAgeSeconds[i] = channel.OldestAge.TotalSeconds;
            }
            closing.WebSockets = _webSockets.ConnectionCount;
            _ring[_index] = closing;
            _index = (_index + 1) % Steps;
            // The step under way shows the gauges as last read until it closes.
            var next = new Interval { WebSockets = closing.WebSockets };
            closing.Pending.CopyTo(next.Pending, 0);
            closing.OldestAgeSeconds.CopyTo(next.OldestAgeSeconds, 0);
            Volatile.Write(ref _current, next);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener.Start();
        _timer = _time.CreateTimer(_ => Advance(), null, StepLength, StepLength);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _listener.Dispose();
    }
}
