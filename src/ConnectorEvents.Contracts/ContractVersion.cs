using System.Diagnostics.CodeAnalysis;

namespace ConnectorEvents.Contracts;

/// <summary>
/// One pinned version of the API Events contract, written <c>yyyy-MM</c> (see BRIEF §2 and shared/seeds).
/// Only the five instances below exist, so reference equality is value equality and versions order by age.
/// </summary>
public sealed class ContractVersion : IComparable<ContractVersion>, IEquatable<ContractVersion>, IParsable<ContractVersion>
{
    // Seed 001 lists IntegrationCreated, Enabled, Disabled and then "...": the elided actions are unnamed and
    // their 2019-05 shapes undocumented, so 2019-05 knows only the three it names.
    private static readonly string[] May2019Actions =
        [IntegrationActions.Created, IntegrationActions.Enabled, IntegrationActions.Disabled];

    private static readonly string[] SixActions =
    [
        IntegrationActions.Created, IntegrationActions.Enabled, IntegrationActions.Disabled,
        IntegrationActions.Canceled, IntegrationActions.Reinstated, IntegrationActions.Deleted,
    ];

    // Seed 003 documents these two and requires the Entities block beside them.
    private static readonly string[] January2021Discriminators =
        [GeneralDiscriminators.ServiceOrderUpdated, GeneralDiscriminators.ResourceUpdated];

    /// <summary>Seed 001: <c>CreatedUtc</c> and <c>IsEnabled</c> beside <c>Action</c>.</summary>
    public static ContractVersion May2019 { get; } = new("2019-05", 0, May2019Actions, [], hasGeneralEntities: false);

    /// <summary>Seed 004: everything inside <c>Data</c>, no <c>Service</c>, no General message.</summary>
    public static ContractVersion December2019 { get; } = new("2019-12", 1, SixActions, [], hasGeneralEntities: false);

    /// <summary>Seed 003: <c>Data.Service</c>; General message with <c>Entities</c>.</summary>
    public static ContractVersion January2021 { get; } =
        new("2021-01", 2, SixActions, January2021Discriminators, hasGeneralEntities: true);

    /// <summary>Seed 002 and events-wh-general.md: <c>Entities</c> removed, seven discriminators.</summary>
    public static ContractVersion August2022 { get; } =
        new("2022-08", 3, SixActions, GeneralDiscriminators.All, hasGeneralEntities: false);

    /// <summary>Seed 000: adds <c>IntegrationApiKeyCreated</c>; <c>Requestor</c> may be null.</summary>
    public static ContractVersion August2025 { get; } =
        new("2025-08", 4, IntegrationActions.All, GeneralDiscriminators.All, hasGeneralEntities: false);

    /// <summary>What a client gets when it pins nothing.</summary>
    public static ContractVersion Default => August2025;

    public static ContractVersion Oldest => May2019;

    public static ContractVersion Latest => August2025;

    /// <summary>Oldest first.</summary>
    public static IReadOnlyList<ContractVersion> All { get; } = [May2019, December2019, January2021, August2022, August2025];

    private readonly int _age;

    private ContractVersion(string text, int age, IReadOnlyList<string> actions, IReadOnlyList<string> discriminators,
        bool hasGeneralEntities)
    {
        Text = text;
        _age = age;
        KnownIntegrationActions = actions;
        KnownGeneralDiscriminators = discriminators;
        HasGeneralEntities = hasGeneralEntities;
    }

    /// <summary>The text form, e.g. <c>2025-08</c>.</summary>
    public string Text { get; }

    /// <summary>The Integration Webhook actions this version sends, in documented order.</summary>
    public IReadOnlyList<string> KnownIntegrationActions { get; }

    /// <summary>The General message discriminators this version sends; empty when it has no General message.</summary>
    public IReadOnlyList<string> KnownGeneralDiscriminators { get; }

    /// <summary>Whether the General message carries the <c>Entities</c> block (2021-01 only).</summary>
    public bool HasGeneralEntities { get; }

    /// <summary>Whether this version has the General message at all (2021-01 and later).</summary>
    public bool HasGeneralMessage => KnownGeneralDiscriminators.Count > 0;

    public bool KnowsIntegrationAction(string action) => KnownIntegrationActions.Contains(action, StringComparer.Ordinal);

    public bool KnowsGeneralDiscriminator(string discriminator) =>
        KnownGeneralDiscriminators.Contains(discriminator, StringComparer.Ordinal);

    /// <summary>The text form of every known version, oldest first, for messages and help texts.</summary>
    public static string KnownTexts => string.Join(", ", All.Select(version => version.Text));

    /// <summary>Reads the text form, e.g. <c>2019-12</c> (surrounding spaces ignored); anything else names the known versions.</summary>
    public static ContractVersion Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var version)
            ? version
            : throw new FormatException($"Unknown contract version '{text}'. Known versions: {KnownTexts}.");
    }

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out ContractVersion? version)
    {
        version = All.FirstOrDefault(candidate => string.Equals(candidate.Text, text?.Trim(), StringComparison.Ordinal));
        return version is not null;
    }

    static ContractVersion IParsable<ContractVersion>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<ContractVersion>.TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider,
        [MaybeNullWhen(false)] out ContractVersion result) => TryParse(s, out result);

    public override string ToString() => Text;

    public int CompareTo(ContractVersion? other) => other is null ? 1 : _age.CompareTo(other._age);

    public bool Equals(ContractVersion? other) => ReferenceEquals(this, other);

    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    public override int GetHashCode() => _age;

    public static bool operator ==(ContractVersion? left, ContractVersion? right) => ReferenceEquals(left, right);

    public static bool operator !=(ContractVersion? left, ContractVersion? right) => !ReferenceEquals(left, right);

    public static bool operator <(ContractVersion? left, ContractVersion? right) => Compare(left, right) < 0;

    public static bool operator <=(ContractVersion? left, ContractVersion? right) => Compare(left, right) <= 0;

    public static bool operator >(ContractVersion? left, ContractVersion? right) => Compare(left, right) > 0;

    public static bool operator >=(ContractVersion? left, ContractVersion? right) => Compare(left, right) >= 0;

    private static int Compare(ContractVersion? left, ContractVersion? right) =>
        left is null ? (right is null ? 0 : -1) : left.CompareTo(right);
}

/// <summary>
/// The versions a read body can have come from. Many bodies look the same in several versions
/// (an <c>IntegrationEnabled</c> body is identical in all five), so readers report a range, not a guess.
/// </summary>
public sealed record ContractVersionRange(ContractVersion Earliest, ContractVersion Latest)
{
    public static ContractVersionRange Exactly(ContractVersion version) => new(version, version);

    public static ContractVersionRange FromOnward(ContractVersion earliest) => new(earliest, ContractVersion.Latest);

    public static ContractVersionRange Any { get; } = new(ContractVersion.Oldest, ContractVersion.Latest);

    public bool IsExact => Earliest == Latest;

    public bool Contains(ContractVersion version) => version >= Earliest && version <= Latest;

    /// <summary><c>2019-05</c>, <c>2019-12 or later</c>, or <c>2021-01 to 2022-08</c>.</summary>
    public override string ToString() =>
        IsExact ? Earliest.Text
        : Latest == ContractVersion.Latest ? $"{Earliest.Text} or later"
        : $"{Earliest.Text} to {Latest.Text}";
}
