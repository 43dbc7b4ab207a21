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
        if (options.Provider == StorageProvider.Postgres && PostgresConnectorStore.CheckConnectionString(options.PostgresConnectionString) is { } problem)
        {
            return ValidateOptionsResult.Fail(problem);
        }
        return ValidateOptionsResult.Success;
    }
}
