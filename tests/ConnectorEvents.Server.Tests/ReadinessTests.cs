using System.Text.Json.Nodes;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Server.Tests;

/// <summary><c>/healthz/ready</c> says what an operator looks at first: storage, the writer's queue, delivery, leases, disk.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Readiness_answers_storage_writer_dispatcher_leases_and_disk_as_JSON_without_a_key()
    {
        await using var server = await RunningServer.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = server.BaseUri };
        await server.PostAsync("/api/v1/enterprises", new { Name = "Ready Hotel" }); // a commit to report

        var body = JsonNode.Parse(await anonymous.GetStringAsync("/healthz/ready", Delivery.Ct))!;

        Assert.Equal("Healthy", (string)body["Status"]!);
        Assert.Null(body["Reason"]);
        Assert.Equal(RunningServer.StorageUnderTest, (string)body["Storage"]!["Provider"]!);
        Assert.True((bool)body["Writer"]!["Running"]!);
        Assert.True((int)body["Writer"]!["Queued"]! >= 0);
        Assert.NotNull(body["Writer"]!["LastCommitUtc"]);
        Assert.Null(body["Writer"]!["Failure"]);
        Assert.True((bool)body["Dispatcher"]!["Running"]!);
        Assert.Equal(0, (int)body["Dispatcher"]!["Sending"]!);
        Assert.Equal(64, (int)body["Leases"]!["Partitions"]!);
        Assert.Equal(64, (int)body["Leases"]!["Held"]!); // the only process holds every partition
        if (RunningServer.StorageUnderTest == "Sqlite")
        {
            Assert.True((long)body["Disk"]!["FreeBytes"]! > 0);
        }
        else
        {
            Assert.Null(body["Disk"]!["FreeBytes"]);
        }
        Assert.DoesNotContain(server.DataDirectory, body.ToJsonString(), StringComparison.Ordinal);
    }
}
