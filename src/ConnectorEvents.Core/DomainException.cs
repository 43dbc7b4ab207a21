namespace ConnectorEvents.Core;

public enum DomainErrorKind
{
    /// <summary>The input is wrong; <see cref="DomainException.Field"/> says where.</summary>
    Invalid,
    NotFound,
    /// <summary>The command does not fit the current state.</summary>
    Conflict,
    /// <summary>Well-formed, but it contradicts an earlier request (an idempotency key reused with another body).</summary>
    Unprocessable,
}

/// <summary>A refused command. Nothing it would have written is kept.</summary>
public sealed class DomainException(DomainErrorKind kind, string message, string? field = null) : Exception(message)
{
    public DomainErrorKind Kind { get; } = kind;
    public string? Field { get; } = field;

    public static DomainException NotFound(string what, object id) => new(DomainErrorKind.NotFound, $"No {what} has the id '{id}'.");
}
