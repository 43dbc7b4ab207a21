using Microsoft.Data.Sqlite;
using static ConnectorEvents.Storage.Sqlite.SqliteRows;

namespace ConnectorEvents.Storage.Sqlite;

internal sealed partial class SqliteWriteTransaction
{
    /// <summary>
    /// The hot-path statements, prepared once on the write connection and reused by every batch: Microsoft.Data.Sqlite
    /// keeps no statement cache, so a fresh command would parse and plan its SQL again on the writer thread each time.
    /// </summary>
    internal sealed class Statements : IDisposable
    {
        public Statements(SqliteConnection connection)
        {
            FindIntegration = Prepare(connection, $"SELECT {IntegrationColumns} FROM integrations WHERE id = $id", "$id");
            FindClient = Prepare(connection, $"SELECT {ClientColumns} FROM clients WHERE id = $id", "$id");
            // Split in two because SQLite rewrites an index's entries whenever one of its columns is in the SET list,
            // changed or not. The state change goes to unindexed columns; the indexed ones (client, enterprise, access
            // token) and the other facts fixed at creation are written only when one of them really differs.
            UpdateIntegrationState = Prepare(connection, """
                UPDATE integrations SET name = $name, state = $state, enabled_before_cancel = $ebc, updated_utc = $updated,
                    deleted_utc = $deleted, general_events = $ge, websocket_events = $we
                WHERE id = $id
                """, IntegrationParameters);
            UpdateIntegrationKeys = Prepare(connection, """
                UPDATE integrations SET enterprise_id = $e, service_id = $s, client_id = $c, access_token_hash = $token,
                    access_token_prefix = $prefix, requestor_name = $rn, requestor_email = $re, created_utc = $created
                WHERE id = $id AND (enterprise_id IS NOT $e OR service_id IS NOT $s OR client_id IS NOT $c
                    OR access_token_hash IS NOT $token OR requestor_name IS NOT $rn OR requestor_email IS NOT $re
                    OR created_utc IS NOT $created)
                """, IntegrationParameters);
            InsertMessage = Prepare(connection, """
                INSERT INTO messages (id, channel, client_id, integration_id, event_type, body, status, status_reason, queue_seq,
                    attempt_count, next_attempt_utc, created_utc, completed_utc)
                VALUES ($id, $channel, $client, $integration, $type, $body, $status, $reason,
                    (SELECT COALESCE(MAX(queue_seq), 0) + 1 FROM messages), 0, NULL, $created, $completed)
                RETURNING seq, queue_seq
                """, "$id", "$channel", "$client", "$integration", "$type", "$body", "$status", "$reason", "$created", "$completed");
            InsertAttempt = Prepare(connection, """
                INSERT INTO attempts (message_seq, attempt_number, started_utc, duration_ms, url, status_code, error_kind, error, response_body)
                VALUES ($m, (SELECT COUNT(*) + 1 FROM attempts WHERE message_seq = $m), $started, $duration, $url, $code, $kind,
                    $error, $body)
                """, "$m", "$started", "$duration", "$url", "$code", "$kind", "$error", "$body");
            AppendOutcome = Prepare(connection, """
                INSERT INTO outcomes (message_seq, status, status_reason, attempt_count, next_attempt_utc, completed_utc)
                VALUES ($seq, $status, $reason, $attempts, $next, $completed)
                """, "$seq", "$status", "$reason", "$attempts", "$next", "$completed");
            InsertLane = Prepare(connection,
                "INSERT OR IGNORE INTO lanes (integration_id, channel, settled_through) VALUES ($i, $ch, 0)", "$i", "$ch");
            SettleLane = Prepare(connection, """
                UPDATE lanes SET settled_through = MAX(settled_through, $through) WHERE integration_id = $i AND channel = $ch
                """, "$i", "$ch", "$through");
            AppendGeneralEvent = PrepareAppend(connection, 1);
            AppendGeneralEvents = PrepareAppend(connection, AppendChunk);
            LoadGeneralEvents = Prepare(connection,
                $"SELECT {GeneralEventColumns} FROM general_events WHERE enterprise_id = $e AND seq > $after ORDER BY seq LIMIT $limit",
                "$e", "$after", "$limit");
            LastGeneralEventSeq = Prepare(connection,
                "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'general_events'), 0)");
            GeneralCursor = Prepare(connection, "SELECT general_cursor FROM integrations WHERE id = $id", "$id");
            SetGeneralCursor = Prepare(connection, "UPDATE integrations SET general_cursor = $seq WHERE id = $id", "$id", "$seq");
            // What no Enabled integration still needs: below the lowest cursor, or everything when none is Enabled
            // (enabling one moves its cursor to the end of the log).
            TrimGeneralEvents = Prepare(connection, """
                DELETE FROM general_events WHERE enterprise_id = $e AND seq <= COALESCE(
                    (SELECT MIN(general_cursor) FROM integrations WHERE enterprise_id = $e AND state = 'Enabled'),
                    (SELECT seq FROM sqlite_sequence WHERE name = 'general_events'))
                """, "$e");
            ListGeneralRoutes = Prepare(connection, """
                SELECT i.id, i.general_events, c.general_webhook_url IS NOT NULL, c.contract_version
                FROM integrations i JOIN clients c ON c.id = i.client_id
                WHERE i.enterprise_id = $e AND i.state = 'Enabled'
                """, "$e");
            FindIngest = Prepare(connection, """
                SELECT enterprise_id, idempotency_key, request_hash, response, created_utc FROM ingest_requests
                WHERE enterprise_id = $e AND idempotency_key = $k
                """, "$e", "$k");
            InsertIngest = Prepare(connection, """
                INSERT INTO ingest_requests (enterprise_id, idempotency_key, request_hash, response, created_utc)
                VALUES ($e, $k, $h, $r, $created)
                """, "$e", "$k", "$h", "$r", "$created");
            // The retention sweep's. Parsed for every unit they held the writer twice as long: 0.27–0.34 ms for ten messages
            // against 0.15 ms prepared (bench scenario 12; the two maxima went from 53 µs to 4).
            MaxSeq = Prepare(connection, "SELECT COALESCE(MAX(seq), 0) FROM messages");
            MaxQueueSeq = Prepare(connection, "SELECT COALESCE(MAX(queue_seq), 0) FROM messages");
            ExamineForRetention = Prepare(connection, $"""
                SELECT m.seq, m.queue_seq, m.created_utc, {EffectiveStatus}, IIF(o.id IS NULL, m.completed_utc, o.completed_utc)
                FROM {MessagesWithOutcome} WHERE m.seq > $after ORDER BY m.seq LIMIT $n
                """, "$after", "$n");
            DeleteExpiredAttempts = Prepare(connection, "DELETE FROM attempts WHERE message_seq IN (SELECT value FROM json_each($l))", "$l");
            DeleteExpiredOutcomes = Prepare(connection, "DELETE FROM outcomes WHERE message_seq IN (SELECT value FROM json_each($l))", "$l");
            DeleteExpiredMessages = Prepare(connection, "DELETE FROM messages WHERE seq IN (SELECT value FROM json_each($l))", "$l");
            Savepoint = Prepare(connection, "SAVEPOINT unit");
            Rollback = Prepare(connection, "ROLLBACK TO unit");
            Release = Prepare(connection, "RELEASE unit");
        }

        public SqliteCommand FindIntegration { get; }
        public SqliteCommand FindClient { get; }
        public SqliteCommand UpdateIntegrationState { get; }
        public SqliteCommand UpdateIntegrationKeys { get; }
        public SqliteCommand InsertMessage { get; }
        public SqliteCommand InsertAttempt { get; }
        public SqliteCommand AppendOutcome { get; }
        public SqliteCommand InsertLane { get; }
        public SqliteCommand SettleLane { get; }
        public const int AppendChunk = 50;

        public SqliteCommand AppendGeneralEvent { get; }
        public SqliteCommand AppendGeneralEvents { get; }
        public SqliteCommand LoadGeneralEvents { get; }
        public SqliteCommand LastGeneralEventSeq { get; }
        public SqliteCommand GeneralCursor { get; }
        public SqliteCommand SetGeneralCursor { get; }
        public SqliteCommand TrimGeneralEvents { get; }
        public SqliteCommand ListGeneralRoutes { get; }
        public SqliteCommand FindIngest { get; }
        public SqliteCommand InsertIngest { get; }
        public SqliteCommand MaxSeq { get; }
        public SqliteCommand MaxQueueSeq { get; }
        public SqliteCommand ExamineForRetention { get; }
        public SqliteCommand DeleteExpiredAttempts { get; }
        public SqliteCommand DeleteExpiredOutcomes { get; }
        public SqliteCommand DeleteExpiredMessages { get; }
        public SqliteCommand Savepoint { get; }
        public SqliteCommand Rollback { get; }
        public SqliteCommand Release { get; }

        private IEnumerable<SqliteCommand> All =>
        [
            FindIntegration, FindClient, UpdateIntegrationState, UpdateIntegrationKeys, InsertMessage, InsertAttempt, AppendOutcome, InsertLane, SettleLane,
            AppendGeneralEvent, AppendGeneralEvents, LoadGeneralEvents, LastGeneralEventSeq, GeneralCursor, SetGeneralCursor, TrimGeneralEvents,
            ListGeneralRoutes, FindIngest, InsertIngest, MaxSeq, MaxQueueSeq, ExamineForRetention, DeleteExpiredAttempts, DeleteExpiredOutcomes,
            DeleteExpiredMessages, Savepoint, Rollback, Release,
        ];

        public void Enlist(SqliteTransaction tx)
        {
            foreach (var command in All)
            {
                command.Transaction = tx;
            }
        }

        private static readonly string[] IntegrationParameters =
            ["$id", "$name", "$e", "$s", "$c", "$token", "$prefix", "$state", "$ebc", "$rn", "$re", "$created", "$updated", "$deleted", "$ge", "$we"];

        private static SqliteCommand PrepareAppend(SqliteConnection connection, int rows)
        {
            var values = Enumerable.Range(0, rows).Select(i => $"($e{i}, $d{i}, $id{i}, $entity{i}, $created{i})");
            var names = Enumerable.Range(0, rows).SelectMany(i => new[] { $"$e{i}", $"$d{i}", $"$id{i}", $"$entity{i}", $"$created{i}" });
            return Prepare(connection,
                $"INSERT INTO general_events (enterprise_id, discriminator, entity_id, entity, created_utc) VALUES {string.Join(", ", values)}",
                [.. names]);
        }

        private static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] parameters)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name, Value = DBNull.Value });
            }
            return command;
        }

        public void Dispose()
        {
            foreach (var command in All)
            {
                command.Dispose();
            }
        }
    }
}
