namespace ConnectorEvents.Server;

/// <summary>
/// Stable event ids of the server's log lines that operators alert on, a range per area: Api 2000–2099, Hosting 2100–2199.
/// Never renumber one.
/// </summary>
public static class LogEventIds
{
    /// <summary>A source failed to authenticate (once per source and minute).</summary>
    public const int FailedAuthentication = 2001;

    /// <summary>The data folder can be listed by other users.</summary>
    public const int DataFolderOpen = 2101;

    /// <summary>The sweep of stored secrets finished: every one is under the current key.</summary>
    public const int SecretsSwept = 2110;

    /// <summary>The sweep of stored secrets finished, but some cannot be read: a key is missing.</summary>
    public const int SecretsUnreadable = 2111;

    /// <summary>The sweep of stored secrets stopped early.</summary>
    public const int SecretsSweepFailed = 2112;
}
