using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConnectorEvents.Contracts;

// The General message (events-wh-general.md; 2021-01 form in seed 003). Property order follows the documented
// examples, because receivers diff bodies against them.

/// <summary>One General Webhook body: the events that happened together for one integration of one enterprise.</summary>
public sealed record GeneralWebhookMessage(Guid EnterpriseId, Guid IntegrationId, IReadOnlyList<GeneralEvent> Events);

/// <summary>One event; every documented discriminator carries <see cref="EntityUpdatedData"/>.</summary>
public sealed record GeneralEvent(string Discriminator, EntityUpdatedData Value)
{
    public static GeneralEvent For(string discriminator, Guid entityId) => new(discriminator, new EntityUpdatedData(entityId));
}

/// <summary>The identifier of the added or updated entity; receivers fetch the entity through the API.</summary>
public sealed record EntityUpdatedData(Guid Id);

/// <summary>
/// 2021-01 only: the latest state of the entities the events name. Both lists are optional in seed 003; an
/// absent list is written as <c>null</c>. Unknown lists (e.g. a later entity kind) are kept in
/// <see cref="AdditionalProperties"/> so a relayed body loses nothing.
/// </summary>
public sealed record GeneralEntities(
    IReadOnlyList<ReservationEntity>? ServiceOrders = null,
    IReadOnlyList<ResourceEntity>? Resources = null)
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}

/// <summary>
/// A reservation as 2021-01 sent it in <c>Entities.ServiceOrders</c>: Reservation (ver 2017-04-12) with exactly the
/// fields of seed 003's example, in its order. Fields the example does not show (e.g. <c>ChannelNumber</c>,
/// <c>PersonCounts</c>) are kept in <see cref="AdditionalProperties"/> and written after the typed ones.
/// </summary>
public sealed record ReservationEntity
{
    public required Guid Id { get; init; }
    public required Guid ServiceId { get; init; }
    public required Guid GroupId { get; init; }
    public required string Number { get; init; }

    /// <summary>Service order state, e.g. <c>Confirmed</c>, <c>Started</c>, <c>Processed</c>.</summary>
    public required string State { get; init; }

    /// <summary>Reservation origin (ver 2017-04-12), e.g. <c>Connector</c>, <c>Distributor</c>.</summary>
    public required string Origin { get; init; }

    public required DateTimeOffset CreatedUtc { get; init; }
    public required DateTimeOffset UpdatedUtc { get; init; }
    public DateTimeOffset? CancelledUtc { get; init; }
    public required DateTimeOffset StartUtc { get; init; }
    public required DateTimeOffset EndUtc { get; init; }
    public DateTimeOffset? ReleasedUtc { get; init; }
    public required Guid RequestedCategoryId { get; init; }
    public Guid? AssignedResourceId { get; init; }
    public required bool AssignedResourceLocked { get; init; }
    public Guid? BusinessSegmentId { get; init; }
    public Guid? CompanyId { get; init; }
    public Guid? TravelAgencyId { get; init; }
    public Guid? AvailabilityBlockId { get; init; }
    public required Guid RateId { get; init; }
    public Guid? VoucherId { get; init; }
    public required int AdultCount { get; init; }
    public required int ChildCount { get; init; }
    public required Guid CustomerId { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}

/// <summary>
/// A resource as 2021-01 sent it in <c>Entities.Resources</c>, with exactly the fields of seed 003's example, in its
/// order. Fields the example does not show (e.g. <c>EnterpriseId</c>, <c>ExternalNames</c>) are kept in
/// <see cref="AdditionalProperties"/>.
/// </summary>
public sealed record ResourceEntity
{
    public required Guid Id { get; init; }
    public required bool IsActive { get; init; }
    public Guid? ParentResourceId { get; init; }
    public required string Name { get; init; }

    /// <summary>Resource state: <c>Dirty</c>, <c>Clean</c>, <c>Inspected</c>, <c>OutOfService</c>, <c>OutOfOrder</c>.</summary>
    public required string State { get; init; }

    /// <summary>Localized text: language code to description.</summary>
    public required IReadOnlyDictionary<string, string> Descriptions { get; init; }

    public required DateTimeOffset CreatedUtc { get; init; }
    public required DateTimeOffset UpdatedUtc { get; init; }
    public required ResourceEntityData Data { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}

/// <summary>
/// <c>Discriminator</c> is <c>Space</c>, <c>Object</c> or <c>Person</c>; the docs say <c>Value</c> is present only
/// for spaces, so it is null otherwise.
/// </summary>
public sealed record ResourceEntityData(string Discriminator, SpaceResourceData? Value);

public sealed record SpaceResourceData(string FloorNumber, string? LocationNotes)
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
