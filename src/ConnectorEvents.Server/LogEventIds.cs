namespace ConnectorEvents.Server;

/// <summary>
/// Stable event ids of the server's log lines that operators alert on, a range per area: Api 2000–2099, Hosting 2100–2199.
/// Never renumber one.
/// </summary>
public static class LogEventIds
{
    /// <summary>An address failed to authenticate (once per address and minute).</summary>
    public const int FailedAuthentication = 2001;
}
