using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Xunit;

namespace ConnectorEvents.Storage.Compliance;

/// <summary>API keys: kept as digests, found by hash, listed oldest first, their last use kept, deleted for good.</summary>
public abstract partial class StoreComplianceTests
{
    private static ApiKeyRecord NewApiKey(string name, ApiKeyRole role, IReadOnlyList<Guid>? enterprises, int minute) =>
        new(Guid.NewGuid(), name, role, enterprises, TokenDigest.Of(Unique("cek_key")), T0.AddMinutes(minute), null);

    [Fact]
    public void Api_keys_round_trip_are_found_by_hash_and_are_gone_once_deleted()
    {
        var store = NewStore();
        var producer = NewApiKey("Producer", ApiKeyRole.Producer, [Guid.NewGuid(), Guid.NewGuid()], 2);
        var everywhere = NewApiKey("Producer everywhere", ApiKeyRole.Producer, null, 3);
        var reader = NewApiKey("Reader", ApiKeyRole.Reader, null, 1);
        Write(store, tx =>
        {
            tx.InsertApiKey(producer);
            tx.InsertApiKey(everywhere);
            tx.InsertApiKey(reader);
        });

        var listed = store.ListApiKeys();
        Assert.Equal([reader.Id, producer.Id, everywhere.Id], listed.Select(k => k.Id));
        AssertKey(producer, store.FindApiKeyByHash(producer.Key.Hash));
        AssertKey(everywhere, store.FindApiKeyByHash(everywhere.Key.Hash));
        AssertKey(reader, listed[0]);
        Assert.Null(store.FindApiKeyByHash(TokenDigest.HashOf("cek_unknown")));
        Assert.Null(store.FindApiKeyByHash(producer.Key.Prefix));

        Write(store, tx => tx.RecordApiKeyUse(producer.Id, T0.AddHours(2)));
        Write(store, tx => tx.RecordApiKeyUse(producer.Id, T0.AddHours(1))); // a late, older report does not go back
        Assert.Equal(T0.AddHours(2), store.FindApiKeyByHash(producer.Key.Hash)!.LastUsedUtc);
        Assert.Null(store.FindApiKeyByHash(reader.Key.Hash)!.LastUsedUtc);

        Assert.True(Write(store, tx => tx.DeleteApiKey(producer.Id)));
        Assert.False(Write(store, tx => tx.DeleteApiKey(producer.Id)));
        Assert.Null(store.FindApiKeyByHash(producer.Key.Hash));
        Assert.Equal([reader.Id, everywhere.Id], store.ListApiKeys().Select(k => k.Id));
    }

    [Fact]
    public void Two_api_keys_cannot_share_a_hash()
    {
        var store = NewStore();
        var first = NewApiKey("First", ApiKeyRole.Admin, null, 1);
        Write(store, tx => tx.InsertApiKey(first));
        Assert.ThrowsAny<Exception>(() => Write(store, tx => tx.InsertApiKey(first with { Id = Guid.NewGuid() })));
        Assert.Single(store.ListApiKeys());
    }

    private static void AssertKey(ApiKeyRecord expected, ApiKeyRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { EnterpriseIds = null }, actual with { EnterpriseIds = null });
        Assert.Equal(expected.EnterpriseIds, actual.EnterpriseIds);
    }
}
