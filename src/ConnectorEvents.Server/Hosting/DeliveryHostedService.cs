using System.Globalization;
using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Operations;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// Whether storage is open (migrated) and delivery started; while a start waits for an unreachable database, why and
/// since when. Readiness, the API and the work that needs the schema wait on it.
/// </summary>
public sealed class StartupState
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile string? _waiting;

    /// <summary>Completes once storage is open and delivery has started.</summary>
    public Task Started => _started.Task;

    public bool IsStarted => _started.Task.IsCompletedSuccessfully;

    /// <summary>Why the start waits, in words that name no host or credential; null when it does not.</summary>
    public string? Waiting => _waiting;

    internal void Wait(string reason) => _waiting = reason;

    internal void Complete()
    {
        _waiting = null;
        _started.TrySetResult();
    }
}

/// <summary>
/// Opens storage (migrating it), starts delivery and takes partition leases before the server takes requests. When the
/// database cannot be reached at start (a PostgreSQL that starts after this process, as under an orchestrator), the start
/// goes on without it: the server answers readiness 503 with the reason and the API 503, and storage is tried again with
/// back-off (0.5 s doubling to 10 s) until it answers. On stop (after the server has stopped taking requests): ends
/// delivery, letting the sends under way finish within the grace period, commits their outcomes, and hands the leases back
/// last, so no other process starts on a lane while a send here runs.
/// </summary>
public sealed partial class DeliveryHostedService(
    IConnectorStore store, DeliveryDispatcher dispatcher, PartitionLeases leases, GroupCommitWriter writer,
    IOptions<StorageOptions> storage, OperationalEvents operations, StartupState startup, TimeProvider time,
    ILogger<DeliveryHostedService> logger) : IHostedService, IDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stopping = new();
    private Task _waitingStart = Task.CompletedTask;
    private bool _migrated;
    private bool _dispatching;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (storage.Value.Provider == StorageProvider.Sqlite)
        {
            DataFolder.Ensure(storage.Value.DataDirectory);
        }
        try
        {
            await OpenAsync().ConfigureAwait(false);
            startup.Complete();
        }
        catch (Exception ex) when (Unreachable(ex) is { } reason)
        {
            startup.Wait(reason);
            LogWaitingForStorage(logger, reason);
            _waitingStart = Task.Run(() => RetryOpenAsync(_stopping.Token), CancellationToken.None);
        }
    }

    /// <summary>
    /// Why a shared database cannot be used now (out of reach, at its connection limit, read-only while it fails over), which
    /// waiting may cure; null for anything else (a defect, SQLite's file), which stops the start.
    /// </summary>
    private string? Unreachable(Exception exception) =>
        !store.IsShared ? null
        : store.DescribeUnavailable(exception) is { } reason ? reason
        : store.IsLostConnection(exception) ? "database unreachable"
        : null;

    /// <summary>Each step once: a retry after a failure part-way goes on from the step that failed.</summary>
    private async Task OpenAsync()
    {
        if (!_migrated)
        {
            store.Migrate();
            if (operations.Enabled)
            {
                var secrets = store.ListSecrets(OperationalEvents.ClientId);
                await writer.ExecuteAsync(tx => { operations.Provision(tx, secrets); return true; }).ConfigureAwait(false);
            }
            _migrated = true;
        }
        if (!_dispatching)
        {
            dispatcher.Start();
            _dispatching = true;
        }
        await leases.StartAsync().ConfigureAwait(false);
    }

    private async Task RetryOpenAsync(CancellationToken stopping)
    {
        var wait = FirstRetry;
        var since = time.GetUtcNow();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(wait, time, stopping).ConfigureAwait(false);
                await OpenAsync().ConfigureAwait(false);
                LogStorageReached(logger, time.GetUtcNow() - since);
                startup.Complete(); // after the line that says so: whoever sees ready can find it in the log
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (Unreachable(ex) is { } reason)
            {
                startup.Wait(string.Create(CultureInfo.InvariantCulture, $"{reason} (since {since:yyyy-MM-ddTHH:mm:ssZ})"));
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, LastRetry.Ticks));
            }
#pragma warning disable CA1031 // anything else is logged and tried again: stopping the host from here would abort the process
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogOpenFailed(logger, ex);
                wait = LastRetry;
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _waitingStart.ConfigureAwait(false);
        // What a start that waited for storage got to: each step that ran is undone.
        if (_dispatching)
        {
            await dispatcher.StopAsync(cancellationToken).ConfigureAwait(false);
            await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }
        if (startup.IsStarted)
        {
            await leases.StopAsync().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _stopping.Dispose();

    [LoggerMessage(EventId = LogEventIds.StartWaitsForStorage, Level = LogLevel.Warning,
        Message = "Storage cannot be reached at start ({Reason}); the server answers 503 and tries again with back-off")]
    private static partial void LogWaitingForStorage(ILogger logger, string reason);

    [LoggerMessage(EventId = LogEventIds.StartReachedStorage, Level = LogLevel.Warning,
        Message = "Storage answered {Waited} after the start; delivery has started")]
    private static partial void LogStorageReached(ILogger logger, TimeSpan waited);

    [LoggerMessage(EventId = LogEventIds.StartOpenFailed, Level = LogLevel.Error,
        Message = "Opening storage failed while waiting for it; trying again in 10 s")]
    private static partial void LogOpenFailed(ILogger logger, Exception exception);
}
