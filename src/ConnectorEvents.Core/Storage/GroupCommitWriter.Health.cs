using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace ConnectorEvents.Core.Storage;

/// <summary>The outcome of the writer's commits: whether writes fail now, since when and why.</summary>
/// <param name="LastCommitUtc">The last commit that succeeded, if any since the start.</param>
/// <param name="Failure">Set while the last commit failed and none succeeded since.</param>
public sealed record WriteHealth(DateTimeOffset? LastCommitUtc, WriteFailure? Failure);

/// <param name="SinceUtc">The first failed commit of this run of failures.</param>
/// <param name="LastUtc">The latest failed commit (or probe).</param>
/// <param name="Reason">A few words that name no file, host or credential ("disk full", "database unreachable").</param>
public sealed record WriteFailure(DateTimeOffset SinceUtc, DateTimeOffset LastUtc, string Reason);

public sealed partial class GroupCommitWriter
{
    /// <summary>The first probe comes this long after a failure; each failed probe doubles the wait, up to <see cref="LastProbeDelay"/>.</summary>
    public static readonly TimeSpan FirstProbeDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>A probe is a tiny transaction, so the longest wait between probes is short: readiness recovers within it.</summary>
    public static readonly TimeSpan LastProbeDelay = TimeSpan.FromSeconds(5);

    private enum Wait
    {
        WorkQueued,
        Closed,
        ProbeDue,
        Idle,
    }

    /// <summary>Housekeeping is committed alone once no other write has been taken for this long.</summary>
    public static readonly TimeSpan IdleBeforeHousekeeping = TimeSpan.FromMilliseconds(20);

    /// <summary>How the last commits went; read by readiness.</summary>
    public WriteHealth Health
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastCommitTicks);
            return new WriteHealth(ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero), Volatile.Read(ref _failure));
        }
    }

    /// <summary>
    /// Blocks the writer thread until work is queued, the queue is closed, (while writes fail) a probe is due, or (while
    /// housekeeping waits for a group) the writer has been idle long enough to commit it alone.
    /// </summary>
    private Wait WaitForWork(ChannelReader<WriteUnit> reader, bool housekeepingWaits)
    {
        using var probeDue = Volatile.Read(ref _failure) is null ? null : new CancellationTokenSource(_probeDelay, _time);
        // Real time, not the clock's: idleness is about the writer's load, and a test's stopped clock must not hold it forever.
        var idleFor = housekeepingWaits ? IdleBeforeHousekeeping - Stopwatch.GetElapsedTime(_lastOtherWrite) : TimeSpan.Zero;
        if (housekeepingWaits && idleFor <= TimeSpan.Zero)
        {
            return Wait.Idle;
        }
        using var idle = housekeepingWaits ? new CancellationTokenSource(idleFor) : null;
        using var either = probeDue is not null && idle is not null
            ? CancellationTokenSource.CreateLinkedTokenSource(probeDue.Token, idle.Token)
            : null;
        try
        {
            return reader.WaitToReadAsync(either?.Token ?? probeDue?.Token ?? idle?.Token ?? CancellationToken.None).AsTask().GetAwaiter().GetResult()
                ? Wait.WorkQueued
                : Wait.Closed;
        }
        catch (OperationCanceledException) when (probeDue?.IsCancellationRequested == true)
        {
            return Wait.ProbeDue;
        }
        catch (OperationCanceledException) when (idle?.IsCancellationRequested == true)
        {
            return Wait.Idle;
        }
        catch (OperationCanceledException)
        {
            return Wait.Closed;
        }
    }

    /// <summary>Writes nothing that changes anything, through the path every write takes; its outcome is recorded like any commit's.</summary>
    private void Probe()
    {
        _probeDelay = TimeSpan.FromTicks(Math.Min(_probeDelay.Ticks * 2, LastProbeDelay.Ticks));
        WriteBatch([new WriteUnit<bool>(static tx => { tx.Probe(); return true; }, afterCommit: null)]);
    }

    private void RecordCommit()
    {
        Interlocked.Exchange(ref _lastCommitTicks, _time.GetUtcNow().UtcTicks);
        if (Volatile.Read(ref _failure) is { } failure)
        {
            Volatile.Write(ref _failure, null);
            _probeDelay = FirstProbeDelay;
            LogWritesRecovered(_logger, failure.Reason, failure.SinceUtc);
        }
    }

    /// <summary>A unit's failure that lies in the storage (a full disk, a read-only database), not in the data it wrote.</summary>
    private bool IsStorageFault(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Data.Common.DbException)
            {
                return _store.DescribeWriteFailure(e) is not null;
            }
        }
        return false;
    }

    /// <summary>While writes keep failing, one line per this interval (with the count), not a stack trace per commit.</summary>
    private static readonly TimeSpan FailureLogInterval = TimeSpan.FromSeconds(10);

    private long _failedCommitsUnlogged;
    private long _failureLoggedAt;

    /// <summary>
    /// The first failed commit of an outage is logged with its exception; later ones while it lasts (and the probes) are
    /// counted and summed up every <see cref="FailureLogInterval"/>, so an outage costs the log a few lines. Writer thread only.
    /// </summary>
    private void LogFailedCommit(Exception exception, int units)
    {
        var now = _time.GetTimestamp();
        if (Volatile.Read(ref _failure) is not { } failure)
        {
            LogCommitFailed(_logger, exception, units);
            _failureLoggedAt = now;
            _failedCommitsUnlogged = 0;
            return;
        }
        _failedCommitsUnlogged++;
        if (_time.GetElapsedTime(_failureLoggedAt, now) >= FailureLogInterval)
        {
            LogCommitsStillFailing(_logger, _failedCommitsUnlogged, failure.Reason, failure.SinceUtc);
            _failureLoggedAt = now;
            _failedCommitsUnlogged = 0;
        }
    }

    private void RecordFailure(Exception exception) => RecordFailure(_store.DescribeWriteFailure(exception) ?? "the write failed");

    private void RecordFailure(string reason)
    {
        var now = _time.GetUtcNow();
        var since = Volatile.Read(ref _failure)?.SinceUtc ?? now;
        Volatile.Write(ref _failure, new WriteFailure(since, now, reason));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Failed} more group commits failed in the last seconds ({Reason}, failing since {SinceUtc:u})")]
    private static partial void LogCommitsStillFailing(ILogger logger, long failed, string reason, DateTimeOffset sinceUtc);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writes succeed again after failing since {SinceUtc:u} ({Reason})")]
    private static partial void LogWritesRecovered(ILogger logger, string reason, DateTimeOffset sinceUtc);
}
