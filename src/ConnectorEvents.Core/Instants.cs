namespace ConnectorEvents.Core;

internal static class Instants
{
    /// <summary>Whole seconds, as the contract writes instants, so a stored value reads back equal to what was sent.</summary>
    public static DateTimeOffset ToWholeSeconds(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
