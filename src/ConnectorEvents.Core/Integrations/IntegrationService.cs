using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.General;
using ConnectorEvents.Core.Messages;
using ConnectorEvents.Core.Realtime;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Core.Telemetry;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Integrations;

public sealed record CreateIntegration(
    Guid EnterpriseId, Guid ClientId, Guid? ServiceId, string? Name, bool IsEnabled, Requestor? Requestor);

/// <summary>An integration after a command, and the access token the command issued (create, regenerate), shown only here.</summary>
public sealed record IntegrationResult(IntegrationRecord Integration, string? IssuedAccessToken);

/// <summary>
/// Integration commands. Each accepted one writes the new state and its Integration Webhook to the outbox in one
/// transaction; a refused one writes nothing.
/// </summary>
public sealed class IntegrationService(
    GroupCommitWriter writer, DeliveryDispatcher dispatcher, WebSocketHub webSockets, IOptions<DeliveryOptions> options, TimeProvider time,
    ConnectorTelemetry? telemetry = null)
{
    // Bounds the General messages one command forms when it takes an integration out of Enabled (250 events each by default).
    private const int MaxMessagesFormedOnLeaving = 64;

    public Task<IntegrationResult> CreateAsync(CreateIntegration command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return Execute(null, tx =>
        {
            var enterprise = tx.FindEnterprise(command.EnterpriseId)
                ?? throw new DomainException(DomainErrorKind.Invalid, $"No enterprise has the id '{command.EnterpriseId}'.", "EnterpriseId");
            var client = tx.FindClient(command.ClientId)
                ?? throw new DomainException(DomainErrorKind.Invalid, $"No client has the id '{command.ClientId}'.", "ClientId");
            ServiceRecord? service = null;
            if (command.ServiceId is { } serviceId)
            {
                service = tx.FindService(serviceId);
                if (service is null || service.EnterpriseId != enterprise.Id)
                {
                    throw new DomainException(DomainErrorKind.Invalid,
                        $"The enterprise '{enterprise.Id}' has no service with the id '{serviceId}'.", "ServiceId");
                }
            }
            var now = Instants.ToWholeSeconds(time.GetUtcNow());
            var id = Guid.NewGuid();
            var accessToken = Tokens.For(id);
            var integration = new IntegrationRecord(
                id, command.Name ?? client.Name, enterprise.Id, service?.Id, client.Id, TokenDigest.Of(accessToken),
                command.IsEnabled ? IntegrationState.Enabled : IntegrationState.Disabled, command.IsEnabled,
                command.Requestor, now, now, null, EventSubscription.All, EventSubscription.All);
            tx.InsertIntegration(integration);
            // General events reach an integration from the moment it exists (and is Enabled), not before.
            tx.SetGeneralCursor(id, tx.LastGeneralEventSeq(enterprise.Id));
            var data = new IntegrationCreatedData(
                new EnterpriseRef(enterprise.Id, enterprise.Name),
                service is null ? null : new ServiceRef(service.Id, service.Name),
                command.Requestor,
                accessToken,
                integration.CreatedUtc,
                command.IsEnabled,
                Ref(integration));
            var created = Outbox(tx, client, integration, IntegrationActions.Created, data, now);
            return new Change(null, integration, created is null ? [] : [created], accessToken, IntegrationSkipped: created is null ? 1 : 0);
        });
    }

    public Task<IntegrationResult> ApplyAsync(Guid id, IntegrationCommand command) =>
        Execute(id, tx =>
        {
            var current = tx.FindIntegration(id) ?? throw DomainException.NotFound("integration", id);
            var transition = IntegrationStateMachine.Apply(current.State, current.EnabledBeforeCancel, command)
                ?? throw new DomainException(DomainErrorKind.Conflict,
                    $"Cannot {Verb(command)} an integration that is {current.State}; it must be {IntegrationStateMachine.AcceptedFrom(command)}.");
            var now = Instants.ToWholeSeconds(time.GetUtcNow());
            var updated = current with { State = transition.Next, UpdatedUtc = now };
            IntegrationWebhookData data;
            string? issued = null;
            switch (command)
            {
                case IntegrationCommand.Cancel:
                    updated = updated with { EnabledBeforeCancel = current.State == IntegrationState.Enabled };
                    data = new IntegrationStateData(Ref(updated));
                    break;
                case IntegrationCommand.Delete:
                    updated = updated with { DeletedUtc = now };
                    data = new IntegrationDeletedData(now, Ref(updated));
                    break;
                case IntegrationCommand.RegenerateAccessToken:
                    issued = Tokens.For(id);
                    updated = updated with { AccessToken = TokenDigest.Of(issued) };
                    data = new IntegrationApiKeyCreatedData(Ref(updated), issued);
                    break;
                default:
                    data = new IntegrationStateData(Ref(updated));
                    break;
            }
            List<PendingMessage> messages = [];
            var generalSkipped = 0;
            var leaving = current.State == IntegrationState.Enabled && updated.State != IntegrationState.Enabled;
            if (leaving)
            {
                // Events accepted while it was Enabled are its own: they become General messages now, before the state
                // change, or leaving Enabled would drop the ones not yet formed (enabling again starts at the log's end).
                generalSkipped = FormWaitingGeneralMessages(tx, id, now, messages);
            }
            // What happened while it was not Enabled is not sent. The log's end is read first, so that the cursor is
            // written right after the state: a store may then change the row once, not twice.
            long? cursor = updated.State == IntegrationState.Enabled && current.State != IntegrationState.Enabled
                ? tx.LastGeneralEventSeq(updated.EnterpriseId)
                : null;
            tx.UpdateIntegration(updated);
            if (cursor is { } enabledAt)
            {
                tx.SetGeneralCursor(id, enabledAt);
            }
            else if (leaving)
            {
                tx.TrimGeneralEvents(updated.EnterpriseId); // it no longer holds back the log
            }
            var client = tx.FindClient(updated.ClientId) ?? throw DomainException.NotFound("client", updated.ClientId);
            var webhook = Outbox(tx, client, updated, transition.Action, data, now);
            if (webhook is not null)
            {
                messages.Add(webhook);
            }
            return new Change(current, updated, messages, issued, IntegrationSkipped: webhook is null ? 1 : 0, generalSkipped);
        });

    /// <returns>The General messages recorded as Skipped meanwhile.</returns>
    private int FormWaitingGeneralMessages(IWriteTransaction tx, Guid integrationId, DateTimeOffset now, List<PendingMessage> messages)
    {
        var capacity = options.Value.General.MaxEventsPerMessage;
        var skipped = 0;
        for (var formed = 0; formed < MaxMessagesFormedOnLeaving; formed++)
        {
            var result = GeneralMessageFormation.Form(tx, integrationId, capacity, now, leavingEnabled: true);
            skipped += result.Skipped;
            if (result.Message is { } message)
            {
                messages.Add(message);
            }
            if (!result.MoreWaiting)
            {
                break;
            }
        }
        return skipped;
    }

    /// <summary>Sets which General discriminators and WebSocket event types the integration receives; null leaves one as it is.</summary>
    public async Task<IntegrationRecord> SubscribeAsync(Guid id, EventSubscription? generalEvents, EventSubscription? webSocketEvents) =>
        (await Execute(id, tx =>
        {
            var current = tx.FindIntegration(id) ?? throw DomainException.NotFound("integration", id);
            if (current.State == IntegrationState.Deleted)
            {
                throw new DomainException(DomainErrorKind.Conflict, "Cannot change the subscriptions of an integration that is Deleted.");
            }
            var updated = current with
            {
                GeneralEvents = generalEvents ?? current.GeneralEvents,
                WebSocketEvents = webSocketEvents ?? current.WebSocketEvents,
                UpdatedUtc = Instants.ToWholeSeconds(time.GetUtcNow()),
            };
            tx.UpdateIntegration(updated);
            return new Change(current, updated, [], null);
        }).ConfigureAwait(false)).Integration;

    /// <summary>What one command did: the integration before and after, its messages, and a token it issued.</summary>
    private sealed record Change(
        IntegrationRecord? Before, IntegrationRecord After, IReadOnlyList<PendingMessage> Messages, string? IssuedAccessToken,
        int IntegrationSkipped = 0, int GeneralSkipped = 0);

    private Task<IntegrationResult> Execute(Guid? integrationId, Func<IWriteTransaction, Change> work) =>
        writer.ExecuteAsync(work, integrationId: integrationId, afterCommit: result =>
        {
            if (telemetry is not null)
            {
                var integrationMessages = result.Messages.Count(m => m.Channel == WebhookChannel.Integration);
                telemetry.MessagesCreated(WebhookChannel.Integration, integrationMessages, result.IntegrationSkipped);
                telemetry.MessagesCreated(WebhookChannel.General, result.Messages.Count - integrationMessages, result.GeneralSkipped);
            }
            if (result.Messages.Count > 0)
            {
                dispatcher.Enqueue(result.Messages);
            }
            if (result.Before is not null)
            {
                webSockets.IntegrationChanged(result.After);
            }
        }).ContinueWith(t => new IntegrationResult(t.GetAwaiter().GetResult().After, t.GetAwaiter().GetResult().IssuedAccessToken), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>
    /// Writes the webhook to the outbox in the client's pinned contract version. It is recorded as skipped, with the
    /// reason and the body in the current version, when the client has no URL or its version does not know the action.
    /// </summary>
    private static PendingMessage? Outbox(
        IWriteTransaction tx, ClientRecord client, IntegrationRecord integration, string action, IntegrationWebhookData data,
        DateTimeOffset now)
    {
        var pinned = IntegrationWebhookWriter.Write(client.ContractVersion, action, data);
        var skipReason = client.IntegrationWebhookUrl is null ? "The client has no Integration-Webhook URL."
            : pinned is null ? $"The client is pinned to contract version {client.ContractVersion}, which has no {action}."
            : null;
        var body = pinned ?? IntegrationWebhookWriter.Write(ContractVersion.Latest, action, data)!;
        var send = skipReason is null;
        var message = new MessageRecord(0, MessageIds.New(), WebhookChannel.Integration, client.Id, integration.Id, action, body,
            send ? MessageStatus.Pending : MessageStatus.Skipped, skipReason, 0, 0, null, now, send ? null : now);
        var inserted = tx.InsertMessage(message);
        return send
            ? new PendingMessage(inserted.Seq, message.Id, WebhookChannel.Integration, integration.Id, client.Id, inserted.QueueSeq, 0, null, body, now)
            {
                PendingBefore = inserted.PendingBefore,
            }
            : null;
    }

    private static IntegrationRef Ref(IntegrationRecord integration) => new(integration.Id, integration.Name);


    private static string Verb(IntegrationCommand command) => command switch
    {
        IntegrationCommand.RegenerateAccessToken => "regenerate the access token of",
        _ => command.ToString().ToLowerInvariant(),
    };
}
