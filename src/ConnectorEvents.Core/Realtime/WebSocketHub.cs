using System.Collections.Concurrent;
using System.Net.WebSockets;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Core.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Realtime;

/// <summary>
/// The WebSocket connections of this process, by enterprise. <see cref="Publish"/> and
/// <see cref="IntegrationChanged"/> run on the writer thread after a commit, so they only queue and flag: no socket
/// is awaited here. Memory is bounded three ways: sockets are admitted up to <see cref="RealtimeOptions.MaxConnections"/>
/// (and <see cref="RealtimeOptions.MaxConnectionsPerIntegration"/> per integration); a frame is encoded once and shared
/// by every socket it goes to, each socket's backlog bounded by its send buffer; and the frames held for all sockets
/// together are bounded by <see cref="RealtimeOptions.MaxBufferedBytes"/>, past which the sockets furthest behind close.
/// </summary>
#pragma warning disable CA1001 // its semaphore never makes a wait handle (nothing asks for one), so it holds nothing to dispose
public sealed partial class WebSocketHub
#pragma warning restore CA1001
{
    public const string TooSlowReason = "Too slow: the send buffer is full.";
    public const string AccessTokenRegeneratedReason = "The access token was regenerated.";
    public const string ClientTokenRegeneratedReason = "The client token was regenerated.";
    public const string ShuttingDownReason = "The server is shutting down.";

    private readonly RealtimeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConnectorTelemetry? _telemetry;
    private readonly Lock _gate = new();

    // Writes under way at once on all sockets together (see WebSocketConnection.SendFragmentsAsync): one per core.
    private readonly SemaphoreSlim _writeTurns = new(Environment.ProcessorCount, Environment.ProcessorCount);

    // Copy-on-write arrays, replaced under _gate, so Publish reads them without taking a lock.
    private readonly ConcurrentDictionary<Guid, WebSocketConnection[]> _byEnterprise = new();

    // Places taken before the upgrade, in all and per integration, under _gate; given back when the socket is done.
    private readonly Dictionary<Guid, int> _admittedByIntegration = [];
    private int _admitted;
    private long _bufferedBytes;
    private int _count;
    private int _published;
    private int _slowClosed;

    public WebSocketHub(IOptions<RealtimeOptions> options, TimeProvider time, ILogger<WebSocketHub> logger, ConnectorTelemetry? telemetry = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = time;
        _logger = logger;
        _telemetry = telemetry;
        telemetry?.ObserveWebSocketConnections(() => ConnectionCount);
    }

    /// <summary>Events handed to <see cref="Publish"/> so far.</summary>
    public int Published => Volatile.Read(ref _published);

    /// <summary>Sockets closed so far because their send buffer was full.</summary>
    public int SlowConsumersClosed => Volatile.Read(ref _slowClosed);

    /// <summary>Sockets registered now.</summary>
    public int ConnectionCount => Volatile.Read(ref _count);

    /// <summary>Bytes of the frames queued or in flight for all open sockets together, each frame counted once.</summary>
    public long BufferedBytes => Interlocked.Read(ref _bufferedBytes);

    /// <summary>How far behind the sockets are, added up: a frame counts once for each socket it waits for.</summary>
    public long BacklogBytes => _byEnterprise.Values.SelectMany(c => c).Sum(c => c.QueuedBytes);

    /// <summary>
    /// Takes a place for one more socket of the integration, before its upgrade; <see cref="Leave"/> gives it back once
    /// the socket is done (or the upgrade failed).
    /// </summary>
    public WebSocketAdmission Admit(Guid integrationId)
    {
        lock (_gate)
        {
            if (_admitted >= _options.MaxConnections)
            {
                return WebSocketAdmission.ServerFull;
            }
            var ofIntegration = _admittedByIntegration.GetValueOrDefault(integrationId);
            if (ofIntegration >= _options.MaxConnectionsPerIntegration)
            {
                return WebSocketAdmission.IntegrationFull;
            }
            _admittedByIntegration[integrationId] = ofIntegration + 1;
            _admitted++;
            return WebSocketAdmission.Admitted;
        }
    }

    /// <summary>Gives back a place <see cref="Admit"/> took.</summary>
    public void Leave(Guid integrationId)
    {
        lock (_gate)
        {
            if (!_admittedByIntegration.TryGetValue(integrationId, out var ofIntegration))
            {
                return;
            }
            if (ofIntegration <= 1)
            {
                _admittedByIntegration.Remove(integrationId);
            }
            else
            {
                _admittedByIntegration[integrationId] = ofIntegration - 1;
            }
            _admitted--;
        }
    }

    /// <summary>Pushes committed WebSocket events of an enterprise to the connected sockets that subscribe to them.</summary>
    public void Publish(Guid enterpriseId, IReadOnlyList<WebSocketEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        Interlocked.Add(ref _published, events.Count);
        if (events.Count == 0 || !_byEnterprise.TryGetValue(enterpriseId, out var connections))
        {
            return;
        }
        // Sockets with the same subscription share one serialized frame; null means nothing of it is subscribed.
        var frames = new Dictionary<EventSubscription, SharedFrame?>();
        var queued = 0;
        try
        {
            foreach (var connection in connections)
            {
                if (connection.IsClosing)
                {
                    continue;
                }
                var filter = connection.Filter;
                if (!frames.TryGetValue(filter, out var frame))
                {
                    frame = FrameFor(filter, events);
                    frames[filter] = frame;
                }
                if (frame is null)
                {
                    continue;
                }
                if (connection.TryEnqueue(frame))
                {
                    queued++;
                }
                else
                {
                    LogSlowConsumer(_logger, connection.IntegrationId, connection.QueuedFrames, connection.QueuedBytes);
                    CloseAsTooSlow(connection);
                }
            }
        }
        finally
        {
            _telemetry?.FramesQueued(queued);
            // The publisher's own hold: a frame no socket took is let go here.
            foreach (var frame in frames.Values)
            {
                frame?.Release();
            }
        }
        if (BufferedBytes > _options.MaxBufferedBytes)
        {
            CloseSlowestUntilWithinBound();
        }
    }

    /// <summary>
    /// The frames held for all sockets passed <see cref="RealtimeOptions.MaxBufferedBytes"/>: the sockets furthest behind
    /// close as too slow, most bytes behind first, until the rest fits. A closing socket lets go of its frames at once.
    /// </summary>
    private void CloseSlowestUntilWithinBound()
    {
        var behind = _byEnterprise.Values.SelectMany(c => c)
            .Where(c => !c.IsClosing && c.QueuedBytes > 0)
            .OrderByDescending(c => c.QueuedBytes)
            .ToList();
        foreach (var connection in behind)
        {
            if (BufferedBytes <= _options.MaxBufferedBytes)
            {
                return;
            }
            LogOverBufferBound(_logger, connection.IntegrationId, connection.QueuedBytes, BufferedBytes, _options.MaxBufferedBytes);
            CloseAsTooSlow(connection);
        }
    }

    private void CloseAsTooSlow(WebSocketConnection connection)
    {
        Interlocked.Increment(ref _slowClosed);
        CloseConnection(connection, WebSocketCloseStatus.PolicyViolation, TooSlowReason);
    }

    private void CountBuffered(long bytes) => Interlocked.Add(ref _bufferedBytes, bytes);

    /// <summary>
    /// An integration changed, in this process or another: its sockets close when it left Enabled or its access token is
    /// no longer the one they connected with; otherwise they take its current subscription.
    /// </summary>
    public void IntegrationChanged(IntegrationRecord current)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (!_byEnterprise.TryGetValue(current.EnterpriseId, out var connections))
        {
            return;
        }
        foreach (var connection in connections)
        {
            if (connection.IntegrationId != current.Id)
            {
                continue;
            }
            if (ReasonToClose(connection.AccessToken, current) is { } reason)
            {
                CloseConnection(connection, WebSocketCloseStatus.PolicyViolation, reason);
            }
            else
            {
                // Callers pass the integration as it is after the latest commit, so the latest subscription wins.
                connection.Filter = current.WebSocketEvents;
            }
        }
    }

    /// <summary>
    /// A client's token changed, in this process or another: the sockets it opened with the token before close.
    /// </summary>
    public void ClientChanged(ClientRecord current)
    {
        ArgumentNullException.ThrowIfNull(current);
        foreach (var connection in _byEnterprise.Values.SelectMany(c => c))
        {
            if (connection.ClientId == current.Id && connection.ClientToken != current.ClientToken)
            {
                CloseConnection(connection, WebSocketCloseStatus.PolicyViolation, ClientTokenRegeneratedReason);
            }
        }
    }

    /// <summary>
    /// Adds an accepted socket of <paramref name="integration"/> of <paramref name="client"/> (read and checked just
    /// before), then reads both again: a disable or token change that committed in between found no socket to close, so
    /// it is closed here. Call <see cref="WebSocketConnection.RunAsync"/>, then <see cref="Unregister"/>.
    /// <paramref name="abortTransport"/> drops the connection underneath (e.g. <c>HttpContext.Abort</c>) when a close
    /// does not finish in time; without it the socket is aborted.
    /// </summary>
    public WebSocketConnection Register(
        WebSocket socket, ClientRecord client, IntegrationRecord integration, IConnectorStore store, Action? abortTransport = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(integration);
        ArgumentNullException.ThrowIfNull(store);
        var connection = new WebSocketConnection(socket, client, integration, _options, _time, abortTransport, _writeTurns);
        lock (_gate)
        {
            _byEnterprise[integration.EnterpriseId] = _byEnterprise.TryGetValue(integration.EnterpriseId, out var existing)
                ? [.. existing, connection]
                : [connection];
            _count++;
        }
        LogConnected(_logger, integration.Id, integration.EnterpriseId);

        var current = store.FindIntegration(integration.Id);
        var reason = current is null ? $"The integration is {IntegrationState.Deleted}."
            : store.FindClient(client.Id)?.ClientToken != client.ClientToken ? ClientTokenRegeneratedReason
            : ReasonToClose(integration.AccessToken, current);
        if (reason is not null)
        {
            CloseConnection(connection, WebSocketCloseStatus.PolicyViolation, reason);
        }
        else
        {
            connection.Filter = current!.WebSocketEvents;
        }
        return connection;
    }

    public void Unregister(WebSocketConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var removed = false;
        lock (_gate)
        {
            if (_byEnterprise.TryGetValue(connection.EnterpriseId, out var existing) && existing.Contains(connection))
            {
                var rest = existing.Where(c => c != connection).ToArray();
                if (rest.Length == 0)
                {
                    _byEnterprise.TryRemove(connection.EnterpriseId, out _);
                }
                else
                {
                    _byEnterprise[connection.EnterpriseId] = rest;
                }
                _count--;
                removed = true;
            }
        }
        if (removed)
        {
            LogDisconnected(_logger, connection.IntegrationId, connection.CloseStatus ?? WebSocketCloseStatus.Empty, connection.CloseReason ?? "");
        }
        connection.Dispose();
    }

    /// <summary>Closes every socket with 1001 Going Away, for a graceful stop.</summary>
    public void CloseAll()
    {
        foreach (var connection in _byEnterprise.Values.SelectMany(c => c))
        {
            CloseConnection(connection, WebSocketCloseStatus.EndpointUnavailable, ShuttingDownReason);
        }
    }

    private void CloseConnection(WebSocketConnection connection, WebSocketCloseStatus status, string reason)
    {
        if (connection.Close(status, reason))
        {
            LogClosing(_logger, connection.IntegrationId, (int)status, reason);
        }
    }

    private static string? ReasonToClose(TokenDigest accessToken, IntegrationRecord current) =>
        current.State != IntegrationState.Enabled ? $"The integration is {current.State}."
        : current.AccessToken != accessToken ? AccessTokenRegeneratedReason
        : null;

    private SharedFrame? FrameFor(EventSubscription filter, IReadOnlyList<WebSocketEvent> events)
    {
        if (filter.IsAll)
        {
            return new SharedFrame(WebSocketFrameWriter.Write(new WebSocketFrame(events)), CountBuffered);
        }
        var kept = events.Where(e => filter.Includes(e.Type)).ToArray();
        return kept.Length == 0 ? null : new SharedFrame(WebSocketFrameWriter.Write(new WebSocketFrame(kept)), CountBuffered);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "WebSocket of integration {IntegrationId} (enterprise {EnterpriseId}) connected")]
    private static partial void LogConnected(ILogger logger, Guid integrationId, Guid enterpriseId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Closing the WebSocket of integration {IntegrationId} with {Status}: {Reason}")]
    private static partial void LogClosing(ILogger logger, Guid integrationId, int status, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "WebSocket of integration {IntegrationId} disconnected ({Status} {Reason})")]
    private static partial void LogDisconnected(ILogger logger, Guid integrationId, WebSocketCloseStatus status, string reason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "WebSocket of integration {IntegrationId} is too slow: {Frames} frames, {Bytes} bytes waiting; closing it")]
    private static partial void LogSlowConsumer(ILogger logger, Guid integrationId, int frames, long bytes);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "WebSocket of integration {IntegrationId} is {Bytes} bytes behind while the sockets hold {TotalBytes} bytes, over the bound of {BoundBytes}; closing it")]
    private static partial void LogOverBufferBound(ILogger logger, Guid integrationId, long bytes, long totalBytes, long boundBytes);
}

