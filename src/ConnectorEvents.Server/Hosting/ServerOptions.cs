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

/// <summary>Configuration section <c>Security</c>.</summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>The management API key, sent as <c>Authorization: Bearer …</c>.</summary>
    public string? AdminApiKey { get; set; }

    /// <summary>Keys that may only post events (<c>POST /api/v1/enterprises/{id}/events</c>), one per producer.</summary>
    public string[]? ProducerApiKeys { get; set; }
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

public sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.AdminApiKey))
        {
            return ValidateOptionsResult.Fail(
                "Security:AdminApiKey is not set. Set it (or the environment variable Security__AdminApiKey); " +
                "only the Development environment generates one by itself.");
        }
        if (options.AdminApiKey.Length < 16)
        {
            return ValidateOptionsResult.Fail("Security:AdminApiKey must be at least 16 characters long.");
        }
        var producerKeys = options.ProducerApiKeys ?? [];
        for (var i = 0; i < producerKeys.Length; i++)
        {
            // The message names the entry, never its value.
            if (string.IsNullOrWhiteSpace(producerKeys[i]) || producerKeys[i].Length < 16)
            {
                return ValidateOptionsResult.Fail($"Security:ProducerApiKeys:{i} must be at least 16 characters long.");
            }
            if (producerKeys[i] == options.AdminApiKey)
            {
                return ValidateOptionsResult.Fail($"Security:ProducerApiKeys:{i} must differ from Security:AdminApiKey.");
            }
        }
        return ValidateOptionsResult.Success;
    }
}
