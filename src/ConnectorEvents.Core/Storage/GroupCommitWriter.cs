using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using ConnectorEvents.Core.Idempotency;
using ConnectorEvents.Core.Telemetry;
using Microsoft.Extensions.Logging;

namespace ConnectorEvents.Core.Storage;

/// <summary>
/// Runs every write of the process on one thread and commits whatever queued up meanwhile in one transaction
/// (group commit): a caller is answered only after the commit, yet one fsync serves hundreds of callers.
/// Each unit runs inside a savepoint, so a refused command leaves nothing behind and does not fail its neighbours.
/// Units queued with <see cref="Post"/> (delivery outcomes) skip their savepoint; should one fail all the same, the
/// transaction is rolled back and the batch runs again with every unit in its savepoint. So a unit's work may run more
/// than once, and must act on the transaction only.
/// It records the outcome of its last commit (see <see cref="Health"/>); while commits fail and nothing else is
/// written, it tries a probe write now and then, so that a lifted fault shows without waiting for traffic.
/// </summary>
public sealed partial class GroupCommitWriter : IDisposable
{
    private const int MaxBatch = 1024;
    private const int MaxTransientAttempts = 3;
    private const int MaxDeferrals = 500;

    private readonly IConnectorStore _store;
    private readonly ILogger<GroupCommitWriter> _logger;
    private readonly TimeProvider _time;
    private readonly ConnectorTelemetry? _telemetry;
    private readonly Channel<WriteUnit> _queue = Channel.CreateUnbounded<WriteUnit>(
        new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _thread;
    private long _commits;
    private long _queued;
    private long _units;
    private long _lastCommitTicks;
    private long _lastOtherWrite; // a Stopwatch timestamp: when a group with more than housekeeping was last written
    private WriteFailure? _failure;
    private TimeSpan _probeDelay = FirstProbeDelay;

    public GroupCommitWriter(IConnectorStore store, ILogger<GroupCommitWriter> logger, TimeProvider? time = null,
        ConnectorTelemetry? telemetry = null)
    {
        _store = store;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _telemetry = telemetry;
        _thread = new Thread(Run) { IsBackground = true, Name = "ConnectorEvents writer" };
        _thread.Start();
    }

    public bool IsRunning => _thread.IsAlive;

    /// <summary>
    /// A write that waited in the queue longer than this (storage frozen: the commits ahead of it hang until their time-out)
    /// fails without running, as not applied, so that no caller waits minutes. None by default.
    /// </summary>
    public TimeSpan? MaxQueueWait { get; init; }

    /// <summary>
    /// Runs on the writer thread at the first commit that succeeds after one whose outcome stayed unknown: whatever that one
    /// applied was handed to nobody, so the dispatcher looks for it (a rescan).
    /// </summary>
    public Action? AfterUncertainCommit { get; set; }

    private bool _uncertainCommits;

    /// <summary>Writes queued and not yet taken into a transaction.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    private bool TryQueue(WriteUnit unit)
    {
        Interlocked.Increment(ref _queued);
        if (_queue.Writer.TryWrite(unit))
        {
            return true;
        }
        Interlocked.Decrement(ref _queued);
        return false;
    }

    /// <summary>Transactions committed and units written so far (for diagnostics and benchmarks).</summary>
    public (long Commits, long Units) Counters => (Interlocked.Read(ref _commits), Interlocked.Read(ref _units));

    /// <summary>
    /// Runs <paramref name="work"/> in the next group transaction; completes after the commit.
    /// <paramref name="afterCommit"/> runs on the writer thread right after the commit, before the caller resumes.
    /// <paramref name="integrationId"/>, when the work changes one integration known beforehand, and
    /// <paramref name="enterpriseId"/>, when it appends to one enterprise's General log, let the store read them with the
    /// group's other units' in one round trip (<see cref="IWriteTransaction.ReadAhead"/>).
    /// </summary>
    public Task<T> ExecuteAsync<T>(Func<IWriteTransaction, T> work, Action<T>? afterCommit = null, Guid? integrationId = null,
        Guid? enterpriseId = null)
    {
        // A command sent with an Idempotency-Key records it with its first write, in the same transaction.
        var unit = new WriteUnit<T>(work, afterCommit,
            IdempotentCommand.Current is { } command && command.TakeFirstWrite() ? (command, _time) : null)
        {
            IntegrationId = integrationId,
            EnterpriseId = enterpriseId,
        };
        if (!TryQueue(unit))
        {
            return Task.FromException<T>(new ObjectDisposedException(nameof(GroupCommitWriter)));
        }
        return unit.Completion.Task;
    }

    /// <summary>
    /// Queues a write nobody waits for (delivery outcomes); a failure is logged. Such a write records what already
    /// happened and is never refused, so it runs without a savepoint of its own: SAVEPOINT, RELEASE and the sub-journal
    /// copy of every page it touches were about a fifth of the time a delivery outcome takes to run (its commit aside).
    /// <paramref name="afterFailure"/> lets the poster write it again when the commit failed (a full disk, say).
    /// </summary>
    public void Post(Action<IWriteTransaction> work, Action? afterCommit = null, Action<Exception>? afterFailure = null)
    {
        // No task: the callbacks run on the writer thread right after the commit. A task completed there would hand each
        // outcome's continuation to the thread pool, one work item per delivery for nothing but bookkeeping.
        var unit = new PostedUnit(work, afterCommit, afterFailure, _logger);
        if (!TryQueue(unit))
        {
            unit.Fail(new ObjectDisposedException(nameof(GroupCommitWriter)));
        }
    }

    /// <summary>
    /// Like <see cref="ExecuteAsync{T}"/>, for housekeeping that may wait (the retention sweep): it never costs a commit of
    /// its own while other writes flow. It joins the next group that commits anyway, at most one such unit per group, and
    /// runs alone only once the writer has been idle for <see cref="IdleBeforeHousekeeping"/>. A command queued behind a
    /// commit of housekeeping alone waited for that whole commit, its flush to disk included.
    /// </summary>
    public Task<T> ExecuteHousekeepingAsync<T>(Func<IWriteTransaction, T> work)
    {
        var unit = new WriteUnit<T>(work, afterCommit: null) { Housekeeping = true };
        if (!TryQueue(unit))
        {
            return Task.FromException<T>(new ObjectDisposedException(nameof(GroupCommitWriter)));
        }
        return unit.Completion.Task;
    }

    /// <summary>Resolves once everything queued before the call is committed.</summary>
    public Task FlushAsync() => ExecuteAsync(_ => true);

    private void Run()
    {
        var batch = new List<WriteUnit>(MaxBatch);
        var housekeeping = new Queue<WriteUnit>(); // taken from the queue, waiting for a group to join
        var reader = _queue.Reader;
        while (true)
        {
            var carriesHousekeeping = false;
            if (!reader.TryPeek(out _))
            {
                switch (WaitForWork(reader, housekeepingWaits: housekeeping.Count > 0))
                {
                    case Wait.Closed:
                        while (housekeeping.TryDequeue(out var left))
                        {
                            left.Fail(new ObjectDisposedException(nameof(GroupCommitWriter)));
                        }
                        return;
                    case Wait.ProbeDue:
                        Probe();
                        continue;
                    case Wait.Idle:
                        batch.Add(housekeeping.Dequeue());
                        carriesHousekeeping = true;
                        break;
                }
            }
            while (batch.Count < MaxBatch && reader.TryRead(out var unit))
            {
                if (MaxQueueWait is { } limit && Stopwatch.GetElapsedTime(unit.Queued) > limit)
                {
                    Interlocked.Decrement(ref _queued);
                    unit.Fail(new StorageUnavailableException("The write waited too long for storage and was not applied.",
                        new TimeoutException($"Storage did not take a write within {limit.TotalSeconds:0.###} s (Storage:CommandTimeout).")));
                    continue;
                }
                if (unit.Housekeeping)
                {
                    housekeeping.Enqueue(unit);
                    continue;
                }
                batch.Add(unit);
            }
            if (batch.Count == 0)
            {
                continue;
            }
            var othersWrite = batch.Count > (carriesHousekeeping ? 1 : 0);
            if (!carriesHousekeeping && batch.Count < MaxBatch && housekeeping.TryDequeue(out var along))
            {
                batch.Add(along);
            }
            Interlocked.Add(ref _queued, -batch.Count);
            WriteBatch(batch);
            batch.Clear();
            if (othersWrite)
            {
                _lastOtherWrite = Stopwatch.GetTimestamp();
            }
        }
    }

    private void WriteBatch(List<WriteUnit> batch)
    {
        if (!TryWriteBatch(batch, guardAll: false) && !TryWriteBatch(batch, guardAll: true))
        {
            // Not expected: the guarded run settles every unit. Should it not, no caller is left waiting.
            foreach (var unit in batch)
            {
                unit.Fail(new InvalidOperationException("The write's batch could not be run with each unit guarded."));
            }
        }
    }

    /// <summary>Runs a unit in a savepoint of its own; returns its failure, if any, with its writes undone.</summary>
    private static Exception? RunGuarded(IWriteTransaction tx, WriteUnit unit)
    {
        tx.Savepoint();
        try
        {
            unit.Execute(tx);
            tx.ReleaseSavepoint();
            return null;
        }
#pragma warning disable CA1031 // one unit's failure belongs to its caller, not to the batch
        catch (Exception ex)
#pragma warning restore CA1031
        {
            tx.RollbackToSavepoint();
            tx.ReleaseSavepoint();
            return ex;
        }
    }

    /// <summary>
    /// Runs unguarded work, or sends its held-back statements (a run of unguarded units goes out in one round trip). False
    /// on a failure: its partial writes cannot be undone alone, so the transaction is rolled back and the batch runs guarded.
    /// </summary>
    private static bool TryRun(IWriteTransaction tx, Action<IWriteTransaction> work)
    {
        try
        {
            work(tx);
            return true;
        }
#pragma warning disable CA1031 // any failure: the batch runs again with every unit guarded
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    /// <summary>
    /// Runs the batch in one transaction and completes its units. False when a unit without a savepoint failed: the
    /// transaction is then rolled back and nothing is completed, so that the batch can run again with every unit guarded.
    /// </summary>
    private bool TryWriteBatch(List<WriteUnit> batch, bool guardAll)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return TryWriteBatchOnce(batch, guardAll, throwTransient: attempt < MaxTransientAttempts, retryLostConnection: attempt == 1);
            }
            catch (TransientCommitFailure failure) when (failure.LostConnection)
            {
                // A connection cut while idle (a restarted proxy, a database that came back) is found by the next write.
                LogReconnecting(_logger);
            }
            catch (TransientCommitFailure failure)
            {
                LogTransientRetry(_logger, failure.InnerException!, attempt);
                guardAll = true;
            }
        }
    }

    private bool TryWriteBatchOnce(List<WriteUnit> batch, bool guardAll, bool throwTransient, bool retryLostConnection)
    {
        var done = new List<WriteUnit>(batch.Count);
        var startedUtc = _time.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        List<(WriteUnit Unit, Exception Error)>? refused = null;
        List<WriteUnit>? deferred = null;
        var committing = false;
        try
        {
            // The first run holds writes back to send them with later statements; the run after a failure among them
            // sends each unit's at its end (and each unit runs in its savepoint), so the failure falls on its own unit.
            using var tx = _store.BeginWrite(sendEachUnit: guardAll);
            var integrations = Named(batch, u => u.IntegrationId);
            var enterprises = Named(batch, u => u.EnterpriseId);
            if (integrations.Count > 0 || enterprises.Count > 0)
            {
                tx.ReadAhead(integrations, enterprises);
            }
            foreach (var unit in batch)
            {
                if (!unit.Guarded && !guardAll)
                {
                    if (!TryRun(tx, unit.Execute))
                    {
                        return false;
                    }
                    done.Add(unit);
                    continue;
                }
                if (RunGuarded(tx, unit) is { } error)
                {
                    if (error is HeldBackWriteFailedException)
                    {
                        return false; // an earlier unit's write (a posted unit's, or a released one's) failed: the run is lost
                    }
                    if (_store.IsLostConnection(error))
                    {
                        // The transaction went with the connection: no later unit can run in it. To the batch's handler.
                        ExceptionDispatchInfo.Throw(error);
                    }
                    if (_store.IsTransient(error) && unit.Deferrals < MaxDeferrals)
                    {
                        // A row another process is writing right now: try again in a later transaction rather than wait
                        // for it inside this one, which holds rows of its own (two such waits would deadlock).
                        (deferred ??= []).Add(unit);
                    }
                    else
                    {
                        (refused ??= []).Add((unit, _store.IsTransient(error)
                            ? new StorageUnavailableException("The write kept meeting other processes' writes.", error)
                            : IsStorageFault(error)
                            ? new StorageUnavailableException("The database refused the write.", error)
                            : error));
                    }
                }
                else
                {
                    done.Add(unit);
                }
            }
            committing = true;
            tx.Commit();
        }
        catch (HeldBackWriteFailedException)
        {
            return false; // a held-back write failed as the commit sent it: nothing was completed, the batch runs again
        }
#pragma warning disable CA1031 // a failed commit fails every unit that was in it; the writer keeps going
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (throwTransient && _store.IsTransient(ex))
            {
                throw new TransientCommitFailure(ex); // nothing was completed: the whole batch runs again
            }
            if (retryLostConnection && (!committing || ex is CommitNotAppliedException) && _store.IsLostConnection(ex) && !TimedOut(ex))
            {
                // The connection was lost before COMMIT was sent, which ends the transaction: nothing of the batch was applied.
                // It runs again, once, on a fresh connection. Not after a time-out: a database that does not answer (frozen,
                // its disk hung) would only make the batch wait as long again, and its callers with it.
                throw new TransientCommitFailure(ex) { LostConnection = true };
            }
            LogFailedCommit(ex, batch.Count);
            RecordFailure(ex);
            // Every unit of the batch, not only those that ran: the transaction may fail to begin, or a rollback to a
            // savepoint may throw, before the later units were reached. Refused units keep their own error.
            FailRefused(refused);
            var uncertain = ex is CommitOutcomeUnknownException;
            if (uncertain)
            {
                // What it applied, if it did, reaches delivery by a rescan once writes succeed again (nobody else announces it here).
                _uncertainCommits = true;
                LogCommitOutcomeUnknown(_logger, done.Count);
            }
            foreach (var unit in batch)
            {
                unit.Fail(uncertain
                    ? new StorageUnavailableException("The write may have been applied: its commit's outcome is unknown.", ex) { MayHaveApplied = true }
                    : new StorageUnavailableException("The write could not be committed.", ex));
            }
            return true;
        }
        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _units, done.Count);
        _telemetry?.Committed(done.Count, Stopwatch.GetElapsedTime(started));
        // A unit the database refused (a full disk met by one statement) is a failed write although the commit went.
        if (refused?.FirstOrDefault(r => r.Error is StorageUnavailableException { InnerException: { } inner } && !_store.IsTransient(inner)).Error
            is { InnerException: { } fault })
        {
            RecordFailure(fault);
        }
        else
        {
            RecordCommit();
        }
        if (_uncertainCommits)
        {
            _uncertainCommits = false;
            AfterUncertainCommit?.Invoke();
        }
        foreach (var unit in done)
        {
            // The unit's commit, as a span of its caller's trace; its after-commit work (handing messages to delivery) runs
            // inside, so the attempts join the same trace.
            using var span = unit.Caller == default ? null : ConnectorTelemetry.Source.StartActivity(
                "commit", ActivityKind.Internal, unit.Caller, [new("connector_events.commit.units", done.Count)], startTime: startedUtc);
            try
            {
                unit.Complete();
            }
#pragma warning disable CA1031 // a throwing after-commit callback must not end the writer thread (and the process)
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogAfterCommitFailed(_logger, ex);
            }
        }
        FailRefused(refused);
        foreach (var unit in deferred ?? [])
        {
            unit.Deferrals++;
            _ = Task.Delay(TimeSpan.FromMilliseconds(Math.Min(unit.Deferrals, 20))).ContinueWith(
                _ => { if (!TryQueue(unit)) { unit.Fail(new ObjectDisposedException(nameof(GroupCommitWriter))); } },
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return true;
    }

    private static List<Guid> Named(List<WriteUnit> batch, Func<WriteUnit, Guid?> name)
    {
        List<Guid>? ids = null;
        HashSet<Guid>? seen = null;
        foreach (var unit in batch)
        {
            if (name(unit) is { } id && (seen ??= []).Add(id))
            {
                (ids ??= []).Add(id);
            }
        }
        return ids ?? [];
    }

    private static bool TimedOut(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Refused units are answered once the batch is settled, as the batch may yet run again.</summary>
    private static void FailRefused(List<(WriteUnit Unit, Exception Error)>? refused)
    {
        foreach (var (unit, error) in refused ?? [])
        {
            unit.Fail(error);
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _thread.Join(TimeSpan.FromSeconds(10));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A group commit of {Count} writes failed")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The answer to a commit of {Count} writes was lost and whether it applied could not be learned; its callers are told it may have")]
    private static partial void LogCommitOutcomeUnknown(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The database connection was lost before a commit was applied; running the writes again on a new one")]
    private static partial void LogReconnecting(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "A write met a transient failure (attempt {Attempt}); running it again")]
    private static partial void LogTransientRetry(ILogger logger, Exception exception, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "An after-commit callback failed; its write is committed")]
    private static partial void LogAfterCommitFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "A callback for a failed background write failed")]
    private static partial void LogAfterFailureFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A background write failed")]
    private static partial void LogBackgroundWriteFailed(ILogger logger, Exception exception);
}
