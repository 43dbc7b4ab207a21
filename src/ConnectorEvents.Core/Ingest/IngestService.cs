using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Realtime;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Core.Telemetry;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Ingest;

/// <summary>A General event as a producer reports it; <paramref name="Entity"/> is the snapshot for 2021-01 clients.</summary>
public sealed record IngestedGeneralEvent(string Discriminator, Guid EntityId, byte[]? Entity);

/// <summary>One producer request: what happened in one enterprise, in order.</summary>
public sealed record IngestBatch(Guid EnterpriseId, IReadOnlyList<IngestedGeneralEvent> GeneralEvents, IReadOnlyList<WebSocketEvent> WebSocketEvents);

/// <summary>The answer to an accepted batch; a retry with the same idempotency key gets this same answer.</summary>
/// <param name="IntegrationCount">
/// The Enabled integrations the General events reach: subscribed to one of them, known to the client's pinned version, and
/// with a General-Webhook URL to send to. Zero says nobody will receive them (no Enabled integration, no URL).
/// </param>
/// <param name="MessageCount">
/// The General messages they fill: one per integration reached, more when one takes more events than a message holds
/// (<c>Delivery:General:MaxEventsPerMessage</c>). An estimate when events wait together (a message in flight, a
/// <c>Delivery:General:BatchWindow</c>): they then share messages with the events before and after them.
/// </param>
public sealed record IngestReceipt(
    Guid EnterpriseId, int GeneralEventCount, int WebSocketEventCount, int IntegrationCount, int MessageCount, DateTimeOffset AcceptedUtc);

public sealed record IngestOutcome(IngestReceipt Receipt, bool Replayed);

/// <summary>
/// Accepts producers' events. General events go to the enterprise's event log in one group-committed transaction
/// (with the idempotency key, when given) and are answered only after that commit; then the enterprise's Enabled
/// integrations are woken to form their messages, and WebSocket events are pushed to the connected sockets.
/// </summary>
public sealed class IngestService(
    GroupCommitWriter writer, DeliveryDispatcher dispatcher, WebSocketHub webSockets, IOptions<IngestOptions> options,
    IOptions<DeliveryOptions> delivery, TimeProvider time, ConnectorTelemetry? telemetry = null)
{
    public const int MaxEventsPerRequest = 1000;

    /// <param name="requestBody">The raw body, so a reused key can be told apart from a true retry.</param>
    public Task<IngestOutcome> IngestAsync(IngestBatch batch, string? idempotencyKey, ReadOnlySpan<byte> requestBody)
    {
        ArgumentNullException.ThrowIfNull(batch);
        // Only a keyed request is ever compared with another.
        var hash = idempotencyKey is null ? [] : SHA256.HashData(requestBody);
        return writer.ExecuteAsync(tx =>
        {
            var now = time.GetUtcNow();
            // An Enabled integration proves the enterprise exists (a foreign key): one read, not two, where reads are round trips.
            IReadOnlyList<GeneralRoute> routes = batch.GeneralEvents.Count > 0 ? tx.ListGeneralRoutes(batch.EnterpriseId) : [];
            if (routes.Count == 0)
            {
                _ = tx.FindEnterprise(batch.EnterpriseId) ?? throw DomainException.NotFound("enterprise", batch.EnterpriseId);
            }
            var earlier = idempotencyKey is null ? null : tx.FindIngest(batch.EnterpriseId, idempotencyKey);
            if (earlier is not null && earlier.CreatedUtc > now - options.Value.IdempotencyKeyRetention)
            {
                if (!CryptographicOperations.FixedTimeEquals(earlier.RequestHash, hash))
                {
                    throw new DomainException(DomainErrorKind.Unprocessable,
                        "This Idempotency-Key was already used with a different body; use a new key for a new batch.");
                }
                return (Outcome: new IngestOutcome(JsonSerializer.Deserialize(earlier.Response, IngestJsonContext.Default.IngestReceipt)!, Replayed: true),
                    Wake: (IReadOnlyList<Guid>)[]);
            }
            var (integrations, messages) = Reach(batch.GeneralEvents, routes);
            var receipt = new IngestReceipt(batch.EnterpriseId, batch.GeneralEvents.Count, batch.WebSocketEvents.Count, integrations, messages,
                Instants.ToWholeSeconds(now));
            // With no Enabled integration nobody could ever receive them: enabling one starts it at the end of the log.
            if (routes.Count > 0)
            {
                tx.AppendGeneralEvents(batch.GeneralEvents
                    .Select(e => new GeneralEventRecord(0, batch.EnterpriseId, e.Discriminator, e.EntityId, e.Entity, now)).ToList());
            }
            if (batch.WebSocketEvents.Count > 0)
            {
                tx.PublishWebSocketEvents(batch.EnterpriseId, batch.WebSocketEvents); // to sockets on other processes
            }
            if (idempotencyKey is not null)
            {
                if (earlier is not null)
                {
                    tx.DeleteIngest(batch.EnterpriseId, idempotencyKey); // expired, not yet swept
                }
                tx.InsertIngest(new IngestRecord(batch.EnterpriseId, idempotencyKey, hash,
                    JsonSerializer.SerializeToUtf8Bytes(receipt, IngestJsonContext.Default.IngestReceipt), now));
            }
            return (Outcome: new IngestOutcome(receipt, Replayed: false), Wake: routes.Select(r => r.IntegrationId).ToList());
        }, afterCommit: result =>
        {
            if (result.Outcome.Replayed)
            {
                return;
            }
            telemetry?.EventsIngested(batch.GeneralEvents.Count + batch.WebSocketEvents.Count);
            dispatcher.EventsArrived(result.Wake);
            if (batch.WebSocketEvents.Count > 0)
            {
                webSockets.Publish(batch.EnterpriseId, batch.WebSocketEvents);
            }
        }, enterpriseId: batch.EnterpriseId).ContinueWith(t => t.GetAwaiter().GetResult().Outcome, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>How many of the Enabled integrations the events reach, and in how many General messages.</summary>
    private (int Integrations, int Messages) Reach(IReadOnlyList<IngestedGeneralEvent> events, IReadOnlyList<GeneralRoute> routes)
    {
        var capacity = delivery.Value.General.MaxEventsPerMessage;
        var (integrations, messages) = (0, 0);
        foreach (var route in routes.Where(r => r.HasGeneralWebhookUrl))
        {
            // A message holds each (Discriminator, Id) once.
            var taken = events.Where(e => route.GeneralEvents.Includes(e.Discriminator) && route.ContractVersion.KnowsGeneralDiscriminator(e.Discriminator))
                .Select(e => (e.Discriminator, e.EntityId)).Distinct().Count();
            if (taken > 0)
            {
                integrations++;
                messages += (taken + capacity - 1) / capacity;
            }
        }
        return (integrations, messages);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.Unspecified, Converters = [typeof(UtcSecondsConverter)])]
[JsonSerializable(typeof(IngestReceipt))]
internal sealed partial class IngestJsonContext : JsonSerializerContext;
