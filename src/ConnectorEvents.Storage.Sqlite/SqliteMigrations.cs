using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Storage.Sqlite;

/// <summary>Schema versions, applied in order, each once, each in its own transaction.</summary>
internal static class SqliteMigrations
{
    public static IReadOnlyList<SchemaMigration> All { get; } =
    [
        new(1, """
            CREATE TABLE enterprises (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                created_utc INTEGER NOT NULL
            );
            CREATE TABLE services (
                id TEXT PRIMARY KEY,
                enterprise_id TEXT NOT NULL REFERENCES enterprises(id),
                name TEXT NOT NULL,
                created_utc INTEGER NOT NULL
            );
            CREATE INDEX ix_services_enterprise ON services(enterprise_id);
            CREATE TABLE clients (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                client_token TEXT NOT NULL UNIQUE,
                integration_webhook_url TEXT,
                general_webhook_url TEXT,
                integration_webhook_disabled_utc INTEGER,
                integration_webhook_disabled_reason TEXT,
                created_utc INTEGER NOT NULL
            );
            CREATE TABLE client_secrets (
                client_id TEXT NOT NULL REFERENCES clients(id),
                secret TEXT NOT NULL,
                created_utc INTEGER NOT NULL,
                expires_utc INTEGER
            );
            CREATE INDEX ix_client_secrets_client ON client_secrets(client_id);
            CREATE TABLE integrations (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                enterprise_id TEXT NOT NULL REFERENCES enterprises(id),
                service_id TEXT REFERENCES services(id),
                client_id TEXT NOT NULL REFERENCES clients(id),
                access_token TEXT NOT NULL UNIQUE,
                state TEXT NOT NULL,
                enabled_before_cancel INTEGER NOT NULL,
                requestor_name TEXT,
                requestor_email TEXT,
                created_utc INTEGER NOT NULL,
                updated_utc INTEGER NOT NULL,
                deleted_utc INTEGER
            );
            CREATE INDEX ix_integrations_client ON integrations(client_id);
            CREATE INDEX ix_integrations_enterprise ON integrations(enterprise_id);
            CREATE TABLE messages (
                seq INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                channel TEXT NOT NULL,
                client_id TEXT NOT NULL,
                integration_id TEXT NOT NULL,
                event_type TEXT NOT NULL,
                body BLOB NOT NULL,
                status TEXT NOT NULL,
                status_reason TEXT,
                queue_seq INTEGER NOT NULL,
                attempt_count INTEGER NOT NULL,
                next_attempt_utc INTEGER,
                created_utc INTEGER NOT NULL,
                completed_utc INTEGER
            );
            CREATE INDEX ix_messages_pending ON messages(integration_id, queue_seq) WHERE status = 'Pending';
            CREATE INDEX ix_messages_queue ON messages(queue_seq);
            CREATE INDEX ix_messages_client ON messages(client_id, seq);
            CREATE INDEX ix_messages_integration ON messages(integration_id, seq);
            CREATE TABLE attempts (
                id INTEGER PRIMARY KEY,
                message_seq INTEGER NOT NULL,
                attempt_number INTEGER NOT NULL,
                started_utc INTEGER NOT NULL,
                duration_ms REAL NOT NULL,
                url TEXT NOT NULL,
                status_code INTEGER,
                error_kind TEXT,
                error TEXT,
                response_body TEXT
            );
            CREATE INDEX ix_attempts_message ON attempts(message_seq);
            """),
        new(2, """
            ALTER TABLE clients ADD COLUMN contract_version TEXT NOT NULL DEFAULT '2025-08';
            """),
        new(3, """
            ALTER TABLE clients ADD COLUMN general_webhook_disabled_utc INTEGER;
            ALTER TABLE clients ADD COLUMN general_webhook_disabled_reason TEXT;
            ALTER TABLE integrations ADD COLUMN general_events TEXT;
            ALTER TABLE integrations ADD COLUMN websocket_events TEXT;
            ALTER TABLE integrations ADD COLUMN general_cursor INTEGER NOT NULL DEFAULT 0;
            DROP INDEX ix_messages_pending;
            CREATE INDEX ix_messages_pending ON messages(integration_id, channel, queue_seq) WHERE status = 'Pending';
            -- AUTOINCREMENT: a sequence number is never reused, even when the log has been trimmed empty, because
            -- integrations keep their place in it by number.
            CREATE TABLE general_events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                enterprise_id TEXT NOT NULL,
                discriminator TEXT NOT NULL,
                entity_id TEXT NOT NULL,
                entity BLOB,
                created_utc INTEGER NOT NULL
            );
            CREATE INDEX ix_general_events_enterprise ON general_events(enterprise_id, seq);
            CREATE TABLE ingest_requests (
                enterprise_id TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                request_hash BLOB NOT NULL,
                response BLOB NOT NULL,
                created_utc INTEGER NOT NULL,
                PRIMARY KEY (enterprise_id, idempotency_key)
            ) WITHOUT ROWID;
            CREATE INDEX ix_ingest_requests_created ON ingest_requests(created_utc);
            """),
        new(4, """
            -- Delivery partition leases (see DeliveryPartitions): one row per partition, 64 in all.
            CREATE TABLE partition_leases (
                partition INTEGER PRIMARY KEY,
                node_id TEXT,
                lease_until INTEGER
            );
            WITH RECURSIVE p(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM p WHERE n < 63)
            INSERT INTO partition_leases (partition) SELECT n FROM p;
            CREATE TABLE nodes (
                node_id TEXT PRIMARY KEY,
                seen_utc INTEGER NOT NULL
            );
            """),
        new(5, """
            -- A delivery outcome is appended, not written over its message: rewriting the row and deleting its entry from a
            -- pending index touched two pages at random per delivery, and was most of the writer's time in a drain. A
            -- message's latest outcome is its state (a requeue deletes its outcomes); before the first, its row is.
            CREATE TABLE outcomes (
                id INTEGER PRIMARY KEY,
                message_seq INTEGER NOT NULL,
                status TEXT NOT NULL,
                status_reason TEXT,
                attempt_count INTEGER NOT NULL,
                next_attempt_utc INTEGER,
                completed_utc INTEGER
            );
            CREATE INDEX ix_outcomes_message ON outcomes(message_seq);
            -- One row per delivery lane: every message of it at or below settled_through is Delivered or Failed, so the
            -- search for pending messages starts above it. Kept behind by the dispatcher, which alone knows the lane's order.
            CREATE TABLE lanes (
                integration_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                settled_through INTEGER NOT NULL,
                PRIMARY KEY (integration_id, channel)
            ) WITHOUT ROWID;
            INSERT INTO lanes (integration_id, channel, settled_through)
            SELECT integration_id, channel, COALESCE(MIN(CASE WHEN status = 'Pending' THEN queue_seq END) - 1, MAX(queue_seq))
            FROM messages GROUP BY integration_id, channel;
            DROP INDEX ix_messages_pending;
            CREATE INDEX ix_messages_lane ON messages(integration_id, channel, queue_seq);
            """),
        new(6, """
            -- The message listing does without these: it finds a client's or an integration's messages through
            -- ix_messages_lane when they are few, and by reading the table backwards when they are many. Keeping them up to
            -- date cost a page at random each per command, about 40 % of what the writer spends on one.
            DROP INDEX ix_messages_client;
            DROP INDEX ix_messages_integration;
            """),
        new(7, """
            -- A status filter reads its rare statuses newest first through these instead of the whole outbox backwards.
            -- A Failed state is an outcome (a row from before migration 5 gets its own here, a copy of what the row says);
            -- Skipped is a message row's from its insert. Pending and Delivered are in neither, so their writes skip them.
            INSERT INTO outcomes (message_seq, status, status_reason, attempt_count, next_attempt_utc, completed_utc)
            SELECT seq, status, status_reason, attempt_count, next_attempt_utc, completed_utc FROM messages m
            WHERE status = 'Failed' AND NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.message_seq = m.seq);
            CREATE INDEX ix_outcomes_failed ON outcomes(message_seq) WHERE status = 'Failed';
            CREATE INDEX ix_messages_skipped ON messages(seq) WHERE status = 'Skipped';
            """),
        new(8, $"""
            -- Tokens are kept only as SHA-256 digests (ce_sha256_hex is the store's own function), beside a prefix to
            -- recognise them by: the owner's id and the first 4 characters of the random part, as TokenDigest.PrefixOf cuts
            -- every token the server ever made. Webhook URLs, signing secrets and bodies that carry a token are encrypted
            -- by the sweep that runs after every start (SecretProtectionSweeper), which these tables' rows wait for.
            ALTER TABLE clients RENAME COLUMN client_token TO client_token_hash;
            ALTER TABLE clients ADD COLUMN client_token_prefix TEXT NOT NULL DEFAULT '';
            ALTER TABLE clients ADD COLUMN signing_scheme TEXT NOT NULL DEFAULT 'Hmac';
            UPDATE clients SET client_token_prefix = substr(client_token_hash, 1, 37) || '…', client_token_hash = ce_sha256_hex(client_token_hash);
            ALTER TABLE client_secrets ADD COLUMN public_key TEXT;
            ALTER TABLE integrations RENAME COLUMN access_token TO access_token_hash;
            ALTER TABLE integrations ADD COLUMN access_token_prefix TEXT NOT NULL DEFAULT '';
            UPDATE integrations SET access_token_prefix = substr(access_token_hash, 1, 37) || '…', access_token_hash = ce_sha256_hex(access_token_hash);
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                enterprise_ids TEXT,
                key_hash TEXT NOT NULL UNIQUE,
                key_prefix TEXT NOT NULL,
                created_utc INTEGER NOT NULL,
                last_used_utc INTEGER
            );
            -- The sweep finds the bodies to encrypt again through this; other messages stay out of it.
            CREATE INDEX ix_messages_token_bearing ON messages(seq) WHERE event_type IN {TokenBearingMessages.SqlList};
            """),
        new(9, """
            -- Idempotency keys of management commands (ingest keeps its own, per enterprise): recorded with the command,
            -- the answer added once known, encrypted.
            CREATE TABLE idempotent_requests (
                caller TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                request_hash BLOB NOT NULL,
                created_utc INTEGER NOT NULL,
                response BLOB,
                PRIMARY KEY (caller, idempotency_key)
            );
            CREATE INDEX ix_idempotent_requests_created ON idempotent_requests(created_utc);
            """),
    ];
}
