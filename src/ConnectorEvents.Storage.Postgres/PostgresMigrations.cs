using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>Schema versions, applied in order by <see cref="SchemaMigrator"/>.</summary>
internal static class PostgresMigrations
{
    /// <summary>The advisory lock key held while migrating, so processes starting together migrate once.</summary>
    public const long MigrationLockKey = 0x436F_6E6E_4576_6E74; // "ConnEvnt"

    public static IReadOnlyList<SchemaMigration> All { get; } =
    [
        // Version 1 is the whole schema of SQLite versions 1 to 4.
        new(1, """
            CREATE TABLE enterprises (
                id uuid PRIMARY KEY,
                name text NOT NULL,
                created_utc timestamptz NOT NULL
            );
            CREATE TABLE services (
                id uuid PRIMARY KEY,
                enterprise_id uuid NOT NULL REFERENCES enterprises(id),
                name text NOT NULL,
                created_utc timestamptz NOT NULL
            );
            CREATE INDEX ix_services_enterprise ON services(enterprise_id);
            CREATE TABLE clients (
                id uuid PRIMARY KEY,
                name text NOT NULL,
                client_token text NOT NULL UNIQUE,
                integration_webhook_url text,
                general_webhook_url text,
                integration_webhook_disabled_utc timestamptz,
                integration_webhook_disabled_reason text,
                created_utc timestamptz NOT NULL,
                contract_version text NOT NULL DEFAULT '2025-08',
                general_webhook_disabled_utc timestamptz,
                general_webhook_disabled_reason text
            );
            CREATE TABLE client_secrets (
                client_id uuid NOT NULL REFERENCES clients(id),
                secret text NOT NULL,
                created_utc timestamptz NOT NULL,
                expires_utc timestamptz
            );
            CREATE INDEX ix_client_secrets_client ON client_secrets(client_id);
            CREATE TABLE integrations (
                id uuid PRIMARY KEY,
                name text NOT NULL,
                enterprise_id uuid NOT NULL REFERENCES enterprises(id),
                service_id uuid REFERENCES services(id),
                client_id uuid NOT NULL REFERENCES clients(id),
                access_token text NOT NULL UNIQUE,
                state text NOT NULL,
                enabled_before_cancel boolean NOT NULL,
                requestor_name text,
                requestor_email text,
                created_utc timestamptz NOT NULL,
                updated_utc timestamptz NOT NULL,
                deleted_utc timestamptz,
                general_events text,
                websocket_events text,
                general_cursor bigint NOT NULL DEFAULT 0
            );
            CREATE INDEX ix_integrations_client ON integrations(client_id);
            CREATE INDEX ix_integrations_enterprise ON integrations(enterprise_id);
            -- Queue positions come from a sequence: processes inserting at once never compute the same one.
            CREATE SEQUENCE message_queue_seq;
            CREATE TABLE messages (
                seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                id text NOT NULL UNIQUE,
                channel text NOT NULL,
                client_id uuid NOT NULL,
                integration_id uuid NOT NULL,
                event_type text NOT NULL,
                body bytea NOT NULL,
                status text NOT NULL,
                status_reason text,
                queue_seq bigint NOT NULL,
                attempt_count integer NOT NULL,
                next_attempt_utc timestamptz,
                created_utc timestamptz NOT NULL,
                completed_utc timestamptz
            );
            CREATE INDEX ix_messages_pending ON messages(integration_id, channel, queue_seq) WHERE status = 'Pending';
            CREATE INDEX ix_messages_queue ON messages(queue_seq);
            CREATE INDEX ix_messages_client ON messages(client_id, seq);
            CREATE INDEX ix_messages_integration ON messages(integration_id, seq);
            CREATE TABLE attempts (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                message_seq bigint NOT NULL,
                attempt_number integer NOT NULL,
                started_utc timestamptz NOT NULL,
                duration_ms double precision NOT NULL,
                url text NOT NULL,
                status_code integer,
                error_kind text,
                error text,
                response_body text
            );
            CREATE INDEX ix_attempts_message ON attempts(message_seq);
            -- A sequence: a log position is never reused, even when the log has been trimmed empty, because
            -- integrations keep their place in it by number.
            CREATE SEQUENCE general_event_seq;
            CREATE TABLE general_events (
                seq bigint PRIMARY KEY DEFAULT nextval('general_event_seq'),
                enterprise_id uuid NOT NULL,
                discriminator text NOT NULL,
                entity_id uuid NOT NULL,
                entity bytea,
                created_utc timestamptz NOT NULL
            );
            ALTER SEQUENCE general_event_seq OWNED BY general_events.seq;
            CREATE INDEX ix_general_events_enterprise ON general_events(enterprise_id, seq);
            CREATE TABLE ingest_requests (
                enterprise_id uuid NOT NULL,
                idempotency_key text NOT NULL,
                request_hash bytea NOT NULL,
                response bytea NOT NULL,
                created_utc timestamptz NOT NULL,
                PRIMARY KEY (enterprise_id, idempotency_key)
            );
            CREATE INDEX ix_ingest_requests_created ON ingest_requests(created_utc);
            -- Delivery partition leases (see DeliveryPartitions): one row per partition, 64 in all.
            CREATE TABLE partition_leases (
                partition integer PRIMARY KEY,
                node_id text,
                lease_until timestamptz
            );
            INSERT INTO partition_leases (partition) SELECT generate_series(0, 63);
            CREATE TABLE nodes (
                node_id text PRIMARY KEY,
                seen_utc timestamptz NOT NULL
            );
            """),
        new(2, """
            -- A status filter finds a rare status here instead of reading the whole outbox backwards (Pending has
            -- ix_messages_pending). Delivered and Pending rows are not in it, so their writes skip it.
            CREATE INDEX ix_messages_settled ON messages(seq) WHERE status IN ('Failed', 'Skipped');
            """),
        new(3, $"""
            -- Tokens are kept only as SHA-256 digests, beside a prefix to recognise them by: the owner's id and the first 4
            -- characters of the random part, as TokenDigest.PrefixOf cuts every token the server ever made. Webhook URLs,
            -- signing secrets and bodies that carry a token are encrypted by the sweep that runs after every start.
            ALTER TABLE clients RENAME COLUMN client_token TO client_token_hash;
            ALTER TABLE clients ADD COLUMN client_token_prefix text NOT NULL DEFAULT '';
            ALTER TABLE clients ADD COLUMN signing_scheme text NOT NULL DEFAULT 'Hmac';
            UPDATE clients SET client_token_prefix = left(client_token_hash, 37) || '…',
                client_token_hash = encode(sha256(convert_to(client_token_hash, 'UTF8')), 'hex');
            -- A key for the sweep to page through the secrets by, and an Ed25519 secret's public key, shown without decrypting.
            ALTER TABLE client_secrets ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
            ALTER TABLE client_secrets ADD COLUMN public_key text;
            ALTER TABLE integrations RENAME COLUMN access_token TO access_token_hash;
            ALTER TABLE integrations ADD COLUMN access_token_prefix text NOT NULL DEFAULT '';
            UPDATE integrations SET access_token_prefix = left(access_token_hash, 37) || '…',
                access_token_hash = encode(sha256(convert_to(access_token_hash, 'UTF8')), 'hex');
            CREATE TABLE api_keys (
                id uuid PRIMARY KEY,
                name text NOT NULL,
                role text NOT NULL,
                enterprise_ids text,
                key_hash text NOT NULL UNIQUE,
                key_prefix text NOT NULL,
                created_utc timestamptz NOT NULL,
                last_used_utc timestamptz
            );
            -- The sweep finds the bodies to encrypt again through this; other messages stay out of it.
            CREATE INDEX ix_messages_token_bearing ON messages(seq) WHERE event_type IN {TokenBearingMessages.SqlList};
            """),
        new(4, """
            -- Idempotency keys of management commands (ingest keeps its own, per enterprise): recorded with the command,
            -- the answer added once known, encrypted.
            CREATE TABLE idempotent_requests (
                caller text NOT NULL,
                idempotency_key text NOT NULL,
                request_hash bytea NOT NULL,
                created_utc timestamptz NOT NULL,
                response bytea,
                PRIMARY KEY (caller, idempotency_key)
            );
            CREATE INDEX ix_idempotent_requests_created ON idempotent_requests(created_utc);
            """),
        new(5, """
            -- A delivery outcome is appended, not written over its message: an UPDATE of the row could not be HOT (its
            -- status is in partial-index predicates), so it wrote the whole row, its body included, and five index entries.
            -- A message's latest outcome is its state (a requeue deletes its outcomes); before the first, its row is. Rows
            -- stay in ix_messages_pending once delivered: each lane's settled position is where the search starts.
            CREATE TABLE outcomes (
                id bigint GENERATED ALWAYS AS IDENTITY,
                message_seq bigint NOT NULL,
                status text NOT NULL,
                status_reason text,
                attempt_count integer NOT NULL,
                next_attempt_utc timestamptz,
                completed_utc timestamptz
            );
            CREATE INDEX ix_outcomes_message ON outcomes(message_seq, id);
            CREATE TABLE lanes (
                integration_id uuid NOT NULL,
                channel text NOT NULL,
                settled_through bigint NOT NULL,
                PRIMARY KEY (integration_id, channel)
            );
            -- A Failed state is an outcome: a row that failed before this version gets its own, a copy of what the row says.
            INSERT INTO outcomes (message_seq, status, status_reason, attempt_count, next_attempt_utc, completed_utc)
            SELECT seq, status, status_reason, attempt_count, next_attempt_utc, completed_utc FROM messages WHERE status = 'Failed';
            CREATE INDEX ix_outcomes_failed ON outcomes(message_seq) WHERE status = 'Failed';
            """),
        new(6, """
            -- Each writer's last commit: a group's COMMIT goes out in the round trip of its last writes, with a new mark
            -- written here. Should the answer be lost, the row read on a fresh connection, once the old backend is gone,
            -- says whether the group applied. Rows of writers quiet longer than nodes are kept go with them.
            CREATE TABLE commit_marks (
                writer uuid PRIMARY KEY,
                mark bigint NOT NULL,
                written_utc timestamptz NOT NULL
            );
            """),
    ];
}
