using System.Data.Common;
using System.Globalization;

namespace ConnectorEvents.Core.Storage;

/// <summary>One schema version: its SQL runs once, in its own transaction.</summary>
public sealed record SchemaMigration(int Version, string Sql);

/// <summary>
/// Applies schema versions in order, each once, and records them in <c>schema_migrations (version, applied_utc)</c>,
/// <c>applied_utc</c> in Unix milliseconds. Provider-neutral: it only needs an open <see cref="DbConnection"/>.
/// </summary>
public static class SchemaMigrator
{
    /// <param name="connection">An open connection.</param>
    /// <param name="migrations">Every known version.</param>
    /// <param name="takeLock">
    /// Held for the whole run, so several processes starting at once migrate once (PostgreSQL: an advisory lock).
    /// Null where the transaction already serializes writers (SQLite).
    /// </param>
    public static void Migrate(DbConnection connection, IReadOnlyList<SchemaMigration> migrations, Func<DbConnection, IDisposable>? takeLock = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(migrations);
        using var held = takeLock?.Invoke(connection);
        Execute(connection, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_utc BIGINT NOT NULL)");
        var newest = migrations.Count == 0 ? 0 : migrations.Max(m => m.Version);
        var recorded = Convert.ToInt32(Scalar(connection, null, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"), CultureInfo.InvariantCulture);
        if (recorded > newest)
        {
            throw new InvalidOperationException(
                $"The database has schema version {recorded}, newer than this server knows ({newest}): run a newer server, or restore a matching backup.");
        }
        foreach (var migration in migrations.OrderBy(m => m.Version))
        {
            using var tx = connection.BeginTransaction();
            if (Convert.ToInt64(Scalar(connection, tx, "SELECT COUNT(*) FROM schema_migrations WHERE version = @v", ("@v", migration.Version)),
                    CultureInfo.InvariantCulture) > 0)
            {
                continue;
            }
            Execute(connection, tx, migration.Sql);
            Execute(connection, tx, "INSERT INTO schema_migrations (version, applied_utc) VALUES (@v, @t)",
                ("@v", migration.Version), ("@t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            tx.Commit();
        }
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
#pragma warning disable CA2100 // the SQL is the provider's own migration text, never input
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    private static void Execute(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, tx, sql, parameters);
        command.ExecuteNonQuery();
    }

    private static object? Scalar(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, tx, sql, parameters);
        return command.ExecuteScalar();
    }
}
