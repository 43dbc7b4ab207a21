using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Messages;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Integrations;

public sealed record CreateIntegration(
    Guid EnterpriseId, Guid ClientId, Guid? ServiceId, string? Name, bool IsEnabled, Requestor? Requestor);

/// <summary>
/// Integration commands. Each accepted one writes the new state and its Integration Webhook to the outbox in one
/// transaction; a refused one writes nothing.
/// </summary>
public sealed class IntegrationService(GroupCommitWriter writer, DeliveryDispatcher dispatcher, TimeProvider time)
{
    public Task<IntegrationRecord> CreateAsync(CreateIntegration command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return Execute(tx =>
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
            var now = Truncate(time.GetUtcNow());
            var id = Guid.NewGuid();
            var integration = new IntegrationRecord(
                id, command.Name ?? client.Name, enterprise.Id, service?.Id, client.Id, Tokens.For(id),
                command.IsEnabled ? IntegrationState.Enabled : IntegrationState.Disabled, command.IsEnabled,
                command.Requestor, now, now, null);
            tx.InsertIntegration(integration);
            var body = IntegrationWebhookWriter.Created(new IntegrationCreatedData(
                new EnterpriseRef(enterprise.Id, enterprise.Name),
                service is null ? null : new ServiceRef(service.Id, service.Name),
                command.Requestor,
                integration.AccessToken,
                integration.CreatedUtc,
                command.IsEnabled,
                Ref(integration)));
            return (integration, Outbox(tx, client, integration, IntegrationActions.Created, body, now));
        });
    }

    public Task<IntegrationRecord> ApplyAsync(Guid id, IntegrationCommand command) =>
        Execute(tx =>
        {
            var current = tx.FindIntegration(id) ?? throw DomainException.NotFound("integration", id);
            var transition = IntegrationStateMachine.Apply(current.State, current.EnabledBeforeCancel, command)
                ?? throw new DomainException(DomainErrorKind.Conflict,
                    $"Cannot {Verb(command)} an integration that is {current.State}; it must be {IntegrationStateMachine.AcceptedFrom(command)}.");
            var now = Truncate(time.GetUtcNow());
            var updated = current with { State = transition.Next, UpdatedUtc = now };
            byte[] body;
            switch (command)
            {
                case IntegrationCommand.Cancel:
                    updated = updated with { EnabledBeforeCancel = current.State == IntegrationState.Enabled };
                    body = IntegrationWebhookWriter.StateChanged(transition.Action, Ref(updated));
                    break;
                case IntegrationCommand.Delete:
                    updated = updated with { DeletedUtc = now };
                    body = IntegrationWebhookWriter.Deleted(new IntegrationDeletedData(now, Ref(updated)));
                    break;
                case IntegrationCommand.RegenerateAccessToken:
                    updated = updated with { AccessToken = Tokens.For(id) };
                    body = IntegrationWebhookWriter.ApiKeyCreated(new IntegrationApiKeyCreatedData(Ref(updated), updated.AccessToken));
                    break;
                default:
                    body = IntegrationWebhookWriter.StateChanged(transition.Action, Ref(updated));
                    break;
            }
            tx.UpdateIntegration(updated);
            var client = tx.FindClient(updated.ClientId) ?? throw DomainException.NotFound("client", updated.ClientId);
            return (updated, Outbox(tx, client, updated, transition.Action, body, now));
        });

    private Task<IntegrationRecord> Execute(Func<IWriteTransaction, (IntegrationRecord, PendingMessage?)> work) =>
        writer.ExecuteAsync(work, result =>
        {
            if (result.Item2 is { } message)
            {
                dispatcher.Enqueue([message]);
            }
        }).ContinueWith(t => t.GetAwaiter().GetResult().Item1, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>Writes the webhook to the outbox; a client without a URL gets it recorded as skipped.</summary>
    private static PendingMessage? Outbox(
        IWriteTransaction tx, ClientRecord client, IntegrationRecord integration, string action, byte[] body, DateTimeOffset now)
    {
        var hasUrl = client.IntegrationWebhookUrl is not null;
        var message = new MessageRecord(0, MessageIds.New(), WebhookChannel.Integration, client.Id, integration.Id, action, body,
            hasUrl ? MessageStatus.Pending : MessageStatus.Skipped,
            hasUrl ? null : "The client has no Integration-Webhook URL.",
            0, 0, null, now, hasUrl ? null : now);
        var (seq, queueSeq) = tx.InsertMessage(message);
        return hasUrl ? new PendingMessage(seq, message.Id, integration.Id, client.Id, queueSeq, 0, null, body) : null;
    }

    private static IntegrationRef Ref(IntegrationRecord integration) => new(integration.Id, integration.Name);

    private static DateTimeOffset Truncate(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    private static string Verb(IntegrationCommand command) => command switch
    {
        IntegrationCommand.RegenerateAccessToken => "regenerate the access token of",
        _ => command.ToString().ToLowerInvariant(),
    };
}
