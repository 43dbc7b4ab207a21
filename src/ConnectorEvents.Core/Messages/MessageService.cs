using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Messages;

public sealed class MessageService(GroupCommitWriter writer, DeliveryDispatcher dispatcher)
{
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
            var queueSeq = tx.Requeue(message.Seq);
            return message with
            {
                Status = MessageStatus.Pending, StatusReason = null, QueueSeq = queueSeq, AttemptCount = 0,
                NextAttemptUtc = null, CompletedUtc = null,
            };
        }, message => dispatcher.Enqueue([
            new PendingMessage(message.Seq, message.Id, message.Channel, message.IntegrationId, message.ClientId, message.QueueSeq, 0, null, message.Body,
                message.CreatedUtc),
        ]));
}
