using ConnectorEvents.Contracts;
using ConnectorEvents.Core.ApiKeys;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Npgsql;

namespace ConnectorEvents.Storage.Postgres;

/// <summary>Column lists and row readers shared by the read side and the write transaction.</summary>
internal static class PostgresRows
{
    public const string EnterpriseColumns = "id, name, created_utc";
    public const string ServiceColumns = "id, enterprise_id, name, created_utc";
    public const string ClientColumns =
        "id, name, client_token_hash, integration_webhook_url, general_webhook_url, integration_webhook_disabled_utc, " +
        "integration_webhook_disabled_reason, created_utc, contract_version, general_webhook_disabled_utc, general_webhook_disabled_reason, " +
        "client_token_prefix, signing_scheme";
    public const string IntegrationColumns =
        "id, name, enterprise_id, service_id, client_id, access_token_hash, state, enabled_before_cancel, requestor_name, " +
        "requestor_email, created_utc, updated_utc, deleted_utc, general_events, websocket_events, access_token_prefix";
    public const string SecretColumns = "client_id, secret, created_utc, expires_utc, public_key";
    public const string ApiKeyColumns = "id, name, role, enterprise_ids, key_hash, key_prefix, created_utc, last_used_utc";

    /// <summary>
    /// Messages (<c>m</c>) with their latest delivery outcome (<c>o</c>), which overrides the row's own state: outcomes are
    /// appended (migration 5), and a requeue deletes the message's earlier ones.
    /// </summary>
    public const string MessagesWithOutcome = "messages m " + OutcomeOfMessage;

    /// <summary>The join that <see cref="MessagesWithOutcome"/> puts after <c>messages m</c>.</summary>
    public const string OutcomeOfMessage = """
        LEFT JOIN LATERAL (SELECT id, status, status_reason, attempt_count, next_attempt_utc, completed_utc FROM outcomes
            WHERE message_seq = m.seq ORDER BY id DESC LIMIT 1) o ON TRUE
        """;

    /// <summary>The message's state: its latest outcome's, or its own before the first.</summary>
    public const string EffectiveStatus = "COALESCE(o.status, m.status)";

    /// <summary>
    /// Whether message <c>m</c> has a final outcome (Delivered or Failed): after one nothing is appended but by a requeue,
    /// which deletes them. An index probe, cheaper than reading the latest outcome where only this matters.
    /// </summary>
    public const string Settled = "EXISTS (SELECT 1 FROM outcomes f WHERE f.message_seq = m.seq AND f.status <> 'Pending')";

    /// <summary>Where the search for lane (<c>@i</c>, <c>@ch</c>)'s pending messages starts: above its settled position.</summary>
    public const string SettledThrough = "COALESCE((SELECT settled_through FROM lanes WHERE integration_id = @i AND channel = @ch), 0)";

    /// <summary>
    /// Every lane (<c>i.id</c>, <c>c.channel</c>) with its settled position (<c>l</c>, if any): a lane's messages are found
    /// through the index on Pending rows from there on, not through the rows every delivered message left in that index.
    /// </summary>
    public const string EveryLane = """
        integrations i CROSS JOIN (VALUES ('Integration'), ('General')) AS c(channel)
        LEFT JOIN lanes l ON l.integration_id = i.id AND l.channel = c.channel
        """;

    /// <summary>
    /// For <see cref="EveryLane"/>: the lane's messages that may be pending (above its settled position). Used inside a
    /// <c>LATERAL</c> subquery, so that each lane reads its own index range; as a plain join or <c>EXISTS</c> the planner
    /// hashed the whole index instead (2.5 s for the lanes with pending over 1,000,000 messages, 22 ms this way).
    /// </summary>
    public const string PendingOfLane =
        "m.integration_id = i.id AND m.channel = c.channel AND m.status = 'Pending' AND m.queue_seq > COALESCE(l.settled_through, 0)";

    public const string MessageColumns =
        "m.seq, m.id, m.channel, m.client_id, m.integration_id, m.event_type, m.body, " + EffectiveStatus + ", " +
        "CASE WHEN o.id IS NULL THEN m.status_reason ELSE o.status_reason END, m.queue_seq, COALESCE(o.attempt_count, m.attempt_count), " +
        "CASE WHEN o.id IS NULL THEN m.next_attempt_utc ELSE o.next_attempt_utc END, m.created_utc, " +
        "CASE WHEN o.id IS NULL THEN m.completed_utc ELSE o.completed_utc END";
    public const string GeneralEventColumns = "seq, enterprise_id, discriminator, entity_id, entity, created_utc";
    public const string PendingColumns =
        "m.seq, m.id, m.channel, m.integration_id, m.client_id, m.queue_seq, COALESCE(o.attempt_count, m.attempt_count), " +
        "CASE WHEN o.id IS NULL THEN m.next_attempt_utc ELSE o.next_attempt_utc END, m.body, m.created_utc";

    public static EnterpriseRecord Enterprise(NpgsqlDataReader r) => new(r.GetGuid(0), r.GetString(1), Time(r, 2));

    public static ServiceRecord Service(NpgsqlDataReader r) => new(r.GetGuid(0), r.GetGuid(1), r.GetString(2), Time(r, 3));

    /// <summary>A client, its URLs decrypted.</summary>
    public static ClientRecord Client(NpgsqlDataReader r, SecretProtector secrets)
    {
        var id = r.GetGuid(0);
        return new(
            id, r.GetString(1), new TokenDigest(r.GetString(2), r.GetString(11)),
            secrets.Unprotect(Text(r, 3), ProtectedColumns.IntegrationWebhookUrl(id)),
            secrets.Unprotect(Text(r, 4), ProtectedColumns.GeneralWebhookUrl(id)), TimeOrNull(r, 5), Text(r, 6), Time(r, 7),
            ContractVersion.Parse(r.GetString(8)), TimeOrNull(r, 9), Text(r, 10), Enum.Parse<SigningScheme>(r.GetString(12)));
    }

    public static IntegrationRecord Integration(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetString(1), r.GetGuid(2), r.IsDBNull(3) ? null : r.GetGuid(3), r.GetGuid(4),
        new TokenDigest(r.GetString(5), r.GetString(15)),
        Enum.Parse<IntegrationState>(r.GetString(6)), r.GetBoolean(7),
        r.IsDBNull(8) ? null : new Requestor(r.GetString(8), r.GetString(9)),
        Time(r, 10), Time(r, 11), TimeOrNull(r, 12),
        EventSubscription.FromStorage(Text(r, 13)), EventSubscription.FromStorage(Text(r, 14)));

    public static GeneralEventRecord GeneralEvent(NpgsqlDataReader r) => new(
        r.GetInt64(0), r.GetGuid(1), r.GetString(2), r.GetGuid(3), r.IsDBNull(4) ? null : r.GetFieldValue<byte[]>(4), Time(r, 5));

    public static PendingMessage Pending(NpgsqlDataReader r, SecretProtector secrets)
    {
        var id = r.GetString(1);
        return new(
            r.GetInt64(0), id, Enum.Parse<WebhookChannel>(r.GetString(2)), r.GetGuid(3), r.GetGuid(4), r.GetInt64(5),
            r.GetInt32(6), TimeOrNull(r, 7), secrets.Unprotect(r.GetFieldValue<byte[]>(8), ProtectedColumns.MessageBody(id)), Time(r, 9));
    }

    public static MessageRecord Message(NpgsqlDataReader r, SecretProtector secrets)
    {
        var id = r.GetString(1);
        return new(
            r.GetInt64(0), id, Enum.Parse<WebhookChannel>(r.GetString(2)), r.GetGuid(3), r.GetGuid(4), r.GetString(5),
            secrets.Unprotect(r.GetFieldValue<byte[]>(6), ProtectedColumns.MessageBody(id)), Enum.Parse<MessageStatus>(r.GetString(7)),
            Text(r, 8), r.GetInt64(9), r.GetInt32(10), TimeOrNull(r, 11), Time(r, 12), TimeOrNull(r, 13));
    }

    public static SigningSecretRecord Secret(NpgsqlDataReader r, SecretProtector secrets)
    {
        var clientId = r.GetGuid(0);
        return new(clientId, secrets.Unprotect(r.GetString(1), ProtectedColumns.SigningSecret(clientId)), Time(r, 2), TimeOrNull(r, 3), Text(r, 4));
    }

    public static ApiKeyRecord ApiKey(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetString(1), Enum.Parse<ApiKeyRole>(r.GetString(2)), ApiKeyEnterprises.FromStorage(Text(r, 3)),
        new TokenDigest(r.GetString(4), r.GetString(5)), Time(r, 6), TimeOrNull(r, 7));

    public static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static DateTimeOffset Time(NpgsqlDataReader r, int i) => r.GetFieldValue<DateTimeOffset>(i);

    public static DateTimeOffset? TimeOrNull(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : Time(r, i);

    public static object Db(Guid? value) => value is { } v ? v : DBNull.Value;

    public static object Db(string? value) => value is null ? DBNull.Value : value;

    /// <summary>UTC and cut to milliseconds: the precision the SQLite provider keeps, so both give back the same instants.</summary>
    public static DateTimeOffset Db(DateTimeOffset value) => DateTimeOffset.FromUnixTimeMilliseconds(value.ToUnixTimeMilliseconds());

    public static object Db(DateTimeOffset? value) => value is { } v ? Db(v) : DBNull.Value;

    public static object Db(int? value) => value is { } v ? v : DBNull.Value;

    public static object Db(byte[]? value) => value is null ? DBNull.Value : value;

    public static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
#pragma warning disable CA2100 // the SQL is this provider's own text; values always go in as parameters
        var command = new NpgsqlCommand(sql, connection, tx);
#pragma warning restore CA2100
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }

    public static T? One<T>(NpgsqlConnection connection, NpgsqlTransaction? tx, Func<NpgsqlDataReader, T> map, string sql,
        params (string Name, object Value)[] parameters) where T : class
    {
        using var command = Command(connection, tx, sql, parameters);
        using var reader = command.ExecuteReader();
        return reader.Read() ? map(reader) : null;
    }

    public static List<T> Many<T>(NpgsqlConnection connection, NpgsqlTransaction? tx, Func<NpgsqlDataReader, T> map, string sql,
        params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, tx, sql, parameters);
        using var reader = command.ExecuteReader();
        var list = new List<T>();
        while (reader.Read())
        {
            list.Add(map(reader));
        }
        return list;
    }

    public static int Execute(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, tx, sql, parameters);
        return command.ExecuteNonQuery();
    }

    public static object? Scalar(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, tx, sql, parameters);
        return command.ExecuteScalar();
    }

    /// <param name="lockRow">In a write transaction: <c>FOR UPDATE NOWAIT</c>, so state changes of one row serialize across processes.</param>
    public static ClientRecord? FindClient(NpgsqlConnection c, NpgsqlTransaction? tx, Guid id, SecretProtector secrets, bool lockRow = false) =>
        One(c, tx, r => Client(r, secrets), $"SELECT {ClientColumns} FROM clients WHERE id = @id{(lockRow ? " FOR UPDATE NOWAIT" : "")}", ("id", id));

    public static IntegrationRecord? FindIntegration(NpgsqlConnection c, NpgsqlTransaction? tx, Guid id, bool lockRow = false) =>
        One(c, tx, Integration, $"SELECT {IntegrationColumns} FROM integrations WHERE id = @id{(lockRow ? " FOR UPDATE NOWAIT" : "")}", ("id", id));

    public static EnterpriseRecord? FindEnterprise(NpgsqlConnection c, NpgsqlTransaction? tx, Guid id) =>
        One(c, tx, Enterprise, $"SELECT {EnterpriseColumns} FROM enterprises WHERE id = @id", ("id", id));

    public static ServiceRecord? FindService(NpgsqlConnection c, NpgsqlTransaction? tx, Guid id) =>
        One(c, tx, Service, $"SELECT {ServiceColumns} FROM services WHERE id = @id", ("id", id));

    public static MessageRecord? FindMessage(NpgsqlConnection c, NpgsqlTransaction? tx, string id, SecretProtector secrets) =>
        One(c, tx, r => Message(r, secrets), $"SELECT {MessageColumns} FROM {MessagesWithOutcome} WHERE m.id = @id", ("id", id));
}
