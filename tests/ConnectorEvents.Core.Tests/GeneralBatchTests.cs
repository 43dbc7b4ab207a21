using System.Text.Json;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.General;
using ConnectorEvents.Core.Storage;
using Xunit;

namespace ConnectorEvents.Core.Tests;

public sealed class GeneralBatchTests
{
    private static readonly Guid EnterpriseId = Guid.Parse("3ed9e2f3-4bba-4df6-8d41-ab1b009b6425");
    private static readonly DateTimeOffset T0 = new(2025, 8, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid CustomerId = Guid.Parse("35d4b117-4e60-44a3-9580-c582117eff98");
    private static readonly Guid OtherCustomerId = Guid.Parse("4ed4b117-4e60-44a3-9580-c582117eff99");
    private static readonly Guid ResourceId = Guid.Parse("20e00c32-d561-4008-8609-82d8aa525714");
    private static readonly Guid OtherResourceId = Guid.Parse("30e00c32-d561-4008-8609-82d8aa525715");
    private static readonly Guid ReservationId = Guid.Parse("bfee2c44-1f84-4326-a862-5289598f6e2d");
    private static readonly Guid OtherReservationId = Guid.Parse("cfee2c44-1f84-4326-a862-5289598f6e2e");
    private static readonly Guid PaymentId = Guid.Parse("a1b2c3d4-0000-4000-8000-000000000001");
    private static readonly Guid MessageId = Guid.Parse("a1b2c3d4-0000-4000-8000-000000000002");

    private static long _seq;

    private static GeneralEventRecord Logged(string discriminator, Guid entityId, byte[]? entity = null) =>
        new(Interlocked.Increment(ref _seq), EnterpriseId, discriminator, entityId, entity, T0);

    private static GeneralEvent Event(string discriminator, Guid id) => GeneralEvent.For(discriminator, id);

    private static GeneralBatch Batch(int capacity = 100, EventSubscription? subscription = null, ContractVersion? version = null) =>
        new(capacity, subscription ?? EventSubscription.All, version ?? ContractVersion.August2025);

    private static void AddAll(GeneralBatch batch, params GeneralEventRecord[] events)
    {
        foreach (var logged in events)
        {
            Assert.True(batch.TryAdd(logged), $"{logged.Discriminator} {logged.EntityId} did not fit");
        }
    }

    private static ReservationEntity Reservation(Guid id, string state) => Samples.Reservation() with { Id = id, State = state };

    private static ResourceEntity Resource(Guid id, string state) => Samples.Resource() with { Id = id, State = state };

    private static byte[] Snapshot(ReservationEntity reservation) =>
        JsonSerializer.SerializeToUtf8Bytes(reservation, ContractsJsonContext.Default.ReservationEntity);

    private static byte[] Snapshot(ResourceEntity resource) =>
        JsonSerializer.SerializeToUtf8Bytes(resource, ContractsJsonContext.Default.ResourceEntity);

    private static string Json(ReservationEntity reservation) =>
        JsonSerializer.Serialize(reservation, ContractsJsonContext.Default.ReservationEntity);

    private static string Json(ResourceEntity resource) =>
        JsonSerializer.Serialize(resource, ContractsJsonContext.Default.ResourceEntity);

    // Expand

    [Fact]
    public void Expand_adds_the_updated_discriminator_to_an_added_one_only_when_the_contract_has_it()
    {
        Assert.Equal([GeneralDiscriminators.CustomerAdded, GeneralDiscriminators.CustomerUpdated],
            GeneralBatch.Expand(GeneralDiscriminators.CustomerAdded));
        Assert.Equal([GeneralDiscriminators.MessageAdded], GeneralBatch.Expand(GeneralDiscriminators.MessageAdded));
        Assert.Equal([GeneralDiscriminators.CustomerUpdated], GeneralBatch.Expand(GeneralDiscriminators.CustomerUpdated));
        Assert.Equal([GeneralDiscriminators.ResourceUpdated], GeneralBatch.Expand(GeneralDiscriminators.ResourceUpdated));
        Assert.Equal(["ReservationAdded"], GeneralBatch.Expand("ReservationAdded")); // ReservationUpdated is no discriminator
        Assert.Equal(["customerAdded"], GeneralBatch.Expand("customerAdded")); // exact spelling only
    }

    [Fact]
    public void A_customer_added_is_delivered_with_its_customer_updated_and_a_message_added_alone()
    {
        var batch = Batch();

        AddAll(batch,
            Logged(GeneralDiscriminators.CustomerAdded, CustomerId),
            Logged(GeneralDiscriminators.MessageAdded, MessageId));

        Assert.Equal(
            [
                Event(GeneralDiscriminators.CustomerAdded, CustomerId),
                Event(GeneralDiscriminators.CustomerUpdated, CustomerId),
                Event(GeneralDiscriminators.MessageAdded, MessageId),
            ],
            batch.Events);
        Assert.Empty(batch.Withheld);
    }

    // Deduplication

    [Fact]
    public void Each_discriminator_and_id_appears_once_at_the_position_of_its_first_appearance()
    {
        var batch = Batch();

        AddAll(batch,
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId),
            Logged(GeneralDiscriminators.CustomerUpdated, CustomerId),
            Logged(GeneralDiscriminators.ResourceUpdated, OtherResourceId),
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId),
            Logged(GeneralDiscriminators.CustomerAdded, CustomerId), // its CustomerUpdated is already in
            Logged(GeneralDiscriminators.CustomerAdded, CustomerId),
            Logged(GeneralDiscriminators.PaymentUpdated, PaymentId),
            Logged(GeneralDiscriminators.CustomerUpdated, CustomerId));

        Assert.Equal(
            [
                Event(GeneralDiscriminators.ResourceUpdated, ResourceId),
                Event(GeneralDiscriminators.CustomerUpdated, CustomerId),
                Event(GeneralDiscriminators.ResourceUpdated, OtherResourceId),
                Event(GeneralDiscriminators.CustomerAdded, CustomerId),
                Event(GeneralDiscriminators.PaymentUpdated, PaymentId),
            ],
            batch.Events);
    }

    [Fact]
    public void The_same_id_under_two_discriminators_is_two_events()
    {
        var batch = Batch();

        AddAll(batch,
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId),
            Logged(GeneralDiscriminators.ResourceBlockUpdated, ResourceId));

        Assert.Equal(
            [Event(GeneralDiscriminators.ResourceUpdated, ResourceId), Event(GeneralDiscriminators.ResourceBlockUpdated, ResourceId)],
            batch.Events);
    }

    // Subscriptions

    [Fact]
    public void Subscribing_only_customer_updated_turns_a_customer_added_into_just_customer_updated()
    {
        var batch = Batch(subscription: EventSubscription.Only([GeneralDiscriminators.CustomerUpdated]));

        AddAll(batch,
            Logged(GeneralDiscriminators.CustomerAdded, CustomerId),
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId),
            Logged(GeneralDiscriminators.CustomerUpdated, OtherCustomerId),
            Logged(GeneralDiscriminators.CustomerUpdated, CustomerId));

        Assert.Equal(
            [Event(GeneralDiscriminators.CustomerUpdated, CustomerId), Event(GeneralDiscriminators.CustomerUpdated, OtherCustomerId)],
            batch.Events);
        Assert.Empty(batch.Withheld); // not subscribed is not withheld
    }

    [Fact]
    public void Subscribing_only_customer_added_does_not_bring_its_customer_updated()
    {
        var batch = Batch(subscription: EventSubscription.Only([GeneralDiscriminators.CustomerAdded]));

        AddAll(batch, Logged(GeneralDiscriminators.CustomerAdded, CustomerId));

        Assert.Equal([Event(GeneralDiscriminators.CustomerAdded, CustomerId)], batch.Events);
    }

    [Fact]
    public void An_empty_subscription_takes_every_event_and_keeps_none()
    {
        var batch = Batch(capacity: 1, subscription: EventSubscription.Only([]));

        AddAll(batch,
            Logged(GeneralDiscriminators.CustomerAdded, CustomerId),
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId),
            Logged(GeneralDiscriminators.PaymentUpdated, PaymentId));

        Assert.Empty(batch.Events);
        Assert.Empty(batch.Withheld);
        Assert.False(batch.IsFull);
    }

    // Capacity

    [Fact]
    public void TryAdd_refuses_an_event_that_no_longer_fits_and_leaves_the_batch_as_it_was()
    {
        var batch = Batch(capacity: 2);

        Assert.True(batch.TryAdd(Logged(GeneralDiscriminators.ResourceUpdated, ResourceId)));
        Assert.False(batch.IsFull);
        Assert.True(batch.TryAdd(Logged(GeneralDiscriminators.PaymentUpdated, PaymentId)));
        Assert.True(batch.IsFull);

        Assert.False(batch.TryAdd(Logged(GeneralDiscriminators.ResourceUpdated, OtherResourceId)));
        Assert.True(batch.TryAdd(Logged(GeneralDiscriminators.ResourceUpdated, ResourceId))); // a repeat takes no room

        Assert.Equal(
            [Event(GeneralDiscriminators.ResourceUpdated, ResourceId), Event(GeneralDiscriminators.PaymentUpdated, PaymentId)],
            batch.Events);
    }

    [Fact]
    public void A_customer_added_is_not_split_from_its_customer_updated_across_messages()
    {
        var batch = Batch(capacity: 3);
        AddAll(batch,
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId),
            Logged(GeneralDiscriminators.PaymentUpdated, PaymentId));

        Assert.False(batch.TryAdd(Logged(GeneralDiscriminators.CustomerAdded, CustomerId))); // needs two, one is left
        Assert.False(batch.IsFull);
        Assert.Equal(2, batch.Events.Count);

        var next = Batch(capacity: 3);
        AddAll(next, Logged(GeneralDiscriminators.CustomerAdded, CustomerId));
        Assert.Equal(
            [Event(GeneralDiscriminators.CustomerAdded, CustomerId), Event(GeneralDiscriminators.CustomerUpdated, CustomerId)],
            next.Events);
    }

    [Fact]
    public void A_customer_added_goes_into_an_empty_message_even_past_its_capacity()
    {
        var batch = Batch(capacity: 1);

        Assert.True(batch.TryAdd(Logged(GeneralDiscriminators.CustomerAdded, CustomerId)));

        Assert.Equal(
            [Event(GeneralDiscriminators.CustomerAdded, CustomerId), Event(GeneralDiscriminators.CustomerUpdated, CustomerId)],
            batch.Events);
        Assert.True(batch.IsFull);
        Assert.False(batch.TryAdd(Logged(GeneralDiscriminators.ResourceUpdated, ResourceId)));
    }

    [Fact]
    public void A_customer_added_whose_customer_updated_is_already_in_needs_one_place()
    {
        var batch = Batch(capacity: 2);
        AddAll(batch, Logged(GeneralDiscriminators.CustomerUpdated, CustomerId));

        Assert.True(batch.TryAdd(Logged(GeneralDiscriminators.CustomerAdded, CustomerId)));

        Assert.Equal(
            [Event(GeneralDiscriminators.CustomerUpdated, CustomerId), Event(GeneralDiscriminators.CustomerAdded, CustomerId)],
            batch.Events);
    }

    // Contract versions

    [Fact]
    public void Version_2021_01_carries_only_service_order_and_resource_updates_and_withholds_the_rest_once()
    {
        var batch = Batch(version: ContractVersion.January2021);

        AddAll(batch,
            Logged(GeneralDiscriminators.CustomerAdded, CustomerId),
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId),
            Logged(GeneralDiscriminators.PaymentUpdated, PaymentId),
            Logged(GeneralDiscriminators.CustomerAdded, CustomerId),
            Logged(GeneralDiscriminators.ServiceOrderUpdated, ReservationId),
            Logged(GeneralDiscriminators.MessageAdded, MessageId),
            Logged(GeneralDiscriminators.PaymentUpdated, PaymentId),
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId));

        Assert.Equal(
            [Event(GeneralDiscriminators.ResourceUpdated, ResourceId), Event(GeneralDiscriminators.ServiceOrderUpdated, ReservationId)],
            batch.Events);
        Assert.Equal(
            [
                Event(GeneralDiscriminators.CustomerAdded, CustomerId),
                Event(GeneralDiscriminators.CustomerUpdated, CustomerId),
                Event(GeneralDiscriminators.PaymentUpdated, PaymentId),
                Event(GeneralDiscriminators.MessageAdded, MessageId),
            ],
            batch.Withheld);
    }

    [Fact]
    public void Withheld_events_take_no_room_in_the_message()
    {
        var batch = Batch(capacity: 1, version: ContractVersion.January2021);

        Assert.True(batch.TryAdd(Logged(GeneralDiscriminators.ResourceUpdated, ResourceId)));
        Assert.True(batch.IsFull);
        Assert.True(batch.TryAdd(Logged(GeneralDiscriminators.CustomerAdded, CustomerId)));
        Assert.False(batch.TryAdd(Logged(GeneralDiscriminators.ServiceOrderUpdated, ReservationId)));

        Assert.Equal([Event(GeneralDiscriminators.ResourceUpdated, ResourceId)], batch.Events);
        Assert.Equal(
            [Event(GeneralDiscriminators.CustomerAdded, CustomerId), Event(GeneralDiscriminators.CustomerUpdated, CustomerId)],
            batch.Withheld);
    }

    [Fact]
    public void Only_subscribed_events_are_withheld()
    {
        var batch = Batch(
            subscription: EventSubscription.Only([GeneralDiscriminators.CustomerUpdated, GeneralDiscriminators.ResourceUpdated]),
            version: ContractVersion.January2021);

        AddAll(batch,
            Logged(GeneralDiscriminators.CustomerAdded, CustomerId),
            Logged(GeneralDiscriminators.PaymentUpdated, PaymentId),
            Logged(GeneralDiscriminators.ServiceOrderUpdated, ReservationId),
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId));

        Assert.Equal([Event(GeneralDiscriminators.ResourceUpdated, ResourceId)], batch.Events);
        Assert.Equal([Event(GeneralDiscriminators.CustomerUpdated, CustomerId)], batch.Withheld);
    }

    [Fact]
    public void Version_2019_12_has_no_general_message_so_everything_is_withheld()
    {
        var batch = Batch(capacity: 1, version: ContractVersion.December2019);

        AddAll(batch,
            Logged(GeneralDiscriminators.ServiceOrderUpdated, ReservationId, Snapshot(Reservation(ReservationId, "Confirmed"))),
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId),
            Logged(GeneralDiscriminators.CustomerAdded, CustomerId),
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId));

        Assert.Empty(batch.Events);
        Assert.False(batch.IsFull);
        Assert.Equal(
            [
                Event(GeneralDiscriminators.ServiceOrderUpdated, ReservationId),
                Event(GeneralDiscriminators.ResourceUpdated, ResourceId),
                Event(GeneralDiscriminators.CustomerAdded, CustomerId),
                Event(GeneralDiscriminators.CustomerUpdated, CustomerId),
            ],
            batch.Withheld);
        var entities = batch.Entities();
        Assert.Empty(entities.ServiceOrders!);
        Assert.Empty(entities.Resources!);
    }

    [Fact]
    public void Versions_from_2022_08_carry_every_discriminator()
    {
        foreach (var version in new[] { ContractVersion.August2022, ContractVersion.August2025 })
        {
            var batch = Batch(version: version);
            var logged = GeneralDiscriminators.All.Select((d, i) => Logged(d, new Guid(i + 1, 0, 0, new byte[8]))).ToArray();

            AddAll(batch, logged);

            var expected = logged.SelectMany(l => l.Discriminator == GeneralDiscriminators.CustomerAdded
                ? new[] { Event(l.Discriminator, l.EntityId), Event(GeneralDiscriminators.CustomerUpdated, l.EntityId) }
                : [Event(l.Discriminator, l.EntityId)]);
            Assert.Equal(expected, batch.Events);
            Assert.Empty(batch.Withheld);
        }
    }

    // Entities (2021-01)

    [Fact]
    public void Entities_of_2021_01_hold_the_latest_snapshot_of_each_entity_in_order_of_first_appearance()
    {
        var batch = Batch(version: ContractVersion.January2021);
        var confirmed = Reservation(ReservationId, "Confirmed");
        var started = Reservation(ReservationId, "Started");
        var other = Reservation(OtherReservationId, "Confirmed");
        var dirty = Resource(ResourceId, "Dirty");
        var clean = Resource(ResourceId, "Clean");
        var inspected = Resource(OtherResourceId, "Inspected");

        AddAll(batch,
            Logged(GeneralDiscriminators.ResourceUpdated, OtherResourceId, Snapshot(inspected)),
            Logged(GeneralDiscriminators.ServiceOrderUpdated, ReservationId, Snapshot(confirmed)),
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId, Snapshot(dirty)),
            Logged(GeneralDiscriminators.ServiceOrderUpdated, OtherReservationId, Snapshot(other)),
            Logged(GeneralDiscriminators.ServiceOrderUpdated, ReservationId, Snapshot(started)),
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId, Snapshot(clean)),
            Logged(GeneralDiscriminators.ServiceOrderUpdated, ReservationId)); // no snapshot: the last one stays

        var entities = batch.Entities();

        Assert.Equal([Json(started), Json(other)], entities.ServiceOrders!.Select(Json));
        Assert.Equal([Json(inspected), Json(clean)], entities.Resources!.Select(Json));
        Assert.Equal(
            [
                Event(GeneralDiscriminators.ResourceUpdated, OtherResourceId),
                Event(GeneralDiscriminators.ServiceOrderUpdated, ReservationId),
                Event(GeneralDiscriminators.ResourceUpdated, ResourceId),
                Event(GeneralDiscriminators.ServiceOrderUpdated, OtherReservationId),
            ],
            batch.Events);
    }

    [Fact]
    public void Entities_of_2021_01_leave_out_events_without_a_snapshot_and_events_that_did_not_fit()
    {
        var batch = Batch(capacity: 1, version: ContractVersion.January2021);
        var confirmed = Reservation(ReservationId, "Confirmed");
        var started = Reservation(ReservationId, "Started");

        Assert.True(batch.TryAdd(Logged(GeneralDiscriminators.ServiceOrderUpdated, ReservationId, Snapshot(confirmed))));
        Assert.False(batch.TryAdd(Logged(GeneralDiscriminators.ResourceUpdated, ResourceId, Snapshot(Resource(ResourceId, "Dirty")))));
        Assert.True(batch.TryAdd(Logged(GeneralDiscriminators.ServiceOrderUpdated, ReservationId, Snapshot(started)))); // a repeat fits

        var entities = batch.Entities();
        Assert.Equal([Json(started)], entities.ServiceOrders!.Select(Json));
        Assert.Empty(entities.Resources!);

        var withoutSnapshots = Batch(version: ContractVersion.January2021);
        AddAll(withoutSnapshots, Logged(GeneralDiscriminators.ResourceUpdated, ResourceId));
        Assert.Empty(withoutSnapshots.Entities().ServiceOrders!);
        Assert.Empty(withoutSnapshots.Entities().Resources!);
    }

    [Fact]
    public void Entities_of_2021_01_hold_only_subscribed_entities()
    {
        var batch = Batch(subscription: EventSubscription.Only([GeneralDiscriminators.ResourceUpdated]), version: ContractVersion.January2021);
        var dirty = Resource(ResourceId, "Dirty");

        AddAll(batch,
            Logged(GeneralDiscriminators.ServiceOrderUpdated, ReservationId, Snapshot(Reservation(ReservationId, "Confirmed"))),
            Logged(GeneralDiscriminators.ResourceUpdated, ResourceId, Snapshot(dirty)));

        var entities = batch.Entities();
        Assert.Empty(entities.ServiceOrders!);
        Assert.Equal([Json(dirty)], entities.Resources!.Select(Json));
    }

    [Fact]
    public void Other_versions_keep_no_entities()
    {
        foreach (var version in new[] { ContractVersion.August2022, ContractVersion.August2025 })
        {
            var batch = Batch(version: version);

            AddAll(batch,
                Logged(GeneralDiscriminators.ServiceOrderUpdated, ReservationId, Snapshot(Reservation(ReservationId, "Confirmed"))),
                Logged(GeneralDiscriminators.ResourceUpdated, ResourceId, Snapshot(Resource(ResourceId, "Dirty"))));

            Assert.Equal(2, batch.Events.Count);
            var entities = batch.Entities();
            Assert.Empty(entities.ServiceOrders!);
            Assert.Empty(entities.Resources!);
        }
    }
}
