using ConnectorEvents.Core.Storage;
using Xunit;

namespace ConnectorEvents.Storage.Compliance;

/// <summary>What the operator console reads: messages by channel and creation time, and the newest attempts per endpoint.</summary>
public abstract partial class StoreComplianceTests
{
    [Fact]
    public void ListMessages_filters_by_channel_and_by_a_creation_window_with_the_cursor_and_the_other_filters()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var other = AddIntegration(store, seeded);
        // One message a minute, alternating channels and integrations; the creation time rises with the position.
        var messages = Enumerable.Range(0, 12).Select(i => Insert(store, NewMessage(seeded.Client.Id, i % 3 == 0 ? other.Id : seeded.Integration.Id,
            channel: i % 2 == 0 ? WebhookChannel.Integration : WebhookChannel.General) with { CreatedUtc = T0.AddMinutes(i) })).ToList();

        IReadOnlyList<string> Ids(MessageQuery query) => store.ListMessages(query).Select(m => m.Id).ToList();
        IReadOnlyList<string> Expected(Func<MessageRecord, bool> keep, int limit = 100, long before = long.MaxValue) =>
            messages.Where(m => m.Seq < before && keep(m)).OrderByDescending(m => m.Seq).Take(limit).Select(m => m.Id).ToList();

        Assert.Equal(Expected(m => m.Channel == WebhookChannel.General), Ids(new MessageQuery(null, null, null, null, 100, WebhookChannel.General)));
        Assert.Equal(Expected(m => m.CreatedUtc >= T0.AddMinutes(3) && m.CreatedUtc < T0.AddMinutes(8)),
            Ids(new MessageQuery(null, null, null, null, 100, null, T0.AddMinutes(3), T0.AddMinutes(8))));
        // A bound between two messages' times, one before the first and one after the last.
        Assert.Equal(Expected(m => m.CreatedUtc >= T0.AddMinutes(5.5)), Ids(new MessageQuery(null, null, null, null, 100, null, T0.AddMinutes(5.5))));
        Assert.Equal(Expected(_ => true), Ids(new MessageQuery(null, null, null, null, 100, null, T0.AddDays(-1))));
        Assert.Empty(Ids(new MessageQuery(null, null, null, null, 100, null, T0.AddDays(1))));
        Assert.Empty(Ids(new MessageQuery(null, null, null, null, 100, null, null, T0.AddDays(-1))));
        Assert.Equal(Expected(_ => true), Ids(new MessageQuery(null, null, null, null, 100, null, null, T0.AddDays(1))));
        // With the cursor, an integration and a channel: a page, then the next.
        var first = Ids(new MessageQuery(null, seeded.Integration.Id, null, null, 2, WebhookChannel.General, T0.AddMinutes(1), T0.AddMinutes(11)));
        Assert.Equal(Expected(m => m.IntegrationId == seeded.Integration.Id && m.Channel == WebhookChannel.General
            && m.CreatedUtc >= T0.AddMinutes(1) && m.CreatedUtc < T0.AddMinutes(11), limit: 2), first);
        var cursor = messages.Single(m => m.Id == first[^1]).Seq;
        Assert.Equal(Expected(m => m.IntegrationId == seeded.Integration.Id && m.Channel == WebhookChannel.General
                && m.CreatedUtc >= T0.AddMinutes(1) && m.CreatedUtc < T0.AddMinutes(11), before: cursor),
            Ids(new MessageQuery(null, seeded.Integration.Id, null, cursor, 100, WebhookChannel.General, T0.AddMinutes(1), T0.AddMinutes(11))));
        // With a status (its own index): the window still holds.
        Write(store, tx => tx.UpdateProgress(new MessageProgress(messages[4].Seq, MessageStatus.Failed, "Gone.", 1, null, T0.AddHours(1))));
        Write(store, tx => tx.UpdateProgress(new MessageProgress(messages[9].Seq, MessageStatus.Failed, "Gone.", 1, null, T0.AddHours(1))));
        Assert.Equal([messages[4].Id], Ids(new MessageQuery(null, null, MessageStatus.Failed, null, 100, null, null, T0.AddMinutes(6))));
        Assert.Equal([messages[9].Id], Ids(new MessageQuery(seeded.Client.Id, null, MessageStatus.Failed, null, 100, WebhookChannel.General)));
    }

    [Fact]
    public void TallyRecentAttempts_counts_each_endpoints_attempts_failures_and_last_outcomes_among_the_newest_only()
    {
        var store = NewStore();
        var seeded = Seed(store);
        var otherClient = NewClient("Other App");
        Write(store, tx => tx.InsertClient(otherClient));
        var otherIntegration = AddIntegration(store, seeded, otherClient);
        var integration = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id));
        var general = Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id, channel: WebhookChannel.General));
        var others = Insert(store, NewMessage(otherClient.Id, otherIntegration.Id));
        Assert.Empty(store.TallyRecentAttempts(100));

        AttemptRecord Attempt(MessageRecord message, int number, int? status, string? error = null) =>
            new(message.Seq, number, T0.AddMinutes(number), 2, "https://hooks.example.com/", status, error, error, null);
        Write(store, tx =>
        {
            tx.RecordAttempt(Attempt(others, 1, 500)); // the oldest: out of a look back of 6
            tx.RecordAttempt(Attempt(integration, 1, 500));
            tx.RecordAttempt(Attempt(integration, 2, null, "Timeout"));
            tx.RecordAttempt(Attempt(integration, 3, 200));
            tx.RecordAttempt(Attempt(general, 4, 204));
            tx.RecordAttempt(Attempt(others, 5, 200));
            tx.RecordAttempt(Attempt(general, 6, 410));
        });

        var tally = store.TallyRecentAttempts(6).OrderBy(t => t.ClientId == otherClient.Id).ThenBy(t => t.Channel).ToList();
        Assert.Equal(
        [
            new EndpointTally(seeded.Client.Id, WebhookChannel.Integration, 3, 2, T0.AddMinutes(2), T0.AddMinutes(3)),
            new EndpointTally(seeded.Client.Id, WebhookChannel.General, 2, 1, T0.AddMinutes(6), T0.AddMinutes(4)),
            new EndpointTally(otherClient.Id, WebhookChannel.Integration, 1, 0, null, T0.AddMinutes(5)),
        ], tally);
        Assert.Equal(2, store.TallyRecentAttempts(7).Single(t => t.ClientId == otherClient.Id).Attempts);
    }
}
