using ConnectorEvents.Core;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Storage.Sqlite;
using ConnectorEvents.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary>The group-commit writer's batches and the SQLite write statements it reuses.</summary>
public sealed class WritePathTests
{
    [Fact]
    public async Task A_failing_posted_write_leaves_nothing_behind_and_its_batch_still_commits()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ce-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            using var store = new SqliteConnectorStore(Path.Combine(directory, "test.db"), TestSecrets.Protector());
            store.Migrate();
            using var writer = new GroupCommitWriter(store, NullLogger<GroupCommitWriter>.Instance);
            var now = DateTimeOffset.UtcNow;
            EnterpriseRecord Enterprise(string name) => new(Guid.NewGuid(), name, now);
            var (kept, partial, refused, after) = (Enterprise("Kept"), Enterprise("Partial"), Enterprise("Refused"), Enterprise("After"));

            // Hold the writer so that the units below queue up and share one batch.
            using var gate = new ManualResetEventSlim();
            var held = writer.ExecuteAsync(_ => gate.Wait(TimeSpan.FromSeconds(10)));
            var first = writer.ExecuteAsync(tx => { tx.InsertEnterprise(kept); return true; });
            writer.Post(tx =>
            {
                tx.InsertEnterprise(partial);
                throw new InvalidOperationException("A posted write fails half-way.");
            });
            var refusedTask = writer.ExecuteAsync<bool>(tx =>
            {
                tx.InsertEnterprise(refused);
                throw new DomainException(DomainErrorKind.Conflict, "Refused.");
            });
            var last = writer.ExecuteAsync(tx => { tx.InsertEnterprise(after); return true; });
            gate.Set();

            Assert.True(await held);
            Assert.True(await first);
            Assert.True(await last);
            await Assert.ThrowsAsync<DomainException>(() => refusedTask);
            Assert.NotNull(store.FindEnterprise(kept.Id));
            Assert.NotNull(store.FindEnterprise(after.Id));
            Assert.Null(store.FindEnterprise(partial.Id));
            Assert.Null(store.FindEnterprise(refused.Id));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task State_changes_and_a_regenerated_access_token_are_stored()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync();
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);

        await server.PostAsync($"/api/v1/integrations/{id}/disable");
        var regenerated = await server.PostAsync($"/api/v1/integrations/{id}/regenerate-access-token");
        var stored = await server.GetAsync($"/api/v1/integrations/{id}");

        Assert.Equal("Disabled", (string)stored["State"]!);
        // The token itself is shown once, in the answer that issued it; afterwards only its prefix.
        Assert.Null(stored["AccessToken"]);
        Assert.Equal(TokenDigest.PrefixOf((string)regenerated["AccessToken"]!), (string)stored["AccessTokenPrefix"]!);
        Assert.Equal(enterpriseId.ToString(), (string)stored["EnterpriseId"]!);
        Assert.Equal(clientId.ToString(), (string)stored["ClientId"]!);
        await sink.WaitForAsync(3);
    }

    [Fact]
    public async Task The_dispatcher_records_the_queue_position_each_SQLite_lane_is_settled_through()
    {
        await using var sink = await WebhookSink.StartAsync();
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Storage:Provider"] = "Sqlite" });
        var (enterpriseId, clientId, _) = await server.SeedAsync(sink.Url());
        var id = await server.CreateIntegrationAsync(enterpriseId, clientId);
        // 70 messages in one lane: more than one recording interval (64), and its queue in memory runs empty at the end.
        for (var i = 0; i < 69; i++)
        {
            await server.PostAsync($"/api/v1/integrations/{id}/{(i % 2 == 0 ? "disable" : "enable")}");
        }
        await sink.WaitForAsync(70);

        var store = (SqliteConnectorStore)server.Services.GetRequiredService<IConnectorStore>();
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection(
            new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = store.DatabasePath, Pooling = false }.ToString());
        connection.Open();
        long Scalar(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("$i", id.ToString());
            return (long)command.ExecuteScalar()!;
        }
        var last = Scalar("SELECT MAX(queue_seq) FROM messages WHERE integration_id = $i");
        // The position commits with the last outcome, which may lag the sink's count by one group commit.
        await Delivery.WaitUntilAsync(
            () => Scalar("SELECT settled_through FROM lanes WHERE integration_id = $i AND channel = 'Integration'") == last,
            $"the lane settled through {last}");
    }
}
