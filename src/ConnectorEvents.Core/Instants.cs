namespace ConnectorEvents.Core;

internal static class Instants
{
    /// <summary>Whole seconds, as the contract writes instants, so a stored value reads back equal to what was sent.</summary>
    public static DateTimeOffset ToWholeSeconds(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    /// <summary>A span as a person reads it: "5 days", "3 hours", "90 seconds".</summary>
    public static string Describe(TimeSpan span) => span switch
    {
        { TotalDays: >= 2 } => $"{Math.Floor(span.TotalDays):0} days",
        { TotalHours: >= 2 } => $"{Math.Floor(span.TotalHours):0} hours",
        { TotalMinutes: >= 2 } => $"{Math.Floor(span.TotalMinutes):0} minutes",
        _ => $"{Math.Floor(span.TotalSeconds):0} seconds",
    };
}
