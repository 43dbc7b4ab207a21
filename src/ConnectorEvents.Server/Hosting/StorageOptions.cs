using ConnectorEvents.Storage.Postgres;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Hosting;

/// <summary>Configuration section <c>Storage</c>.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary><see cref="StorageProvider.Sqlite"/> (embedded, the default) or <see cref="StorageProvider.Postgres"/>.</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>Folder of the SQLite database and the generated development admin key.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>
    /// How long a PostgreSQL statement or connection attempt may take (default 10 s; migrations have none), and how long a
    /// write may wait in the writer's queue: a frozen database answers requests 503 within about twice this, not minutes.
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>From <c>ConnectionStrings:Postgres</c>; required when <see cref="Provider"/> is Postgres.</summary>
    public string? PostgresConnectionString { get; set; }

    public string DatabasePath => Path.Combine(Path.GetFullPath(DataDirectory), "connector-events.db");
}

public enum StorageProvider
{
    Sqlite,
    Postgres,
}

public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(options.Provider))
        {
            return ValidateOptionsResult.Fail("Storage:Provider must be Sqlite or Postgres.");
        }
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            return ValidateOptionsResult.Fail("Storage:DataDirectory must name a folder, e.g. ./data.");
        }
        if (options.DataDirectory.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            return ValidateOptionsResult.Fail("Storage:DataDirectory contains characters a path cannot hold.");
        }
        if (options.CommandTimeout < TimeSpan.FromSeconds(1) || options.CommandTimeout > TimeSpan.FromMinutes(10))
        {
            return ValidateOptionsResult.Fail("Storage:CommandTimeout must be between 00:00:01 and 00:10:00.");
        }
        if (options.Provider == StorageProvider.Postgres && PostgresConnectorStore.CheckConnectionString(options.PostgresConnectionString) is { } problem)
        {
            return ValidateOptionsResult.Fail(problem);
        }
        return ValidateOptionsResult.Success;
    }
}
