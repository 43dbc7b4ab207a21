using System.Text.Json;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.General;

/// <summary>
/// Gathers logged General events into one message for one integration, applying the contract's rules: every
/// <c>*Added</c> is also its <c>*Updated</c>, a (Discriminator, Id) appears at most once, the order of first
/// appearance is kept, and only what the integration subscribes to is taken. Events the client's pinned version
/// cannot carry are set aside as withheld, so they can be shown. Full at <c>capacity</c> distinct events.
/// </summary>
public sealed class GeneralBatch(int capacity, EventSubscription subscription, ContractVersion version)
{
    private readonly List<GeneralEvent> _events = [];
    private readonly HashSet<(string, Guid)> _seen = [];
    private readonly List<GeneralEvent> _withheld = [];
    private readonly HashSet<(string, Guid)> _withheldSeen = [];
    private readonly Dictionary<(string, Guid), byte[]> _snapshots = [];
    private readonly List<(string Discriminator, Guid Id)> _snapshotOrder = [];
    private readonly List<GeneralEvent> _pending = new(2);

    public IReadOnlyList<GeneralEvent> Events => _events;

    /// <summary>Subscribed events the pinned contract version has no discriminator for.</summary>
    public IReadOnlyList<GeneralEvent> Withheld => _withheld;

    public bool IsFull => _events.Count >= capacity;

    /// <summary>
    /// Takes one logged event (and the <c>*Updated</c> it implies) unless that would go past the capacity; false means
    /// the message is full and the event belongs to the next one.
    /// </summary>
    public bool TryAdd(GeneralEventRecord logged)
    {
        ArgumentNullException.ThrowIfNull(logged);
        _pending.Clear();
        foreach (var discriminator in Expand(logged.Discriminator))
        {
            if (subscription.Includes(discriminator) && !_seen.Contains((discriminator, logged.EntityId)))
            {
                _pending.Add(GeneralEvent.For(discriminator, logged.EntityId));
            }
        }
        var deliverable = _pending.Count(e => version.KnowsGeneralDiscriminator(e.Discriminator));
        if (deliverable > 0 && _events.Count + deliverable > capacity && _events.Count > 0)
        {
            return false;
        }
        foreach (var generalEvent in _pending)
        {
            var key = (generalEvent.Discriminator, generalEvent.Value.Id);
            if (version.KnowsGeneralDiscriminator(generalEvent.Discriminator))
            {
                _seen.Add(key);
                _events.Add(generalEvent);
            }
            else if (_withheldSeen.Add(key))
            {
                _withheld.Add(generalEvent);
            }
        }
        if (subscription.Includes(logged.Discriminator) && version.KnowsGeneralDiscriminator(logged.Discriminator))
        {
            KeepSnapshot(logged); // also when the event itself was a repeat: its newer snapshot replaces the older
        }
        return true;
    }

    /// <summary>The 2021-01 <c>Entities</c> block: the latest snapshot of each entity the message names.</summary>
    public GeneralEntities Entities()
    {
        var serviceOrders = new List<ReservationEntity>();
        var resources = new List<ResourceEntity>();
        foreach (var (discriminator, id) in _snapshotOrder)
        {
            var json = _snapshots[(discriminator, id)];
            if (discriminator == GeneralDiscriminators.ServiceOrderUpdated)
            {
                serviceOrders.Add(JsonSerializer.Deserialize(json, ContractsJsonContext.Default.ReservationEntity)!);
            }
            else
            {
                resources.Add(JsonSerializer.Deserialize(json, ContractsJsonContext.Default.ResourceEntity)!);
            }
        }
        return new GeneralEntities(serviceOrders, resources);
    }

    private void KeepSnapshot(GeneralEventRecord logged)
    {
        var discriminator = logged.Discriminator;
        if (!version.HasGeneralEntities || logged.Entity is null)
        {
            return;
        }
        if (!_snapshots.ContainsKey((discriminator, logged.EntityId)))
        {
            _snapshotOrder.Add((discriminator, logged.EntityId));
        }
        _snapshots[(discriminator, logged.EntityId)] = logged.Entity; // the latest state wins
    }

    /// <summary>An <c>*Added</c> discriminator and, when the contract has one, its <c>*Updated</c> (BRIEF §2).</summary>
    public static IEnumerable<string> Expand(string discriminator)
    {
        ArgumentNullException.ThrowIfNull(discriminator);
        yield return discriminator;
        if (discriminator.EndsWith("Added", StringComparison.Ordinal))
        {
            var updated = string.Concat(discriminator.AsSpan(0, discriminator.Length - "Added".Length), "Updated");
            if (GeneralDiscriminators.IsKnown(updated))
            {
                yield return updated;
            }
        }
    }
}
