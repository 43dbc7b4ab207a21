namespace ConnectorEvents.Contracts;

/// <summary>A ready body: <see cref="Name"/> is the action, discriminator or WebSocket event type it shows.</summary>
public sealed record SamplePayload(string Name, PayloadKind Kind, byte[] Body);

/// <summary>
/// Realistic bodies of every event a contract version documents, e.g. for a <c>trigger</c> command. Values come
/// from the documentation's examples, so each version's <c>IntegrationCreated</c> sample is its seed example byte for
/// byte; everything is fixed, so the same version always yields the same bytes.
/// </summary>
public static class Samples
{
    private static readonly IntegrationRef Integration = new(Guid.Parse("9e5e84e9-974d-4f16-9662-ab2200f27cb1"), "WebhookTEST");

    private static readonly Guid GeneralEnterpriseId = Guid.Parse("851df8c8-90f2-4c4a-8e01-a4fc46b25178");
    private static readonly Guid GeneralIntegrationId = Guid.Parse("c8bee838-7fb1-4f4e-8fac-ac87008b2f90");

    // Entity ids of the events-wh-general.md example; the docs show no resource block, so that id is made up.
    private static readonly Guid ReservationId = Guid.Parse("bfee2c44-1f84-4326-a862-5289598f6e2d");
    private static readonly Guid ResourceId = Guid.Parse("7cccbdc6-73cf-4cd4-8056-6fd00f4d9699");
    private static readonly Guid MessageId = Guid.Parse("4bfe4675-98a9-4428-9ea9-ae5300dbaa93");
    private static readonly Guid ResourceBlockId = Guid.Parse("5d2e9b4c-3f1a-4b7e-9c62-b0e1a7f4d813");
    private static readonly Guid CustomerId = Guid.Parse("c2f1d888-232e-49eb-87ac-5f75363af13b");
    private static readonly Guid PaymentId = Guid.Parse("a41e2d45-71bc-49b4-9a05-a3ac5f75735c");

    /// <summary>Every sample of <paramref name="version"/>: integration actions, then General discriminators, then WebSocket types.</summary>
    public static IReadOnlyList<SamplePayload> All(ContractVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        var samples = new List<SamplePayload>();
        foreach (var action in version.KnownIntegrationActions)
        {
            // Every action a version knows has a body in it.
            samples.Add(new(action, PayloadKind.IntegrationWebhook, IntegrationWebhookWriter.Write(version, action, IntegrationData(version, action))!));
        }
        foreach (var discriminator in version.KnownGeneralDiscriminators)
        {
            samples.Add(new(discriminator, PayloadKind.GeneralMessage, GeneralMessage(version, discriminator)));
        }
        // WebSocket messages are not pinned to a webhook contract version (the versions table covers webhooks only),
        // so every version offers the four documented types.
        foreach (var type in WebSocketEventTypes.All)
        {
            samples.Add(new(type, PayloadKind.WebSocketFrame, WebSocketFrameWriter.Write(new WebSocketFrame([WebSocketEvent(type)]))));
        }
        return samples;
    }

    /// <summary>The sample called <paramref name="name"/> (exact spelling) in <paramref name="version"/>, or null if it has none.</summary>
    public static SamplePayload? Find(ContractVersion version, string name) =>
        All(version).FirstOrDefault(sample => string.Equals(sample.Name, name, StringComparison.Ordinal));

    private static IntegrationWebhookData IntegrationData(ContractVersion version, string action) => action switch
    {
        IntegrationActions.Created => CreatedData(version),
        IntegrationActions.Deleted => new IntegrationDeletedData(new DateTimeOffset(2025, 8, 14, 9, 30, 0, TimeSpan.Zero), Integration),
        IntegrationActions.ApiKeyCreated => new IntegrationApiKeyCreatedData(Integration,
            "9E5E84E9974D4F169662AB2200F27CB1-7C1A52D0E94B4F3C8E2DB6A41F0C93E"),
        _ => new IntegrationStateData(Integration),
    };

    /// <summary>The data of each version's documented example (seed 001 for 2019-05, the shared example after).</summary>
    private static IntegrationCreatedData CreatedData(ContractVersion version) => version == ContractVersion.May2019
        ? new IntegrationCreatedData(
            new EnterpriseRef(Guid.Parse("851df8c8-90f2-4c4a-8e01-a4fc46b25178"), "Connector API Hotel"),
            null,
            new Requestor("Mews Integrations", "integrations@mewssystems.com"),
            "C66EF7B239D24632943D115EDE9CB810-EA00F8FD8294692C940F6B5A8F9453D",
            new DateTimeOffset(2019, 5, 24, 7, 35, 35, TimeSpan.Zero),
            true,
            new IntegrationRef(Guid.Parse("c66ef7b2-39d2-4632-943d-115ede9cb810"), "Example"))
        : new IntegrationCreatedData(
            new EnterpriseRef(Guid.Parse("8865aa96-f62d-4f9b-a912-ab2100f60f42"), "Sample Chain Hotel 1"),
            version >= ContractVersion.January2021
                ? new ServiceRef(Guid.Parse("9745ce3a-8dbb-4cc0-a550-55f9ff67b242"), "Accommodation")
                : null,
            null,
            "9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF",
            new DateTimeOffset(2019, 12, 13, 14, 42, 52, TimeSpan.Zero),
            true,
            Integration);

    private static byte[] GeneralMessage(ContractVersion version, string discriminator)
    {
        GeneralEvent[] events = discriminator switch
        {
            GeneralDiscriminators.ServiceOrderUpdated => [GeneralEvent.For(discriminator, ReservationId)],
            GeneralDiscriminators.ResourceUpdated => [GeneralEvent.For(discriminator, ResourceId)],
            GeneralDiscriminators.MessageAdded => [GeneralEvent.For(discriminator, MessageId)],
            GeneralDiscriminators.ResourceBlockUpdated => [GeneralEvent.For(discriminator, ResourceBlockId)],
            // A new customer is also an updated customer: the platform sends both, with the same id, together.
            GeneralDiscriminators.CustomerAdded =>
                [GeneralEvent.For(discriminator, CustomerId), GeneralEvent.For(GeneralDiscriminators.CustomerUpdated, CustomerId)],
            GeneralDiscriminators.CustomerUpdated => [GeneralEvent.For(discriminator, CustomerId)],
            GeneralDiscriminators.PaymentUpdated => [GeneralEvent.For(discriminator, PaymentId)],
            _ => throw new ArgumentOutOfRangeException(nameof(discriminator), discriminator, "No sample for this discriminator."),
        };
        var entities = discriminator switch
        {
            GeneralDiscriminators.ServiceOrderUpdated => new GeneralEntities([Reservation()], []),
            GeneralDiscriminators.ResourceUpdated => new GeneralEntities([], [Resource()]),
            _ => null,
        };
        // Only discriminators the version knows get here, so the writer always has a body.
        return GeneralWebhookWriter.Write(version, new GeneralWebhookMessage(GeneralEnterpriseId, GeneralIntegrationId, events), entities)!;
    }

    /// <summary>The reservation of seed 003's example: a snapshot for the 2021-01 <c>Entities.ServiceOrders</c>.</summary>
    public static ReservationEntity Reservation() => new()
    {
        Id = ReservationId,
        ServiceId = Guid.Parse("bd26d8db-86da-4f96-9efc-e5a4654a4a94"),
        GroupId = Guid.Parse("94843f6f-3be3-481b-a1c7-06458774c3df"),
        Number = "52",
        State = "Processed",
        Origin = "Connector",
        CreatedUtc = new DateTimeOffset(2016, 2, 20, 14, 58, 2, TimeSpan.Zero),
        UpdatedUtc = new DateTimeOffset(2016, 2, 20, 14, 58, 2, TimeSpan.Zero),
        StartUtc = new DateTimeOffset(2016, 2, 20, 13, 0, 0, TimeSpan.Zero),
        EndUtc = new DateTimeOffset(2016, 2, 22, 11, 0, 0, TimeSpan.Zero),
        RequestedCategoryId = Guid.Parse("773d5e42-de1e-43a0-9ce6-f940faf2303f"),
        AssignedResourceId = Guid.Parse("20e00c32-d561-4008-8609-82d8aa525714"),
        AssignedResourceLocked = false,
        RateId = Guid.Parse("ed4b660b-19d0-434b-9360-a4de2ea42eda"),
        AdultCount = 2,
        ChildCount = 0,
        CustomerId = Guid.Parse("35d4b117-4e60-44a3-9580-c582117eff98"),
    };

    /// <summary>The resource of seed 003's example: a snapshot for the 2021-01 <c>Entities.Resources</c>.</summary>
    public static ResourceEntity Resource() => new()
    {
        Id = ResourceId,
        IsActive = true,
        Name = "210",
        State = "Dirty",
        Descriptions = new Dictionary<string, string>(),
        CreatedUtc = new DateTimeOffset(2018, 9, 24, 7, 56, 56, TimeSpan.Zero),
        UpdatedUtc = new DateTimeOffset(2021, 3, 26, 3, 56, 37, TimeSpan.Zero),
        Data = new ResourceEntityData("Space", new SpaceResourceData("2", "")),
    };

    /// <summary>The events of the events-websockets.md example.</summary>
    private static WebSocketEvent WebSocketEvent(string type) => type switch
    {
        WebSocketEventTypes.DeviceCommand => new DeviceCommandEvent(Guid.Parse("2391a3df-1c61-4131-b6f8-c85b4234adcb"), "Pending"),
        WebSocketEventTypes.Reservation => new ReservationEvent(ReservationId, "Processed",
            new DateTimeOffset(2016, 2, 20, 13, 0, 0, TimeSpan.Zero), new DateTimeOffset(2016, 2, 22, 11, 0, 0, TimeSpan.Zero)),
        WebSocketEventTypes.Resource => new ResourceEvent(Guid.Parse("5ee074b1-6c86-48e8-915f-c7aa4702086f"), "Dirty"),
        WebSocketEventTypes.PriceUpdate => new PriceUpdateEvent(Guid.Parse("bd75f159-f22a-4685-abdb-aac0008e2af3"),
            new DateTimeOffset(2019, 9, 7, 22, 0, 0, TimeSpan.Zero), new DateTimeOffset(2019, 9, 7, 22, 0, 0, TimeSpan.Zero),
            Guid.Parse("9c6c0556-42bb-409a-86ca-6ca430773b99"), null),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "No sample for this WebSocket event type."),
    };
}
