namespace ConnectorEvents.Server;

/// <summary>
/// Stable event ids of the server's log lines that operators alert on, a range per area: Api 2000–2099, Hosting 2100–2199,
/// Delivery 2200–2299 (<see cref="ConnectorEvents.Core.Delivery.DeliveryLog"/>).
/// Never renumber one.
/// </summary>
public static class LogEventIds
{
    /// <summary>A source failed to authenticate (once per source and minute).</summary>
    public const int FailedAuthentication = 2001;

    /// <summary>Requests failed on unavailable storage and were answered 503 (one line per 10 s, with the count).</summary>
    public const int StorageReadFailed = 2002;

    /// <summary>The database could not be reached at start; the server waits for it and answers 503 meanwhile.</summary>
    public const int StartWaitsForStorage = 2102;

    /// <summary>The database answered after a start that waited for it.</summary>
    public const int StartReachedStorage = 2103;

    /// <summary>Opening storage failed otherwise while the start waited for it.</summary>
    public const int StartOpenFailed = 2104;

    /// <summary>The data folder can be listed by other users.</summary>
    public const int DataFolderOpen = 2101;

    /// <summary>The sweep of stored secrets finished: every one is under the current key.</summary>
    public const int SecretsSwept = 2110;

    /// <summary>The sweep of stored secrets finished, but some cannot be read: a key is missing.</summary>
    public const int SecretsUnreadable = 2111;

    /// <summary>The sweep of stored secrets stopped early.</summary>
    public const int SecretsSweepFailed = 2112;

    /// <summary>Retention deleted settled messages past their retention.</summary>
    public const int RetentionSwept = 2120;

    /// <summary>A retention sweep failed; the next runs at the next interval.</summary>
    public const int RetentionFailed = 2121;

    /// <summary>The health probe port is open (Health:Port).</summary>
    public const int HealthProbeListening = 2130;

    /// <summary>The health probe port met an error; it goes on.</summary>
    public const int HealthProbeFailed = 2131;
}
