using System.Globalization;

namespace ConnectorEvents.Server.OperatorConsole;

/// <summary>How the console writes times, durations and rates: UTC, to the second, one style everywhere.</summary>
public static class Show
{
    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "—";

    /// <summary>The value of a <c>datetime-local</c> input, in UTC.</summary>
    public static string Input(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture) : "";

    /// <summary>A <c>datetime-local</c> input's value, read as UTC; null when empty or not a time.</summary>
    public static DateTimeOffset? ParseInput(string? value) =>
        DateTime.TryParseExact(value, ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss"], CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed)
            ? new DateTimeOffset(parsed, TimeSpan.Zero)
            : null;

    public static string Ago(DateTimeOffset? time, DateTimeOffset now)
    {
        if (time is not { } t)
        {
            return "never";
        }
        var span = now - t;
        return span.TotalSeconds < 1 ? "just now"
            : span.TotalMinutes < 1 ? $"{span.TotalSeconds:0} s ago"
            : span.TotalHours < 1 ? $"{span.TotalMinutes:0} min ago"
            : span.TotalDays < 1 ? $"{span.TotalHours:0.#} h ago"
            : $"{span.TotalDays:0.#} d ago";
    }

    public static string Percent(double? rate) => rate is { } r ? r.ToString("0.#%", CultureInfo.InvariantCulture) : "—";

    public static string Ms(double? ms) => ms is { } m ? m.ToString("0.#", CultureInfo.InvariantCulture) + " ms" : "—";

    public static string Number(double value) =>
        value >= 100 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("0.##", CultureInfo.InvariantCulture);

    public static string Seconds(double seconds) =>
        seconds >= 1 ? seconds.ToString("0.##", CultureInfo.InvariantCulture) + " s"
        : (seconds * 1000).ToString("0.#", CultureInfo.InvariantCulture) + " ms";

    /// <summary>A short form of an id for tables (the whole id is in the link and its title).</summary>
    public static string Abbreviated(Guid id) => id.ToString()[..8];
}
