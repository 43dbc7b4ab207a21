using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>
/// Hears what the other server processes on the same database committed (<c>LISTEN connector_events</c>, the
/// announcements <see cref="PostgresConnectorStore"/>'s write transactions send) and hands it to <see cref="ClusterSignals"/>.
/// One dedicated connection; when it drops, the feed reconnects and asks for a rescan, since it may have missed news.
/// </summary>
public sealed partial class PostgresChangeFeed : IAsyncDisposable
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestBackoff = TimeSpan.FromSeconds(5);

    private readonly string _connectionString;
    private readonly string _nodeId;
    private readonly ILogger<PostgresChangeFeed> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private int _disposed;

    /// <param name="nodeId">This process's node id: announcements it sent itself are skipped.</param>
    public PostgresChangeFeed(string connectionString, string nodeId, ILogger<PostgresChangeFeed> logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        ArgumentNullException.ThrowIfNull(logger);
        // Keepalives make a wait on a silently dead connection fail, so the feed notices and reconnects.
        _connectionString = new NpgsqlConnectionStringBuilder(connectionString) { KeepAlive = 10, Pooling = false }.ConnectionString;
        _nodeId = nodeId;
        _logger = logger;
    }

    /// <summary>Completes once the first <c>LISTEN</c> is in place (tests wait for it before committing).</summary>
    internal Task Listening => _listening.Task;

    public void Start(ClusterSignals signals)
    {
        ArgumentNullException.ThrowIfNull(signals);
        Start(new SignalsTarget(signals));
    }

    internal void Start(IChangeTarget target)
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("The change feed is already started.");
        }
        _loop = Task.Run(() => RunAsync(target, _stopping.Token));
    }

    private async Task RunAsync(IChangeTarget target, CancellationToken stopping)
    {
        var backoff = FirstBackoff;
        var reconnecting = false;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                await connection.OpenAsync(stopping).ConfigureAwait(false);
                connection.Notification += (_, e) => Handle(e.Payload, target);
                await using (var listen = new NpgsqlCommand($"LISTEN {ChangeAnnouncements.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stopping).ConfigureAwait(false);
                }
                if (reconnecting)
                {
                    target.MayHaveMissedSignals();
                }
                _listening.TrySetResult();
                backoff = FirstBackoff;
                reconnecting = true;
                while (true)
                {
                    await connection.WaitAsync(stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // any failure of the connection: reconnect, never end the loop
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // The first failure of an outage with its exception; the attempts after it in one short line each, their
                // number bounded by the back-off.
                if (backoff == FirstBackoff)
                {
                    LogConnectionLost(_logger, ex, backoff.TotalMilliseconds);
                }
                else
                {
                    LogStillUnreachable(_logger, backoff.TotalMilliseconds);
                }
                reconnecting = true;
                try
                {
                    await Task.Delay(backoff, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LongestBackoff.Ticks));
            }
        }
    }

    private void Handle(string payload, IChangeTarget target)
    {
        ChangeNotification? notification;
        try
        {
            notification = Parse(payload, _nodeId);
        }
#pragma warning disable CA1031 // a malformed payload is skipped, never the end of the feed
        catch (Exception ex) when (ex is FormatException or ContractReadException or ArgumentException)
#pragma warning restore CA1031
        {
            LogMalformedPayload(_logger, ex, payload.Length);
            return;
        }
        if (notification is null)
        {
            return;
        }
        try
        {
            notification.DeliverTo(target);
        }
#pragma warning disable CA1031 // a failing receiver must not stop the feed
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogSignalFailed(_logger, ex);
        }
    }

    /// <summary>Reads one payload; null when this node sent it. Throws <see cref="FormatException"/> when malformed.</summary>
    internal static ChangeNotification? Parse(string payload, string ownNodeId)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var lines = payload.Split('\n');
        if (lines[0].Length == 0)
        {
            throw new FormatException("The announcement names no sender.");
        }
        if (string.Equals(lines[0], ownNodeId, StringComparison.Ordinal))
        {
            return null;
        }
        var notification = new ChangeNotification();
        foreach (var line in lines.Skip(1))
        {
            var parts = line.Split(' ');
            switch (parts)
            {
                case ["m", var id, "I"]: notification.Lanes.Add(new DeliveryLane(Id(id), WebhookChannel.Integration)); break;
                case ["m", var id, "G"]: notification.Lanes.Add(new DeliveryLane(Id(id), WebhookChannel.General)); break;
                case ["g", var id]: notification.GeneralIntegrations.Add(Id(id)); break;
                case ["c", var id]: notification.Clients.Add(Id(id)); break;
                case ["r", var id]: notification.RetryNow.Add(Id(id)); break;
                case ["i", var id]: notification.Integrations.Add(Id(id)); break;
                case ["w", var id, var frame]:
                    notification.WebSocketEvents.Add((Id(id), WebSocketFrameReader.Read(Convert.FromBase64String(frame)).Events));
                    break;
                default: throw new FormatException($"Unknown announcement item '{(line.Length > 40 ? line[..40] : line)}'.");
            }
        }
        return notification;
    }

    private static Guid Id(string text) => Guid.ParseExact(text, "D");

    public async ValueTask DisposeAsync()
    {
        // Twice is fine: the host stops it, then the container disposes it.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The change feed lost its connection; reconnecting in {DelayMs} ms")]
    private static partial void LogConnectionLost(ILogger logger, Exception exception, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The change feed still cannot connect; trying again in {DelayMs} ms")]
    private static partial void LogStillUnreachable(ILogger logger, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A change announcement of {Length} characters could not be read; skipped")]
    private static partial void LogMalformedPayload(ILogger logger, Exception exception, int length);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handing a change announcement on failed")]
    private static partial void LogSignalFailed(ILogger logger, Exception exception);

    private sealed class SignalsTarget(ClusterSignals signals) : IChangeTarget
    {
        public void MessagesCommitted(IReadOnlyList<DeliveryLane> lanes) => signals.MessagesCommitted(lanes);

        public void GeneralEventsLogged(IReadOnlyList<Guid> integrationIds) => signals.GeneralEventsLogged(integrationIds);

        public void ClientChanged(Guid clientId) => signals.ClientChanged(clientId);

        public void RetryNow(Guid clientId) => signals.RetryNow(clientId);

        public void IntegrationChanged(Guid integrationId) => signals.IntegrationChanged(integrationId);

        public void WebSocketEvents(Guid enterpriseId, IReadOnlyList<WebSocketEvent> events) => signals.WebSocketEvents(enterpriseId, events);

        public void MayHaveMissedSignals() => signals.MayHaveMissedSignals();
    }
}

/// <summary>Where the feed hands what it heard: <see cref="ClusterSignals"/>, or a recorder in tests.</summary>
internal interface IChangeTarget
{
    void MessagesCommitted(IReadOnlyList<DeliveryLane> lanes);
    void GeneralEventsLogged(IReadOnlyList<Guid> integrationIds);
    void ClientChanged(Guid clientId);
    void RetryNow(Guid clientId);
    void IntegrationChanged(Guid integrationId);
    void WebSocketEvents(Guid enterpriseId, IReadOnlyList<WebSocketEvent> events);
    void MayHaveMissedSignals();
}

/// <summary>One announcement, read.</summary>
internal sealed class ChangeNotification
{
    public List<DeliveryLane> Lanes { get; } = [];
    public List<Guid> GeneralIntegrations { get; } = [];
    public List<Guid> Clients { get; } = [];
    public List<Guid> RetryNow { get; } = [];
    public List<Guid> Integrations { get; } = [];
    public List<(Guid EnterpriseId, IReadOnlyList<WebSocketEvent> Events)> WebSocketEvents { get; } = [];

    /// <summary>All lanes in one call and all General integrations in one call; the rest one by one.</summary>
    public void DeliverTo(IChangeTarget target)
    {
        if (Lanes.Count > 0)
        {
            target.MessagesCommitted(Lanes);
        }
        if (GeneralIntegrations.Count > 0)
        {
            target.GeneralEventsLogged(GeneralIntegrations);
        }
        foreach (var client in Clients)
        {
            target.ClientChanged(client);
        }
        foreach (var client in RetryNow)
        {
            target.RetryNow(client);
        }
        foreach (var integration in Integrations)
        {
            target.IntegrationChanged(integration);
        }
        foreach (var (enterpriseId, events) in WebSocketEvents)
        {
            target.WebSocketEvents(enterpriseId, events);
        }
    }
}
