namespace ConnectorEvents.Core.Messages;

/// <summary>Message ids, sent as <c>webhook-id</c>: time-ordered, so they sort like the outbox.</summary>
public static class MessageIds
{
    public static string New() => "msg_" + Guid.CreateVersion7().ToString("N");
}
