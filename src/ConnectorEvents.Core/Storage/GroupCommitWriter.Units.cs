using System.Diagnostics;
using ConnectorEvents.Core.Idempotency;
using ConnectorEvents.Core.Telemetry;
using Microsoft.Extensions.Logging;

namespace ConnectorEvents.Core.Storage;

/// <summary>The writes the writer runs: a caller's unit (awaited), a posted one (nobody waits), housekeeping.</summary>
public sealed partial class GroupCommitWriter
{
    private abstract class WriteUnit(bool guarded)
    {
        /// <summary>Runs inside a savepoint of its own, so that its failure undoes only its own writes.</summary>
        public bool Guarded { get; } = guarded;

        /// <summary>The integration the unit changes, when known before it runs.</summary>
        public Guid? IntegrationId { get; init; }

        /// <summary>The enterprise whose General log the unit appends to, when known before it runs.</summary>
        public Guid? EnterpriseId { get; init; }

        /// <summary>Housekeeping: joins a group that commits anyway (<see cref="ExecuteHousekeepingAsync{T}"/>).</summary>
        public bool Housekeeping { get; init; }

        /// <summary>Times it was put off to a later transaction because another process held a row it needed.</summary>
        public int Deferrals { get; set; }

        /// <summary>When it was queued (a <see cref="Stopwatch"/> timestamp: the wait is real time, whatever the clock).</summary>
        public long Queued { get; } = Stopwatch.GetTimestamp();

        /// <summary>The span that queued the unit, when traces are being recorded.</summary>
        public ActivityContext Caller { get; } = ConnectorTelemetry.Source.HasListeners() && Activity.Current is { } current
            ? current.Context : default;

        public abstract void Execute(IWriteTransaction tx);
        public abstract void Complete();
        public abstract void Fail(Exception ex);
    }

    private sealed class PostedUnit(
        Action<IWriteTransaction> work, Action? afterCommit, Action<Exception>? afterFailure, ILogger logger) : WriteUnit(guarded: false)
    {
        public override void Execute(IWriteTransaction tx) => work(tx);

        public override void Complete() => afterCommit?.Invoke();

        public override void Fail(Exception ex)
        {
            LogBackgroundWriteFailed(logger, ex);
            try
            {
                afterFailure?.Invoke(ex);
            }
#pragma warning disable CA1031 // a throwing callback must not end the writer thread (and the process)
            catch (Exception callbackError)
#pragma warning restore CA1031
            {
                LogAfterFailureFailed(logger, callbackError);
            }
        }
    }

    private sealed class WriteUnit<T>(
        Func<IWriteTransaction, T> work, Action<T>? afterCommit, (IdempotentCommand Command, TimeProvider Time)? idempotency = null)
        : WriteUnit(guarded: true)
    {
        private T? _result;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(IWriteTransaction tx)
        {
            if (idempotency is var (command, time))
            {
                command.Claim(tx, time.GetUtcNow());
            }
            _result = work(tx);
        }

        public override void Complete()
        {
            idempotency?.Command.Committed();
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
