using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Messages;

/// <summary>What a recovery sent again; <see cref="More"/> says that Failed messages of the window remain (call again).</summary>
public sealed record RecoveryReceipt(int Recovered, bool More);

public sealed class MessageService(GroupCommitWriter writer, DeliveryDispatcher dispatcher, IConnectorStore store)
{
    /// <summary>Failed messages one recovery sends again at most; the next call goes on where it stopped.</summary>
    public const int MaxRecoveredPerCall = 1000;

    /// <summary>
    /// Sends every Failed message of a client or an integration created in the window again, in the order they were first
    /// queued, with their webhook-ids: each goes after what its integration has queued now.
    /// </summary>
    public async Task<RecoveryReceipt> RecoverAsync(FailedMessageQuery window)
    {
        ArgumentNullException.ThrowIfNull(window);
        var found = store.ListFailedMessages(window with { Limit = MaxRecoveredPerCall + 1 });
        var candidates = found.Take(MaxRecoveredPerCall).ToList();
        var recovered = await writer.ExecuteAsync(tx =>
        {
            var requeued = new List<PendingMessage>(candidates.Count);
            foreach (var candidate in candidates)
            {
                // Read again in the transaction: a retry or another recovery may have taken it meanwhile, or its integration been
                // deleted with its client or enterprise (a lane nobody would find again).
                if (tx.FindMessage(candidate.Id) is { Status: MessageStatus.Failed } message && tx.FindIntegration(message.IntegrationId) is not null)
                {
                    requeued.Add(Requeued(message, tx.Requeue(message.Seq)));
                }
            }
            return requeued;
        }, dispatcher.Enqueue).ConfigureAwait(false);
        return new RecoveryReceipt(recovered.Count, found.Count > MaxRecoveredPerCall);
    }

    private static PendingMessage Requeued(MessageRecord message, long queueSeq) =>
        new(message.Seq, message.Id, message.Channel, message.IntegrationId, message.ClientId, queueSeq, 0, null, message.Body, message.CreatedUtc);

    /// <summary>Sends a delivered or failed message again, with the same id, after what is queued now.</summary>
    public Task<MessageRecord> RetryAsync(string id) =>
        writer.ExecuteAsync(tx =>
        {
            var message = tx.FindMessage(id) ?? throw DomainException.NotFound("message", id);
            if (message.Status is MessageStatus.Pending)
            {
                throw new DomainException(DomainErrorKind.Conflict, "The message is still pending; it will be attempted as scheduled.");
            }
            if (message.Status is MessageStatus.Skipped)
            {
                throw new DomainException(DomainErrorKind.Conflict, $"The message was skipped: {message.StatusReason}");
            }
            if (tx.FindIntegration(message.IntegrationId) is null)
            {
                throw new DomainException(DomainErrorKind.Conflict, "The message's integration was deleted, with its client or enterprise.");
            }
            var queueSeq = tx.Requeue(message.Seq);
            return message with
            {
                Status = MessageStatus.Pending, StatusReason = null, QueueSeq = queueSeq, AttemptCount = 0,
                NextAttemptUtc = null, CompletedUtc = null,
            };
        }, message => dispatcher.Enqueue([Requeued(message, message.QueueSeq)]));
}
