using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Cli.Tests;

/// <summary>The admin commands against a real server on loopback, delivering to a real sink.</summary>
public sealed partial class AdminCommandTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> NoEnvironment = [];
    private RunningServer _server = null!;
    private WebhookSink _sink = null!;

    public async ValueTask InitializeAsync()
    {
        _sink = await WebhookSink.StartAsync();
        _server = await RunningServer.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _sink.DisposeAsync();
    }

    private string Server => _server.BaseUri.ToString();

    private Task<CliResult> Admin(params string[] args) =>
        CliRun.RunWithEnvironmentAsync(NoEnvironment, [.. args, "--server", Server, "--api-key", RunningServer.AdminKey]);

    [GeneratedRegex("Created (?:client|integration) ([0-9a-f-]{36})")]
    private static partial Regex CreatedId();

    [Fact]
    public async Task Enterprises_clients_and_integrations_are_created_listed_shown_and_disabled()
    {
        var enterprise = await Admin("enterprises", "create", "--name", "CLI Hotel", "-q");
        Assert.True(enterprise.ExitCode == 0, enterprise.All);
        var enterpriseId = Guid.Parse(enterprise.Output.Trim()).ToString();

        var client = await Admin("clients", "create", "--name", "CLI App", "--integration-webhook-url", _sink.Url("/hook?Token=url-s3cret"));
        Assert.True(client.ExitCode == 0, client.All);
        var clientId = CreatedId().Match(client.Output).Groups[1].Value;
        Assert.Matches(@"ClientToken\s+\S{20,}", client.Output);
        Assert.Matches(@"SigningSecret\s+whsec_\S+", client.Output);
        Assert.Contains("shown only now", client.Output, StringComparison.Ordinal);
        Assert.Contains("Token=***", client.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("url-s3cret", client.Output, StringComparison.Ordinal);

        var integration = await Admin("integrations", "create", "--enterprise-id", enterpriseId, "--client-id", clientId, "--name", "CLI link");
        Assert.True(integration.ExitCode == 0, integration.All);
        var integrationId = CreatedId().Match(integration.Output).Groups[1].Value;
        Assert.Matches(@"AccessToken\s+\S{20,}", integration.Output);

        var enterprises = await Admin("enterprises", "list");
        var clients = await Admin("clients", "list");
        var integrations = await Admin("integrations", "list", "--enterprise-id", enterpriseId, "--state", "Enabled");
        var disabled = await Admin("integrations", "disable", integrationId);
        var again = await Admin("integrations", "disable", integrationId);
        var shown = await Admin("integrations", "show", integrationId, "--json");
        var byState = await Admin("integrations", "list", "--enterprise-id", enterpriseId, "--state", "Enabled");

        Assert.Contains(enterpriseId, enterprises.Output, StringComparison.Ordinal);
        Assert.Contains("CLI Hotel", enterprises.Output, StringComparison.Ordinal);
        Assert.Contains("CLI App", clients.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("url-s3cret", clients.Output, StringComparison.Ordinal);
        Assert.Matches($"{integrationId}.*CLI link.*Enabled", integrations.Output);
        Assert.Equal(0, disabled.ExitCode);
        Assert.Contains($"Integration {integrationId} is Disabled.", disabled.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Conflict, again.ExitCode);
        Assert.Single(again.Error.Trim().Split('\n'));
        Assert.Contains("(409)", again.Error, StringComparison.Ordinal);
        Assert.Equal("Disabled", (string?)JsonNode.Parse(shown.Output)!["State"]);
        Assert.Null(JsonNode.Parse(shown.Output)!["AccessToken"]);
        Assert.Contains("No integrations.", byState.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Messages_are_listed_shown_retried_and_paged_through_with_all()
    {
        var (enterpriseId, clientId, _) = await _server.SeedAsync(_sink.Url("/messages"), "Messages");
        var integrationId = (await _server.CreateIntegrationAsync(enterpriseId, clientId)).ToString();
        await Admin("integrations", "disable", integrationId);
        await _sink.WaitForAsync(2, TimeSpan.FromSeconds(20));
        var listed = JsonNode.Parse((await Admin("messages", "list", "--integration-id", integrationId, "--json")).Output)!["Messages"]!.AsArray();
        var created = listed.Single(m => (string?)m!["EventType"] == "IntegrationCreated")!;
        var messageId = (string)created["Id"]!;
        await _server.WaitForMessageAsync(messageId, "Delivered");

        var table = await Admin("messages", "list", "--integration-id", integrationId, "--status", "Delivered");
        var show = await Admin("messages", "show", messageId);
        var retry = await Admin("messages", "retry", messageId);
        await _sink.WaitForAsync(3, TimeSpan.FromSeconds(20));
        var all = await Admin("messages", "list", "--integration-id", integrationId, "--all", "--limit", "1", "--json");

        Assert.True(table.ExitCode == 0, table.All);
        Assert.Matches($"{messageId}.*Integration.*IntegrationCreated.*Delivered", table.Output);
        Assert.True(show.ExitCode == 0, show.All);
        Assert.Contains("IntegrationCreated", show.Output, StringComparison.Ordinal);
        Assert.Matches(@"\s1\s.*\s200\s", show.Output);
        Assert.Contains("    \"Action\": \"IntegrationCreated\",", show.Output, StringComparison.Ordinal);
        Assert.True(retry.ExitCode == 0, retry.All);
        Assert.Contains($"Message {messageId} is Pending again", retry.Output, StringComparison.Ordinal);
        Assert.Equal(messageId, _sink.Received[^1].MessageId);
        Assert.True(all.ExitCode == 0, all.All);
        Assert.Equal(2, JsonNode.Parse(all.Output)!["Messages"]!.AsArray().Count);
        Assert.Contains("2 messages in 3 pages.", all.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refusals_are_one_line_with_their_exit_code_and_never_show_the_key()
    {
        var missing = await Admin("integrations", "show", Guid.NewGuid().ToString());
        var badKey = await CliRun.RunWithEnvironmentAsync(NoEnvironment, "enterprises", "list", "--server", Server, "--api-key", "wrong-key-123456");
        var noKey = await CliRun.RunWithEnvironmentAsync(NoEnvironment, "enterprises", "list", "--server", Server);
        var badFilter = await Admin("messages", "list", "--status", "Lost");
        var down = await CliRun.RunWithEnvironmentAsync(NoEnvironment, "clients", "list",
            "--server", $"http://127.0.0.1:{CliRun.FreePort().ToString(CultureInfo.InvariantCulture)}", "--api-key", "k");

        Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
        Assert.Contains("Not found. No integration has the id", missing.Error, StringComparison.Ordinal);
        Assert.Contains("(404)", missing.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Unauthorized, badKey.ExitCode);
        Assert.Contains("(401) Check --api-key or CONNECTOR_EVENTS_API_KEY.", badKey.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key-123456", badKey.All, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.InvalidInput, noKey.ExitCode);
        Assert.Contains("No API key", noKey.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotAccepted, badFilter.ExitCode);
        Assert.Contains("status", badFilter.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Unreachable, down.ExitCode);
        Assert.Contains("Cannot reach the server", down.Error, StringComparison.Ordinal);
        foreach (var result in new[] { missing, badKey, noKey, badFilter, down })
        {
            Assert.Empty(result.Output);
            Assert.Single(result.Error.Trim().Split('\n'));
            Assert.DoesNotContain(RunningServer.AdminKey, result.All, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_server_and_the_key_can_come_from_the_environment()
    {
        var environment = new Dictionary<string, string>
        {
            [AdminCommand.ServerVariable] = Server,
            [AdminCommand.ApiKeyVariable] = RunningServer.AdminKey,
        };

        var created = await CliRun.RunWithEnvironmentAsync(environment, "enterprises", "create", "--name", "Env Hotel", "--json");
        var listed = await CliRun.RunWithEnvironmentAsync(environment, "enterprises", "list");

        Assert.True(created.ExitCode == 0, created.All);
        Assert.Equal("Env Hotel", (string?)JsonNode.Parse(created.Output)!["Name"]);
        Assert.Contains("Env Hotel", listed.Output, StringComparison.Ordinal);
    }
}
