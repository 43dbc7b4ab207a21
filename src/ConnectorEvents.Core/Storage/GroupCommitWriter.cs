using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace ConnectorEvents.Core.Storage;

/// <summary>
/// Runs every write of the process on one thread and commits whatever queued up meanwhile in one transaction
/// (group commit): a caller is answered only after the commit, yet one fsync serves hundreds of callers.
/// Each unit runs inside a savepoint, so a refused command leaves nothing behind and does not fail its neighbours.
/// </summary>
public sealed partial class GroupCommitWriter : IDisposable
{
    private const int MaxBatch = 1024;

    private readonly IConnectorStore _store;
    private readonly ILogger<GroupCommitWriter> _logger;
    private readonly Channel<WriteUnit> _queue = Channel.CreateUnbounded<WriteUnit>(
        new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _thread;
    private long _commits;
    private long _units;

    public GroupCommitWriter(IConnectorStore store, ILogger<GroupCommitWriter> logger)
    {
        _store = store;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "ConnectorEvents writer" };
        _thread.Start();
    }

    public bool IsRunning => _thread.IsAlive;

    /// <summary>Transactions committed and units written so far (for diagnostics and benchmarks).</summary>
    public (long Commits, long Units) Counters => (Interlocked.Read(ref _commits), Interlocked.Read(ref _units));

    /// <summary>
    /// Runs <paramref name="work"/> in the next group transaction; completes after the commit.
    /// <paramref name="afterCommit"/> runs on the writer thread right after the commit, before the caller resumes.
    /// </summary>
    public Task<T> ExecuteAsync<T>(Func<IWriteTransaction, T> work, Action<T>? afterCommit = null)
    {
        var unit = new WriteUnit<T>(work, afterCommit);
        if (!_queue.Writer.TryWrite(unit))
        {
            return Task.FromException<T>(new ObjectDisposedException(nameof(GroupCommitWriter)));
        }
        return unit.Completion.Task;
    }

    /// <summary>Queues a write nobody waits for (delivery outcomes); a failure is logged.</summary>
    public void Post(Action<IWriteTransaction> work) =>
        _ = ExecuteAsync<bool>(tx => { work(tx); return true; }).ContinueWith(
            t => LogBackgroundWriteFailed(_logger, t.Exception!.GetBaseException()),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>Resolves once everything queued before the call is committed.</summary>
    public Task FlushAsync() => ExecuteAsync(_ => true);

    private void Run()
    {
        var batch = new List<WriteUnit>(MaxBatch);
        var reader = _queue.Reader;
        while (true)
        {
            if (!reader.TryPeek(out _))
            {
                bool more;
                try
                {
                    more = reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    more = false;
                }
                if (!more)
                {
                    return;
                }
            }
            while (batch.Count < MaxBatch && reader.TryRead(out var unit))
            {
                batch.Add(unit);
            }
            WriteBatch(batch);
            batch.Clear();
        }
    }

    private void WriteBatch(List<WriteUnit> batch)
    {
        var done = new List<WriteUnit>(batch.Count);
        try
        {
            using var tx = _store.BeginWrite();
            foreach (var unit in batch)
            {
                tx.Savepoint();
                try
                {
                    unit.Execute(tx);
                    tx.ReleaseSavepoint();
                    done.Add(unit);
                }
#pragma warning disable CA1031 // one unit's failure belongs to its caller, not to the batch
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    tx.RollbackToSavepoint();
                    tx.ReleaseSavepoint();
                    unit.Fail(ex);
                }
            }
            tx.Commit();
        }
#pragma warning disable CA1031 // a failed commit fails every unit that was in it; the writer keeps going
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogCommitFailed(_logger, ex, batch.Count);
            // Every unit of the batch, not only those that ran: the transaction may fail to begin, or a rollback to a
            // savepoint may throw, before the later units were reached. Units already failed keep their own error.
            foreach (var unit in batch)
            {
                unit.Fail(new StorageUnavailableException("The write could not be committed.", ex));
            }
            return;
        }
        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _units, done.Count);
        foreach (var unit in done)
        {
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
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _thread.Join(TimeSpan.FromSeconds(10));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A group commit of {Count} writes failed")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "An after-commit callback failed; its write is committed")]
    private static partial void LogAfterCommitFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A background write failed")]
    private static partial void LogBackgroundWriteFailed(ILogger logger, Exception exception);

    private abstract class WriteUnit
    {
        public abstract void Execute(IWriteTransaction tx);
        public abstract void Complete();
        public abstract void Fail(Exception ex);
    }

    private sealed class WriteUnit<T>(Func<IWriteTransaction, T> work, Action<T>? afterCommit) : WriteUnit
    {
        private T? _result;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(IWriteTransaction tx) => _result = work(tx);

        public override void Complete()
        {
            try
            {
                afterCommit?.Invoke(_result!);
            }
            finally
            {
                Completion.TrySetResult(_result!);
            }
        }

        public override void Fail(Exception ex) => Completion.TrySetException(ex);
    }
}

/// <summary>The database could not take a write (disk full, read-only, gone). Callers answer 503.</summary>
public sealed class StorageUnavailableException(string message, Exception inner) : Exception(message, inner);
