using ConnectorEvents.Core.Storage;
using Xunit;

namespace ConnectorEvents.Storage.Compliance;

/// <summary>Idempotency keys of management commands: one per caller and key while live, answered from what was recorded.</summary>
public abstract partial class StoreComplianceTests
{
    [Fact]
    public void An_idempotency_key_is_recorded_once_per_caller_its_answer_kept_and_an_expired_one_replaced()
    {
        var store = NewStore();
        byte[] hash = [1, 2, 3], answer = "{\"ClientToken\":\"shown-once\"}"u8.ToArray();
        var first = new IdempotentRequestRecord("admin", "k1", hash, T0, null);

        Assert.True(Write(store, tx => tx.TryInsertIdempotentRequest(first, T0.AddHours(-24))));
        Assert.False(Write(store, tx => tx.TryInsertIdempotentRequest(first with { RequestHash = [9] }, T0.AddHours(-24))));
        Assert.True(Write(store, tx => tx.TryInsertIdempotentRequest(first with { Caller = "reader-key" }, T0.AddHours(-24))));
        var found = Write(store, tx => tx.FindIdempotentRequest("admin", "k1"))!;
        Assert.Equal(hash, found.RequestHash);
        Assert.Equal(T0, found.CreatedUtc);
        Assert.Null(found.Response);
        Assert.Null(Write(store, tx => tx.FindIdempotentRequest("admin", "k2")));

        Write(store, tx => tx.SetIdempotentResponse("admin", "k1", answer));
        Assert.Equal(answer, Write(store, tx => tx.FindIdempotentRequest("admin", "k1"))!.Response);
        Assert.Null(Write(store, tx => tx.FindIdempotentRequest("reader-key", "k1"))!.Response);

        // Past its retention the key is free again: the record is replaced, without the old answer.
        var later = first with { RequestHash = [7], CreatedUtc = T0.AddDays(2) };
        Assert.True(Write(store, tx => tx.TryInsertIdempotentRequest(later, T0.AddDays(1))));
        var replaced = Write(store, tx => tx.FindIdempotentRequest("admin", "k1"))!;
        Assert.Equal([7], replaced.RequestHash);
        Assert.Null(replaced.Response);

        // Swept with ingest's keys.
        Assert.Equal(1, Write(store, tx => tx.DeleteIngestsBefore(T0.AddDays(1), 100)));
        Assert.Null(Write(store, tx => tx.FindIdempotentRequest("reader-key", "k1")));
        Assert.NotNull(Write(store, tx => tx.FindIdempotentRequest("admin", "k1")));
    }
}
