using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Integrations;
using ConnectorEvents.Core.Messages;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.General;

/// <summary>What one formation produced: the message to send (if any) and whether more events wait behind it.</summary>
/// <param name="Skipped">Messages recorded as Skipped alongside (events the client's pinned version lacks).</param>
public sealed record FormedMessage(Guid? ClientId, PendingMessage? Message, bool MoreWaiting, bool Parked, int Skipped = 0);

/// <summary>
/// Turns the events an integration has not yet received into its next General message, inside a write transaction:
/// the message goes to the outbox and the integration's place in the enterprise's event log moves past what it took,
/// together, so an event is neither lost nor sent twice by a crash in between.
/// </summary>
public static class GeneralMessageFormation
{
    public const string EventType = "General";
    private const int PageSize = 512;

    // Bounds one formation's work on the writer thread when a subscription skips most of a long log; the rest is
    // taken by the next formation.
    private const int MaxPagesPerFormation = 8;

    /// <param name="leavingEnabled">
    /// The integration is about to leave Enabled (a disable, cancel or delete forms what it accepted first). Its cursor then
    /// matters no more (enabling it again moves the cursor to the log's end) and the caller trims the log once the state has
    /// changed, so a formation neither trims nor moves the cursor of a client without a General-Webhook URL: two round trips
    /// a disable saves on a database with them.
    /// </param>
    public static FormedMessage Form(IWriteTransaction tx, Guid integrationId, int capacity, DateTimeOffset now, bool leavingEnabled = false)
    {
        ArgumentNullException.ThrowIfNull(tx);
        var integration = tx.FindIntegration(integrationId);
        if (integration is null || integration.State != IntegrationState.Enabled)
        {
            // Not receiving; enabling moves its cursor to the end of the log.
            return new FormedMessage(integration?.ClientId, null, MoreWaiting: false, Parked: false);
        }
        var client = tx.FindClient(integration.ClientId)!;
        if (client.GeneralWebhookDisabledUtc is not null)
        {
            // The receiver answered 410: events wait in the log until the URL is set again.
            return new FormedMessage(client.Id, null, MoreWaiting: false, Parked: true);
        }
        var cursor = tx.GeneralCursor(integrationId);
        if (client.GeneralWebhookUrl is null && leavingEnabled)
        {
            return new FormedMessage(client.Id, null, MoreWaiting: false, Parked: false);
        }
        if (client.GeneralWebhookUrl is null)
        {
            // A client without a General-Webhook URL has not asked for General events: like an unsubscribed one.
            tx.SetGeneralCursor(integrationId, tx.LastGeneralEventSeq(integration.EnterpriseId));
            tx.TrimGeneralEvents(integration.EnterpriseId);
            return new FormedMessage(client.Id, null, MoreWaiting: false, Parked: false);
        }

        var batch = new GeneralBatch(capacity, integration.GeneralEvents, client.ContractVersion);
        var taken = cursor;
        var full = false;
        var exhausted = false;
        for (var pages = 0; pages < MaxPagesPerFormation && !full && !exhausted; pages++)
        {
            var page = tx.LoadGeneralEvents(integration.EnterpriseId, taken, PageSize);
            foreach (var logged in page)
            {
                if (!batch.TryAdd(logged))
                {
                    full = true;
                    break;
                }
                taken = logged.Seq;
            }
            exhausted = page.Count < PageSize;
        }
        var more = full || !exhausted;
        if (taken == cursor)
        {
            return new FormedMessage(client.Id, null, MoreWaiting: false, Parked: false);
        }
        tx.SetGeneralCursor(integrationId, taken);
        if (!leavingEnabled)
        {
            tx.TrimGeneralEvents(integration.EnterpriseId);
        }

        var skipped = batch.Withheld.Count > 0 ? 1 : 0;
        if (skipped > 0)
        {
            var withheld = new GeneralWebhookMessage(integration.EnterpriseId, integration.Id, batch.Withheld);
            var names = string.Join(", ", batch.Withheld.Select(e => e.Discriminator).Distinct(StringComparer.Ordinal));
            var reason = client.ContractVersion.HasGeneralMessage
                ? $"The client is pinned to contract version {client.ContractVersion}, which has no {names}."
                : $"The client is pinned to contract version {client.ContractVersion}, which has no General message.";
            tx.InsertMessage(new MessageRecord(0, MessageIds.New(), WebhookChannel.General, client.Id, integration.Id, EventType,
                GeneralWebhookWriter.Write(ContractVersion.Latest, withheld)!, MessageStatus.Skipped, reason, 0, 0, null, now, now));
        }
        if (batch.Events.Count == 0)
        {
            return new FormedMessage(client.Id, null, more, Parked: false, skipped);
        }
        var message = new GeneralWebhookMessage(integration.EnterpriseId, integration.Id, batch.Events);
        var body = GeneralWebhookWriter.Write(client.ContractVersion, message, batch.Entities())!;
        var record = new MessageRecord(0, MessageIds.New(), WebhookChannel.General, client.Id, integration.Id, EventType, body,
            MessageStatus.Pending, null, 0, 0, null, now, null);
        var inserted = tx.InsertMessage(record);
        return new FormedMessage(client.Id,
            new PendingMessage(inserted.Seq, record.Id, WebhookChannel.General, integration.Id, client.Id, inserted.QueueSeq, 0, null, body, now)
            {
                PendingBefore = inserted.PendingBefore,
            },
            more, Parked: false, skipped);
    }
}
