using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Logging;

namespace ConnectorEvents.Core.Telemetry;

/// <summary>
/// The backlog gauges' source: one count of pending messages per channel in storage, asked when metrics are collected
/// and kept for ten seconds, so the two gauges of one collection share one query, and scrapes more often than that (a
/// Prometheus default is 15 s) cost nothing more: with a large backlog the count reads every pending row. The count
/// covers the whole database (every process of a cluster reports the same figure).
/// </summary>
public sealed partial class BacklogMeter
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(10);
    private static readonly WebhookChannel[] Channels = [WebhookChannel.Integration, WebhookChannel.General];

    private readonly IConnectorStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<BacklogMeter> _logger;
    private readonly Lock _gate = new();
    private BacklogFigures _figures = BacklogFigures.Empty;
    private DateTimeOffset _measuredUtc = DateTimeOffset.MinValue;

    public BacklogMeter(IConnectorStore store, TimeProvider time, ConnectorTelemetry telemetry, ILogger<BacklogMeter> logger)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        _store = store;
        _time = time;
        _logger = logger;
        telemetry.ObserveBacklog(Read);
    }

    public BacklogFigures Read()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (now - _measuredUtc < Fresh)
            {
                return _figures;
            }
            _measuredUtc = now;
            try
            {
                var rows = _store.MeasureBacklog();
                _figures = new BacklogFigures(Channels.Select(channel => rows.FirstOrDefault(r => r.Channel == channel) is { Pending: > 0 } row
                    ? new ChannelBacklog(channel, row.Pending, now > row.OldestCreatedUtc ? now - row.OldestCreatedUtc : TimeSpan.Zero)
                    : new ChannelBacklog(channel, 0, TimeSpan.Zero)).ToList());
            }
#pragma warning disable CA1031 // storage being down shows in readiness; the gauges keep their last figures
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogMeasureFailed(_logger, ex);
            }
            return _figures;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The backlog could not be measured; the gauges keep their last figures")]
    private static partial void LogMeasureFailed(ILogger logger, Exception exception);
}
