using System.Text;
using System.Text.Json.Nodes;
using ConnectorEvents.Contracts;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Cli.Tests;

/// <summary><c>trigger --override</c> and <c>--data</c>: the body sent is the one asked for, and it is what is signed.</summary>
public sealed class TriggerBodyTests
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    [Fact]
    public async Task Overrides_set_nested_values_and_array_items_and_the_signature_covers_the_changed_body()
    {
        await using var sink = await WebhookSink.StartAsync();
        const string id = "0b0e3d0c-9d5c-4b4e-8a5a-1d2f3e4a5b6c";

        var created = await CliRun.RunAsync("trigger", "IntegrationCreated", "--url", sink.Url(), "--secret", Secret,
            "--override", "Data.Enterprise.Name=Hôtel Foo", "--override", "Data.IsEnabled=false", "--override", "data.requestor={\"Name\":\"Ann\"}");
        var general = await CliRun.RunAsync("trigger", "CustomerAdded", "--url", sink.Url(), "--secret", Secret,
            "--override", $"Events[0].Value.Id={id}");

        Assert.True(created.ExitCode == 0, created.All);
        Assert.True(general.ExitCode == 0, general.All);
        await sink.WaitForAsync(2, TimeSpan.FromSeconds(10));
        var (first, second) = (sink.Received[0], sink.Received[1]);
        var createdBody = JsonNode.Parse(first.Body)!;
        Assert.Equal("Hôtel Foo", (string?)createdBody["Data"]!["Enterprise"]!["Name"]);
        Assert.False((bool)createdBody["Data"]!["IsEnabled"]!);
        Assert.Equal("Ann", (string?)createdBody["Data"]!["Requestor"]!["Name"]);
        Assert.Contains("Hôtel Foo", Encoding.UTF8.GetString(first.Body), StringComparison.Ordinal);
        Assert.Equal(id, (string?)JsonNode.Parse(second.Body)!["Events"]![0]!["Value"]!["Id"]);
        foreach (var webhook in sink.Received)
        {
            Assert.True(CliRun.SignatureMatches(Secret, webhook.MessageId, webhook.Header("webhook-timestamp"), webhook.Body,
                webhook.Header("webhook-signature")));
        }
        // Everything not overridden is the sample's.
        var sample = JsonNode.Parse(Samples.Find(ContractVersion.Default, "IntegrationCreated")!.Body)!;
        Assert.Equal((string?)sample["Data"]!["AccessToken"], (string?)createdBody["Data"]!["AccessToken"]);
    }

    [Fact]
    public async Task An_override_path_the_body_does_not_have_exits_2_naming_what_is_there()
    {
        await using var sink = await WebhookSink.StartAsync();

        var property = await CliRun.RunAsync("trigger", "IntegrationCreated", "--url", sink.Url(), "--override", "Data.Enterprize.Name=Foo");
        var index = await CliRun.RunAsync("trigger", "CustomerAdded", "--url", sink.Url(), "--override", "Events[9].Value.Id=x");
        var shape = await CliRun.RunAsync("trigger", "CustomerAdded", "--url", sink.Url(), "--override", "NoEquals");
        var all = await CliRun.RunAsync("trigger", "all", "--url", sink.Url(), "--override", "Action=X");

        Assert.Equal(ExitCodes.InvalidInput, property.ExitCode);
        Assert.Contains("--override path 'Data.Enterprize.Name' is not in the body: Data has no property 'Enterprize' (it has ", property.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.InvalidInput, index.ExitCode);
        Assert.Contains("Events has 2 items, no [9]", index.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.InvalidInput, shape.ExitCode);
        Assert.Contains("is not Path=Value", shape.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.InvalidInput, all.ExitCode);
        Assert.Empty(sink.Received);
        Assert.All(new[] { property, index, shape, all }, r => Assert.Single(r.Error.Trim().Split('\n')));
    }

    [Fact]
    public async Task Data_sends_the_files_bytes_unchanged_and_signed()
    {
        await using var sink = await WebhookSink.StartAsync();
        var file = Path.Combine(Path.GetTempPath(), $"ce-data-{Guid.NewGuid():N}.json");
        var bytes = Encoding.UTF8.GetBytes("{ \"Action\" : \"IntegrationEnabled\",\n  \"Data\": {\"Note\": \"spaced  as   written, é\"} }\n");
        await File.WriteAllBytesAsync(file, bytes, TestContext.Current.CancellationToken);
        try
        {
            var result = await CliRun.RunAsync("trigger", "--data", file, "--url", sink.Url(), "--secret", Secret);

            Assert.True(result.ExitCode == 0, result.All);
            var webhook = Assert.Single(sink.Received);
            Assert.Equal(bytes, webhook.Body);
            Assert.True(CliRun.SignatureMatches(Secret, webhook.MessageId, webhook.Header("webhook-timestamp"), webhook.Body,
                webhook.Header("webhook-signature")));
            Assert.Contains(Path.GetFileName(file), result.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Data_that_is_missing_or_not_json_exits_2_and_sends_nothing()
    {
        await using var sink = await WebhookSink.StartAsync();
        var missing = Path.Combine(Path.GetTempPath(), $"ce-missing-{Guid.NewGuid():N}.json");
        var notJson = Path.Combine(Path.GetTempPath(), $"ce-text-{Guid.NewGuid():N}.json");
        var twice = Path.Combine(Path.GetTempPath(), $"ce-twice-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(notJson, "Action=IntegrationEnabled", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(twice, """{"Action":"IntegrationEnabled","Action":"IntegrationDisabled"}""", TestContext.Current.CancellationToken);
        try
        {
            var absent = await CliRun.RunAsync("trigger", "--data", missing, "--url", sink.Url());
            var text = await CliRun.RunAsync("trigger", "--data", notJson, "--url", sink.Url());
            // Sent as is, a property named twice is the receiver's to judge; an override cannot tell which one it edits.
            var edited = await CliRun.RunAsync("trigger", "--data", twice, "--url", sink.Url(), "--override", "Action=X");

            Assert.Equal(ExitCodes.InvalidInput, edited.ExitCode);
            Assert.StartsWith($"--override cannot edit {twice}: ", edited.Error.Trim().Split('\n').Last().Replace("error: ", "", StringComparison.Ordinal),
                StringComparison.Ordinal);

            Assert.Equal(ExitCodes.InvalidInput, absent.ExitCode);
            Assert.Contains($"--data: cannot read '{missing}'", absent.Error, StringComparison.Ordinal);
            Assert.Equal(ExitCodes.InvalidInput, text.ExitCode);
            Assert.Contains($"--data: '{notJson}' is not JSON", text.Error, StringComparison.Ordinal);
            Assert.Empty(sink.Received);
        }
        finally
        {
            File.Delete(notJson);
            File.Delete(twice);
        }
    }
}
