using ConnectorEvents.Core.Storage;
using Npgsql;
using static ConnectorEvents.Storage.Postgres.PostgresRows;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>
/// The group's integrations read in one round trip before its units run: each row locked, its client, its General cursor,
/// the last Pending message of each of its lanes, a block of message positions, and where their enterprises' General logs
/// end. A unit then reads its integration from the cache, inserts its messages without waiting for an answer (the insert
/// goes out with the next statement that needs one), and asks the log nothing it already knows: an enable or a disable
/// costs no round trip of its own, instead of three to four one after another. Likewise the enterprises whose logs the group
/// appends to: each locked for its appends, with its Enabled integrations, so that an ingest's append is a write sent later
/// and not two round trips of its own.
/// </summary>
internal sealed partial class PostgresWriteTransaction
{
    // For each lane of an integration this transaction locked by reading ahead: the queue position of its last Pending
    // message, which no other process can change before the commit (it inserts into the lane under the same row lock).
    private readonly Dictionary<(Guid IntegrationId, WebhookChannel Channel), long> _lastPending = [];

    // Message numbers (seq, queue position) taken after those locks, in order: positions another process takes for these
    // lanes come after them, as it waits for the locks. Used in order, so positions stay in the order of the inserts.
    private readonly Queue<(long Seq, long QueueSeq)> _positions = new();

    // For each enterprise of an integration read ahead, held FOR SHARE (no other process appends to its log before the
    // commit): the General log's end, the highest position ever handed out (LastGeneralEventSeq), and its last event (0: the
    // log is empty). Forgotten for an enterprise this transaction appends to.
    private readonly Dictionary<Guid, (long Handed, long Last)> _logEnds = [];

    // Enterprises this transaction holds for its appends since the read ahead (FOR NO KEY UPDATE: nobody else appends to
    // their logs or reads where they end before the commit), and the Enabled integrations of each as seen after that lock.
    // An enterprise's list is forgotten when this transaction writes one of its integrations (its state may have changed).
    private readonly Dictionary<Guid, EnterpriseRecord> _heldForAppend = [];
    private readonly Dictionary<Guid, List<GeneralRoute>> _enabledIn = [];

    // For each (enterprise, General cursor) of an Enabled integration read ahead whose log is held: the first events after
    // that cursor (at most EventsReadAhead), what its formation reads first.
    private readonly Dictionary<(Guid EnterpriseId, long AfterSeq), List<GeneralEventRecord>> _eventsAfter = [];
    private const int EventsReadAhead = 512;

    // The lanes the unit at work moved, with their earlier last Pending position, to put back should it roll back.
    private readonly List<((Guid, WebhookChannel) Lane, long Before)> _lanesInUnit = [];

    // Positions taken for each integration read ahead: a disable forms up to a few General messages besides its webhook,
    // and more take the usual way.
    private const int PositionsPerIntegration = 2;

    public void ReadAhead(IReadOnlyList<Guid> integrationIds, IReadOnlyList<Guid> enterpriseIds)
    {
        ArgumentNullException.ThrowIfNull(integrationIds);
        ArgumentNullException.ThrowIfNull(enterpriseIds);
        var ids = integrationIds.ToArray();
        var enterprises = enterpriseIds.ToArray();
        var statements = new List<NpgsqlBatchCommand>(7);
        if (enterprises.Length > 0)
        {
            // The appends' lock, taken ahead (SKIP LOCKED: an enterprise another process appends to is left to its unit, which
            // locks it as usual), then, as seen after it, the Enabled integrations its events will wake.
            statements.Add(Statement($"SELECT {EnterpriseColumns} FROM enterprises WHERE id = ANY(@ids) ORDER BY id FOR NO KEY UPDATE SKIP LOCKED",
                ("ids", enterprises)));
            statements.Add(Statement($"SELECT i.enterprise_id, {GeneralRouteColumns} WHERE i.enterprise_id = ANY(@ids) AND i.state = 'Enabled' ORDER BY i.id",
                ("ids", enterprises)));
        }
        if (ids.Length > 0)
        {
            // SKIP LOCKED, not NOWAIT: a row another process holds is left to its unit, which reads it as usual (and is put off
            // to a later transaction), instead of failing the whole read. The lanes' positions are read after the locks.
            statements.Add(Statement($"SELECT {IntegrationColumns}, general_cursor FROM integrations WHERE id = ANY(@ids) FOR UPDATE SKIP LOCKED", ("ids", ids)));
            statements.Add(Statement($"SELECT {ClientColumns} FROM clients WHERE id IN (SELECT client_id FROM integrations WHERE id = ANY(@ids))", ("ids", ids)));
            statements.Add(Statement($"""
                SELECT i.id, c.channel, COALESCE((SELECT m.queue_seq FROM messages m
                    WHERE {PendingOfLane} AND NOT {Settled} ORDER BY m.queue_seq DESC LIMIT 1), 0)
                FROM unnest(@ids) AS i(id) CROSS JOIN (VALUES ('Integration'), ('General')) AS c(channel)
                LEFT JOIN lanes l ON l.integration_id = i.id AND l.channel = c.channel
                """, ("ids", ids)));
            statements.Add(Statement("""
                SELECT nextval(pg_get_serial_sequence('messages', 'seq')), nextval('message_queue_seq')
                FROM generate_series(1, @n)
                """, ("n", ids.Length * PositionsPerIntegration)));
            // The share locks first, then the sequence: no position handed out to these enterprises is still uncommitted.
            statements.Add(Statement("""
                WITH held AS (SELECT id FROM enterprises WHERE id IN (SELECT enterprise_id FROM integrations WHERE id = ANY(@ids))
                    ORDER BY id FOR SHARE SKIP LOCKED)
                SELECT h.id, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM general_event_seq),
                    COALESCE((SELECT g.seq FROM general_events g WHERE g.enterprise_id = h.id ORDER BY g.seq DESC LIMIT 1), 0)
                FROM held h
                """, ("ids", ids)));
            // Under those share locks: the events each Enabled integration with a General URL would form its next message of.
            statements.Add(Statement($"""
                SELECT g.seq, g.enterprise_id, g.discriminator, g.entity_id, g.entity, g.created_utc, i.id, i.enterprise_id,
                    COALESCE(i.general_cursor, 0)
                FROM integrations i JOIN clients c ON c.id = i.client_id
                LEFT JOIN LATERAL (SELECT {GeneralEventColumns} FROM general_events e
                    WHERE e.enterprise_id = i.enterprise_id AND e.seq > COALESCE(i.general_cursor, 0) ORDER BY e.seq LIMIT @limit) g ON true
                WHERE i.id = ANY(@ids) AND i.state = 'Enabled' AND c.general_webhook_url IS NOT NULL AND c.general_webhook_disabled_utc IS NULL
                ORDER BY i.id, g.seq
                """, ("ids", ids), ("limit", EventsReadAhead)));
        }
        if (statements.Count == 0)
        {
            return;
        }
        using var read = Query([.. statements]);
        var reader = read.Reader;
        if (enterprises.Length > 0)
        {
            ReadEnterprisesAhead(reader);
            if (ids.Length > 0)
            {
                reader.NextResult();
            }
        }
        if (ids.Length > 0)
        {
            ReadIntegrationsAhead(reader);
        }
    }

    private void ReadEnterprisesAhead(NpgsqlDataReader reader)
    {
        while (reader.Read())
        {
            var enterprise = Enterprise(reader);
            _heldForAppend[enterprise.Id] = enterprise;
            _enabledIn[enterprise.Id] = [];
        }
        reader.NextResult();
        while (reader.Read())
        {
            if (_enabledIn.TryGetValue(reader.GetGuid(0), out var enabled))
            {
                enabled.Add(GeneralRoute(reader, 1));
            }
        }
    }

    private void ReadIntegrationsAhead(NpgsqlDataReader reader)
    {
        var locked = new HashSet<Guid>();
        while (reader.Read())
        {
            var integration = Integration(reader);
            _integrations[integration.Id] = integration;
            _cursors[integration.Id] = reader.IsDBNull(16) ? 0 : reader.GetInt64(16);
            locked.Add(integration.Id);
        }
        reader.NextResult();
        while (reader.Read())
        {
            var client = Client(reader, _secrets);
            _clients.TryAdd(client.Id, client);
        }
        reader.NextResult();
        while (reader.Read())
        {
            var id = reader.GetGuid(0);
            if (locked.Contains(id))
            {
                _lastPending[(id, Enum.Parse<WebhookChannel>(reader.GetString(1)))] = reader.GetInt64(2);
            }
        }
        reader.NextResult();
        var positions = new List<(long, long)>();
        while (reader.Read())
        {
            positions.Add((reader.GetInt64(0), reader.GetInt64(1)));
        }
        if (locked.Count > 0)
        {
            foreach (var position in positions.OrderBy(p => p.Item2))
            {
                _positions.Enqueue(position);
            }
        }
        reader.NextResult();
        while (reader.Read())
        {
            _logEnds[reader.GetGuid(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        }
        reader.NextResult();
        while (reader.Read())
        {
            var enterpriseId = reader.GetGuid(7);
            if (!locked.Contains(reader.GetGuid(6)) || !_logEnds.ContainsKey(enterpriseId))
            {
                continue; // its cursor or its log may move before the commit: its unit reads them as usual
            }
            var key = (enterpriseId, reader.GetInt64(8));
            if (!_eventsAfter.TryGetValue(key, out var page))
            {
                _eventsAfter[key] = page = [];
            }
            if (!reader.IsDBNull(0) && (page.Count == 0 || page[^1].Seq < reader.GetInt64(0)))
            {
                page.Add(GeneralEvent(reader)); // two integrations at one cursor share a page
            }
        }
    }

    /// <summary>
    /// The events after <paramref name="afterSeq"/> read ahead, as far as they answer a read of <paramref name="limit"/>: they
    /// were all of the log up to the read ahead, and an append of this transaction since comes after them (a formation then
    /// leaves those to the next one, which their wake starts).
    /// </summary>
    private bool TryEventsReadAhead(Guid enterpriseId, long afterSeq, int limit, out IReadOnlyList<GeneralEventRecord> events)
    {
        if (_eventsAfter.TryGetValue((enterpriseId, afterSeq), out var page) && (page.Count < EventsReadAhead || limit <= page.Count))
        {
            events = page.Count <= limit ? page : page[..limit];
            return true;
        }
        events = [];
        return false;
    }

    /// <summary>
    /// The General log of an enterprise held since the read ahead, as it ended then. Events another process commits meanwhile
    /// would be missed by a read that trusts it, but none can: the share lock keeps its appends waiting until this commit.
    /// </summary>
    private bool TryLogEnd(Guid enterpriseId, out (long Handed, long Last) end) => _logEnds.TryGetValue(enterpriseId, out end);

    /// <summary>
    /// Inserts a message of a lane read ahead with the next position taken, as a write sent later; false when the lane was
    /// not read ahead or no position is left (the usual insert then reads what it needs).
    /// </summary>
    private bool TryInsertReadAhead(MessageRecord message, out InsertedMessage inserted)
    {
        var lane = (message.IntegrationId, message.Channel);
        if (_positions.Count == 0 || !_lastPending.TryGetValue(lane, out var before))
        {
            inserted = default;
            return false;
        }
        var (seq, queueSeq) = _positions.Dequeue();
        Defer($"INSERT INTO messages (seq, {MessageInsertColumns}) OVERRIDING SYSTEM VALUE VALUES (@seq, {MessageInsertValues}, @queue, 0, NULL, @created, @completed)",
            [("seq", seq), ("queue", queueSeq), .. MessageInsertParameters(message)]);
        if (message.Status == MessageStatus.Pending)
        {
            _lanesInUnit.Add((lane, before));
            _lastPending[lane] = queueSeq;
        }
        inserted = new InsertedMessage(seq, queueSeq, before);
        return true;
    }

    /// <summary>A requeue takes a position of its own, after those taken ahead: inserts after it must too, to stay behind it.</summary>
    private void ForgetPositionsTaken() => _positions.Clear();

    /// <summary>The unit at work rolled back: its lanes' last Pending messages are as before it.</summary>
    private void RollBackLanesOfUnit()
    {
        for (var i = _lanesInUnit.Count - 1; i >= 0; i--)
        {
            _lastPending[_lanesInUnit[i].Lane] = _lanesInUnit[i].Before;
        }
        _lanesInUnit.Clear();
    }
}
