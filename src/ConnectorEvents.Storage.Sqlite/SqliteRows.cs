using ConnectorEvents.Contracts;
using ConnectorEvents.Core.ApiKeys;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Microsoft.Data.Sqlite;

namespace ConnectorEvents.Storage.Sqlite;

/// <summary>Column lists and row readers shared by the read side and the write transaction.</summary>
internal static class SqliteRows
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
    /// appended (see migration 5), and a requeue deletes the message's earlier ones.
    /// </summary>
    public const string MessagesWithOutcome = "messages m " + OutcomeOfMessage;

    /// <summary>The join that <see cref="MessagesWithOutcome"/> puts after <c>messages m</c>, for a query that names an index there.</summary>
    public const string OutcomeOfMessage = "LEFT JOIN outcomes o ON o.id = (SELECT MAX(id) FROM outcomes WHERE message_seq = m.seq)";

    /// <summary>The message's state: its latest outcome's, or its own before the first.</summary>
    public const string EffectiveStatus = "COALESCE(o.status, m.status)";

    public const string MessageColumns =
        "m.seq, m.id, m.channel, m.client_id, m.integration_id, m.event_type, m.body, " + EffectiveStatus + ", " +
        "IIF(o.id IS NULL, m.status_reason, o.status_reason), m.queue_seq, COALESCE(o.attempt_count, m.attempt_count), " +
        "IIF(o.id IS NULL, m.next_attempt_utc, o.next_attempt_utc), m.created_utc, IIF(o.id IS NULL, m.completed_utc, o.completed_utc)";

    public static EnterpriseRecord Enterprise(SqliteDataReader r) => new(Id(r, 0), r.GetString(1), Time(r, 2));

    public static ServiceRecord Service(SqliteDataReader r) => new(Id(r, 0), Id(r, 1), r.GetString(2), Time(r, 3));

    /// <summary>A client, its URLs decrypted.</summary>
    public static ClientRecord Client(SqliteDataReader r, SecretProtector secrets)
    {
        var id = Id(r, 0);
        return new(
            id, r.GetString(1), new TokenDigest(r.GetString(2), r.GetString(11)),
            secrets.Unprotect(Text(r, 3), ProtectedColumns.IntegrationWebhookUrl(id)),
            secrets.Unprotect(Text(r, 4), ProtectedColumns.GeneralWebhookUrl(id)), TimeOrNull(r, 5), Text(r, 6), Time(r, 7),
            ContractVersion.Parse(r.GetString(8)), TimeOrNull(r, 9), Text(r, 10), Enum.Parse<SigningScheme>(r.GetString(12)));
    }

    public static IntegrationRecord Integration(SqliteDataReader r) => new(
        Id(r, 0), r.GetString(1), Id(r, 2), r.IsDBNull(3) ? null : Id(r, 3), Id(r, 4), new TokenDigest(r.GetString(5), r.GetString(15)),
        Enum.Parse<IntegrationState>(r.GetString(6)), r.GetInt64(7) != 0,
        r.IsDBNull(8) ? null : new Requestor(r.GetString(8), r.GetString(9)),
        Time(r, 10), Time(r, 11), TimeOrNull(r, 12),
        EventSubscription.FromStorage(Text(r, 13)), EventSubscription.FromStorage(Text(r, 14)));

    public const string GeneralEventColumns = "seq, enterprise_id, discriminator, entity_id, entity, created_utc";

    public static GeneralEventRecord GeneralEvent(SqliteDataReader r) => new(
        r.GetInt64(0), Id(r, 1), r.GetString(2), Id(r, 3), r.IsDBNull(4) ? null : (byte[])r.GetValue(4), Time(r, 5));

    public static PendingMessage Pending(SqliteDataReader r, SecretProtector secrets)
    {
        var id = r.GetString(1);
        return new(
            r.GetInt64(0), id, Enum.Parse<WebhookChannel>(r.GetString(2)), Id(r, 3), Id(r, 4), r.GetInt64(5),
            r.GetInt32(6), TimeOrNull(r, 7), secrets.Unprotect((byte[])r.GetValue(8), ProtectedColumns.MessageBody(id)), Time(r, 9));
    }

    public const string PendingColumns =
        "m.seq, m.id, m.channel, m.integration_id, m.client_id, m.queue_seq, COALESCE(o.attempt_count, m.attempt_count), " +
        "IIF(o.id IS NULL, m.next_attempt_utc, o.next_attempt_utc), m.body, m.created_utc";

    public static MessageRecord Message(SqliteDataReader r, SecretProtector secrets)
    {
        var id = r.GetString(1);
        return new(
            r.GetInt64(0), id, Enum.Parse<WebhookChannel>(r.GetString(2)), Id(r, 3), Id(r, 4), r.GetString(5),
            secrets.Unprotect((byte[])r.GetValue(6), ProtectedColumns.MessageBody(id)), Enum.Parse<MessageStatus>(r.GetString(7)),
            Text(r, 8), r.GetInt64(9), r.GetInt32(10), TimeOrNull(r, 11), Time(r, 12), TimeOrNull(r, 13));
    }

    public static SigningSecretRecord Secret(SqliteDataReader r, SecretProtector secrets)
    {
        var clientId = Id(r, 0);
        return new(clientId, secrets.Unprotect(r.GetString(1), ProtectedColumns.SigningSecret(clientId)), Time(r, 2), TimeOrNull(r, 3), Text(r, 4));
    }

    public static ApiKeyRecord ApiKey(SqliteDataReader r) => new(
        Id(r, 0), r.GetString(1), Enum.Parse<ApiKeyRole>(r.GetString(2)), ApiKeyEnterprises.FromStorage(Text(r, 3)),
        new TokenDigest(r.GetString(4), r.GetString(5)), Time(r, 6), TimeOrNull(r, 7));

    public static Guid Id(SqliteDataReader r, int i) => Guid.Parse(r.GetString(i));

    public static string? Text(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static DateTimeOffset Time(SqliteDataReader r, int i) => DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));

    public static DateTimeOffset? TimeOrNull(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : Time(r, i);

    public static object Db(Guid value) => value.ToString();

    public static object Db(Guid? value) => value is { } v ? v.ToString() : DBNull.Value;

    public static object Db(string? value) => value is null ? DBNull.Value : value;

    public static object Db(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    public static object Db(DateTimeOffset? value) => value is { } v ? v.ToUnixTimeMilliseconds() : DBNull.Value;

    public static object Db(int? value) => value is { } v ? v : DBNull.Value;

    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }

    public static T? One<T>(SqliteConnection connection, SqliteTransaction? tx, Func<SqliteDataReader, T> map, string sql,
        params (string Name, object Value)[] parameters) where T : class
    {
        using var command = Command(connection, tx, sql, parameters);
        using var reader = command.ExecuteReader();
        return reader.Read() ? map(reader) : null;
    }

    public static List<T> Many<T>(SqliteConnection connection, SqliteTransaction? tx, Func<SqliteDataReader, T> map, string sql,
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

    public static int Execute(SqliteConnection connection, SqliteTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, tx, sql, parameters);
        return command.ExecuteNonQuery();
    }

    // Finders used by both sides.
    public static EnterpriseRecord? FindEnterprise(SqliteConnection c, SqliteTransaction? tx, Guid id) =>
        One(c, tx, Enterprise, $"SELECT {EnterpriseColumns} FROM enterprises WHERE id = $id", ("$id", Db(id)));

    public static ServiceRecord? FindService(SqliteConnection c, SqliteTransaction? tx, Guid id) =>
        One(c, tx, Service, $"SELECT {ServiceColumns} FROM services WHERE id = $id", ("$id", Db(id)));

    public static ClientRecord? FindClient(SqliteConnection c, SqliteTransaction? tx, Guid id, SecretProtector secrets) =>
        One(c, tx, r => Client(r, secrets), $"SELECT {ClientColumns} FROM clients WHERE id = $id", ("$id", Db(id)));

    public static IntegrationRecord? FindIntegration(SqliteConnection c, SqliteTransaction? tx, Guid id) =>
        One(c, tx, Integration, $"SELECT {IntegrationColumns} FROM integrations WHERE id = $id", ("$id", Db(id)));

    public static MessageRecord? FindMessage(SqliteConnection c, SqliteTransaction? tx, string id, SecretProtector secrets) =>
        One(c, tx, r => Message(r, secrets), $"SELECT {MessageColumns} FROM {MessagesWithOutcome} WHERE m.id = $id", ("$id", id));
}
