using ConnectorEvents.Core.Storage;
using Npgsql;
using NpgsqlTypes;
using static ConnectorEvents.Storage.Postgres.PostgresRows;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>
/// Delivery outcomes, appended and in sets: a message's latest outcome is its state (migration 5), so an outcome rewrites
/// no message row and none of its five index entries; and the attempts, outcomes and lane positions of consecutive outcomes
/// (a group's posted units) go to the database as one statement over arrays, not two or three statements per delivery.
/// </summary>
internal sealed partial class PostgresWriteTransaction
{
    // The set still taking outcomes: the last of _deferred while open. Any other statement closes it, so statements run in
    // the order they were asked for.
    private OutcomeSet? _outcomes;

    public void RecordAttempt(AttemptRecord attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        OpenOutcomeSet(set => set.AttemptSeqs.Add(attempt.MessageSeq)).Attempts.Add(attempt);
    }

    public void UpdateProgress(MessageProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        OpenOutcomeSet(set => set.StateSeqs.Add(progress.Seq)).States.Add(progress);
    }

    /// <summary>
    /// Every message of the lane at or below the position is Delivered or Failed: the search for pending ones starts above
    /// it. Kept as the highest any process settled: what it says stays true (a requeue gives a message a new position).
    /// </summary>
    public void SettleLane(DeliveryLane lane, long settledThroughQueueSeq)
    {
        var settled = OpenOutcomeSet(_ => true).Lanes;
        settled[lane] = Math.Max(settled.GetValueOrDefault(lane), settledThroughQueueSeq);
    }

    /// <summary>
    /// The open set, unless <paramref name="admits"/> refuses it: an attempt (or a state) of a message it already holds. A
    /// message twice in one statement would number both attempts alike, so the second starts a set of its own, after the first.
    /// </summary>
    private OutcomeSet OpenOutcomeSet(Func<OutcomeSet, bool> admits)
    {
        if (_outcomes is { } open && admits(open))
        {
            return open;
        }
        CloseOutcomes();
        var set = new OutcomeSet();
        admits(set);
        _deferred.Add(set.Command);
        _unitWrites++;
        _outcomes = set;
        return set;
    }

    /// <summary>Writes the open set's statement: it takes no more outcomes.</summary>
    private void CloseOutcomes()
    {
        _outcomes?.Complete();
        _outcomes = null;
    }

    private sealed class OutcomeSet
    {
        public NpgsqlBatchCommand Command { get; } = new();
        public List<AttemptRecord> Attempts { get; } = [];
        public List<MessageProgress> States { get; } = [];
        public HashSet<long> AttemptSeqs { get; } = [];
        public HashSet<long> StateSeqs { get; } = [];
        public Dictionary<DeliveryLane, long> Lanes { get; } = [];

        // An attempt's number counts every attempt its message ever had (a requeue starts its count again, not its numbers);
        // each message is in the set once, so the count before the statement is the one to add to.
        private const string InsertAttempts = """
            INSERT INTO attempts (message_seq, attempt_number, started_utc, duration_ms, url, status_code, error_kind, error, response_body)
            SELECT m, (SELECT COUNT(*) + 1 FROM attempts WHERE message_seq = t.m), started, duration, url, code, kind, error, body
            FROM unnest(@am, @started, @duration, @url, @code, @kind, @error, @body) AS t(m, started, duration, url, code, kind, error, body)
            """;

        private const string AppendOutcomes = """
            INSERT INTO outcomes (message_seq, status, status_reason, attempt_count, next_attempt_utc, completed_utc)
            SELECT * FROM unnest(@sm, @status, @reason, @attempts, @next, @completed)
            """;

        private const string SettleLanes = """
            INSERT INTO lanes (integration_id, channel, settled_through) SELECT * FROM unnest(@li, @lc, @ls)
            ON CONFLICT (integration_id, channel) DO UPDATE SET settled_through = GREATEST(lanes.settled_through, EXCLUDED.settled_through)
            """;

        public void Complete()
        {
            var parts = new List<string>(3);
            var p = Command.Parameters;
            if (Attempts.Count > 0)
            {
                parts.Add(InsertAttempts);
                p.Add(new NpgsqlParameter<long[]>("am", [.. Attempts.Select(a => a.MessageSeq)]));
                p.Add(new NpgsqlParameter<DateTimeOffset[]>("started", [.. Attempts.Select(a => Db(a.StartedUtc))]));
                p.Add(new NpgsqlParameter<double[]>("duration", [.. Attempts.Select(a => a.DurationMs)]));
                p.Add(new NpgsqlParameter<string[]>("url", [.. Attempts.Select(a => a.Url)]));
                p.Add(new NpgsqlParameter<int?[]>("code", [.. Attempts.Select(a => a.StatusCode)]));
                p.Add(Texts("kind", Attempts.Select(a => a.ErrorKind)));
                p.Add(Texts("error", Attempts.Select(a => a.Error)));
                p.Add(Texts("body", Attempts.Select(a => a.ResponseBody)));
            }
            if (States.Count > 0)
            {
                parts.Add(AppendOutcomes);
                p.Add(new NpgsqlParameter<long[]>("sm", [.. States.Select(s => s.Seq)]));
                p.Add(Texts("status", States.Select(s => s.Status.ToString())));
                p.Add(Texts("reason", States.Select(s => s.StatusReason)));
                p.Add(new NpgsqlParameter<int[]>("attempts", [.. States.Select(s => s.AttemptCount)]));
                p.Add(Instants("next", States.Select(s => s.NextAttemptUtc)));
                p.Add(Instants("completed", States.Select(s => s.CompletedUtc)));
            }
            if (Lanes.Count > 0)
            {
                parts.Add(SettleLanes);
                p.Add(new NpgsqlParameter<Guid[]>("li", [.. Lanes.Keys.Select(l => l.IntegrationId)]));
                p.Add(Texts("lc", Lanes.Keys.Select(l => l.Channel.ToString())));
                p.Add(new NpgsqlParameter<long[]>("ls", [.. Lanes.Values]));
            }
            // One statement: every part but the last as a data-modifying WITH query, which runs whether or not it is read.
#pragma warning disable CA2100 // the SQL is this provider's own text; values go in as array parameters
            Command.CommandText = parts.Count == 1 ? parts[0]
                : "WITH " + string.Join(", ", parts[..^1].Select((part, i) => $"part{i} AS ({part})")) + " " + parts[^1];
#pragma warning restore CA2100
        }

        private static NpgsqlParameter Texts(string name, IEnumerable<string?> values) =>
            new(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values.ToArray() };

        private static NpgsqlParameter Instants(string name, IEnumerable<DateTimeOffset?> values) =>
            new(name, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = values.Select(v => v is { } t ? Db(t) : (DateTimeOffset?)null).ToArray() };
    }
}
