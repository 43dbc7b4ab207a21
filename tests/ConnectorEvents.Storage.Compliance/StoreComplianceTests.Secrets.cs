using System.Security.Cryptography;
using System.Text;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Xunit;

namespace ConnectorEvents.Storage.Compliance;

/// <summary>Secrets at rest: what is encrypted comes back decrypted, survives a key rotation, and needs its key.</summary>
public abstract partial class StoreComplianceTests
{
    private static SecretProtector NewKey() => new(RandomNumberGenerator.GetBytes(SecretProtector.KeySize));

    /// <summary>A client with both URLs and two secrets, and one message of each kind that carries a token, committed.</summary>
    private static (ClientRecord Client, SigningSecretRecord[] Secrets, MessageRecord[] Messages) SeedSecrets(IConnectorStore store)
    {
        var seeded = Seed(store);
        var secrets = new[]
        {
            new SigningSecretRecord(seeded.Client.Id, "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), T0, T0.AddDays(1)),
            new SigningSecretRecord(seeded.Client.Id, "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), T0.AddHours(1), null),
        };
        Write(store, tx =>
        {
            foreach (var secret in secrets)
            {
                tx.InsertSecret(secret);
            }
        });
        var messages = new[]
        {
            Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id, eventType: IntegrationActions.Created) with
            {
                Body = Encoding.UTF8.GetBytes("""{"Action":"IntegrationCreated","Data":{"AccessToken":"SECRET-TOKEN-1"}}"""),
            }),
            Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id, eventType: IntegrationActions.ApiKeyCreated) with
            {
                Body = Encoding.UTF8.GetBytes("""{"Action":"IntegrationApiKeyCreated","Data":{"ApiKey":"SECRET-TOKEN-2"}}"""),
            }),
            Insert(store, NewMessage(seeded.Client.Id, seeded.Integration.Id, eventType: IntegrationActions.Disabled)),
        };
        return (seeded.Client, secrets, messages);
    }

    private static void AssertSecretsRead(IConnectorStore store, ClientRecord client, SigningSecretRecord[] secrets, MessageRecord[] messages)
    {
        Assert.Equal(client, store.FindClient(client.Id));
        Assert.Equal(client, Assert.Single(store.ListClients(10, null)));
        Assert.Equal(client, store.FindClientByTokenHash(client.ClientToken.Hash));
        Assert.Equal(client, Read(store, tx => tx.FindClient(client.Id)));
        Assert.Equal(secrets.OrderByDescending(s => s.CreatedUtc), store.ListSecrets(client.Id));
        foreach (var message in messages)
        {
            Assert.Equal(message.Body, store.FindMessage(message.Id)!.Body);
            Assert.Equal(message.Body, Read(store, tx => tx.FindMessage(message.Id))!.Body);
        }
        var pending = store.LoadPending(new DeliveryLane(messages[0].IntegrationId, WebhookChannel.Integration), 0, 10);
        Assert.Equal(messages.Select(m => m.Body), pending.Select(p => p.Body));
        Assert.Equal(messages.Select(m => m.Body),
            store.ListMessages(new MessageQuery(null, null, null, null, 10)).OrderBy(m => m.Seq).Select(m => m.Body));
    }

    [Fact]
    public void Urls_secrets_and_token_bearing_bodies_come_back_as_written_and_need_the_key()
    {
        var store = NewStore();
        var (client, secrets, messages) = SeedSecrets(store);
        AssertSecretsRead(store, client, secrets, messages);
        store.Dispose();

        // Under another key alone, nothing encrypted can be read: it was not stored as it was given.
        var stranger = Own(ReopenStore(NewKey()));
        Assert.Throws<SecretUnreadableException>(() => stranger.FindClient(client.Id));
        Assert.Throws<SecretUnreadableException>(() => stranger.ListSecrets(client.Id));
        Assert.Throws<SecretUnreadableException>(() => stranger.FindMessage(messages[0].Id));
        Assert.Throws<SecretUnreadableException>(() => stranger.FindMessage(messages[1].Id));
        Assert.Equal(messages[2].Body, stranger.FindMessage(messages[2].Id)!.Body); // carries no token: not encrypted
    }

    [Fact]
    public void A_new_key_reads_what_the_old_one_wrote_and_the_sweep_moves_every_value_to_it()
    {
        var store = NewStore();
        var (client, secrets, messages) = SeedSecrets(store);
        var updated = client with { GeneralWebhookUrl = null, Name = "Renamed" };
        Write(store, tx => tx.UpdateClient(updated));
        store.Dispose();

        var nextKey = RandomNumberGenerator.GetBytes(SecretProtector.KeySize);
        var rotated = Own(ReopenStore(new SecretProtector(nextKey, [SuiteKey])));
        AssertSecretsRead(rotated, updated, secrets, messages);

        // One URL, two secrets and two bodies are under the old key. Two rows a batch: the one client, then two secrets (a
        // full batch, so the table is read on), none, then two bodies, none.
        var (rewritten, unreadable) = SecretSweeps.Run(rotated, 2);
        Assert.Equal([1, 2, 0, 2, 0], rewritten);
        Assert.Empty(unreadable);
        AssertSecretsRead(rotated, updated, secrets, messages);
        rotated.Dispose();

        var newOnly = Own(ReopenStore(new SecretProtector(nextKey)));
        AssertSecretsRead(newOnly, updated, secrets, messages);
        Assert.Equal(0, SecretSweeps.Run(newOnly, 100).Rewritten.Sum());
        newOnly.Dispose();

        var oldOnly = Own(ReopenStore(Secrets));
        Assert.Throws<SecretUnreadableException>(() => oldOnly.FindClient(client.Id));
    }

    [Fact]
    public void The_sweep_names_and_leaves_every_value_whose_key_is_not_configured_and_goes_on()
    {
        var store = NewStore();
        var (client, secrets, messages) = SeedSecrets(store);
        var second = NewClient("Second");
        Write(store, tx => tx.InsertClient(second));
        store.Dispose();

        // A store that knows none of the keys: a batch of 1 row at a time reads every table to its end all the same.
        var blind = Own(ReopenStore(NewKey()));
        var (rewritten, unreadable) = SecretSweeps.Run(blind, 1);
        Assert.Equal(0, rewritten.Sum());
        // Both URLs of both clients, both secrets, both token-bearing bodies: named by column and row, never by value.
        Assert.Equal(4 + 2 + 2, unreadable.Count);
        Assert.Contains(unreadable, u => u.StartsWith(ProtectedColumns.IntegrationWebhookUrl(client.Id), StringComparison.Ordinal));
        Assert.Contains(unreadable, u => u.StartsWith(ProtectedColumns.MessageBody(messages[0].Id), StringComparison.Ordinal));
        Assert.All(unreadable, u => Assert.DoesNotContain("hooks.example.com", u, StringComparison.Ordinal));
        Assert.All(unreadable, u => Assert.DoesNotContain(secrets[0].Secret, u, StringComparison.Ordinal));
        blind.Dispose();
        Assert.Equal(client, Own(ReopenStore()).FindClient(client.Id));
        Assert.Equal(second, Own(ReopenStore()).FindClient(second.Id));
    }
}
