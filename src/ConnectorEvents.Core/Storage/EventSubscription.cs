namespace ConnectorEvents.Core.Storage;

/// <summary>
/// Which General discriminators or WebSocket event types an integration receives: every one (the default) or
/// exactly the listed ones (possibly none). Stored as <c>null</c> for all, else the names joined by commas.
/// </summary>
public sealed class EventSubscription : IEquatable<EventSubscription>
{
    private readonly HashSet<string>? _names;

    private EventSubscription(IReadOnlyList<string>? names)
    {
        Names = names;
        _names = names is null ? null : new HashSet<string>(names, StringComparer.Ordinal);
    }

    public static EventSubscription All { get; } = new(null);

    /// <summary>Exactly these names, in the given order, without repeats.</summary>
    public static EventSubscription Only(IEnumerable<string> names) => new(names.Distinct(StringComparer.Ordinal).ToArray());

    /// <summary>The listed names; <c>null</c> means every one.</summary>
    public IReadOnlyList<string>? Names { get; }

    public bool IsAll => _names is null;

    public bool Includes(string name) => _names is null || _names.Contains(name);

    public string? ToStorage() => Names is null ? null : string.Join(',', Names);

    public static EventSubscription FromStorage(string? text) =>
        text is null ? All : Only(text.Split(',', StringSplitOptions.RemoveEmptyEntries));

    public bool Equals(EventSubscription? other) =>
        other is not null && (ReferenceEquals(this, other) || (Names is null ? other.Names is null : other.Names is not null && Names.SequenceEqual(other.Names)));

    public override bool Equals(object? obj) => Equals(obj as EventSubscription);

    public override int GetHashCode() => Names is null ? 0 : Names.Count;

    public override string ToString() => Names is null ? "all" : string.Join(", ", Names);
}
