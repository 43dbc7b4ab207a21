using System.Globalization;
using ConnectorEvents.Contracts;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Cli.Tests;

public sealed class TriggerTests
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    public static TheoryData<string> Versions() => [.. ContractVersion.All.Select(v => v.Text)];

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Every_event_of_every_version_arrives_signed_with_the_sample_body(string versionText)
    {
        var version = ContractVersion.Parse(versionText);
        var expected = Samples.All(version).Where(s => s.Kind != PayloadKind.WebSocketFrame).ToList();
        await using var sink = await WebhookSink.StartAsync();

        foreach (var sample in expected)
        {
            var result = await CliRun.RunAsync("trigger", sample.Name, "--url", sink.Url(), "--secret", Secret, "--version", versionText);
            Assert.True(result.ExitCode == 0, result.All);
        }

        await sink.WaitForAsync(expected.Count, TimeSpan.FromSeconds(10));
        var received = sink.Received;
        Assert.Equal(expected.Count, received.Count);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        for (var i = 0; i < expected.Count; i++)
        {
            var webhook = received[i];
            Assert.Equal(expected[i].Body, webhook.Body);
            Assert.Equal("application/json; charset=utf-8", webhook.Header("content-type"));
            Assert.StartsWith("msg_", webhook.MessageId, StringComparison.Ordinal);
            var timestamp = webhook.Header("webhook-timestamp");
            Assert.InRange(long.Parse(timestamp, CultureInfo.InvariantCulture), now - 120, now + 5);
            Assert.True(CliRun.SignatureMatches(Secret, webhook.MessageId, timestamp, webhook.Body, webhook.Header("webhook-signature")),
                $"{expected[i].Name} ({versionText}): signature does not verify");
        }
        Assert.Equal(received.Count, received.Select(r => r.MessageId).Distinct().Count());
    }

    [Fact]
    public async Task Trigger_all_sends_every_event_of_the_version_and_the_url_token()
    {
        await using var sink = await WebhookSink.StartAsync();
        var expected = Samples.All(ContractVersion.August2022).Where(s => s.Kind != PayloadKind.WebSocketFrame).ToList();

        var result = await CliRun.RunAsync("trigger", "all", "--url", sink.Url(), "--version", "2022-08", "--secret", Secret,
            "--token", "t0p-secret");

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal(expected.Select(s => s.Body), sink.Received.Select(r => r.Body));
        Assert.All(sink.Received, r => Assert.Equal("?Token=t0p-secret", r.QueryString));
        Assert.DoesNotContain("t0p-secret", result.All, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_non_2xx_answer_exits_4()
    {
        await using var sink = await WebhookSink.StartAsync();
        sink.Respond = (context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        };

        var result = await CliRun.RunAsync("trigger", "IntegrationCreated", "--url", sink.Url(), "--secret", Secret);

        Assert.Equal(ExitCodes.NotAccepted, result.ExitCode);
        Assert.Contains("500", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_url_exits_3_with_one_line()
    {
        var port = CliRun.FreePort();

        var result = await CliRun.RunAsync("trigger", "IntegrationCreated", "--url", $"http://127.0.0.1:{port}/hook", "--secret", Secret);

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("connection refused", line, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_event_fails_and_names_close_matches()
    {
        var result = await CliRun.RunAsync("trigger", "IntegrationCreatd", "--url", "http://127.0.0.1:9/");

        Assert.Equal(ExitCodes.InvalidInput, result.ExitCode);
        Assert.Contains("Unknown event 'IntegrationCreatd'", result.Error, StringComparison.Ordinal);
        Assert.Contains("IntegrationCreated", result.Error.Replace("'IntegrationCreatd'", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_event_the_version_does_not_know_says_from_which_version_it_exists()
    {
        var result = await CliRun.RunAsync("trigger", "IntegrationApiKeyCreated", "--version", "2022-08", "--url", "http://127.0.0.1:9/");

        Assert.Equal(ExitCodes.InvalidInput, result.ExitCode);
        Assert.Contains("from 2025-08", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--version", "2020-01", "Known versions: 2019-05, 2019-12, 2021-01, 2022-08, 2025-08")]
    [InlineData("--url", "not a url", "absolute http:// or https:// URL")]
    [InlineData("--url", "ftp://127.0.0.1/", "absolute http:// or https:// URL")]
    [InlineData("--secret", "whsec_%%%notbase64", "not valid base64")]
    [InlineData("--secret", "sk_live_abc", "does not start with 'whsec_'")]
    public async Task Bad_input_fails_with_a_clear_message_and_never_echoes_the_secret(string option, string value, string message)
    {
        string[] args = option == "--url"
            ? ["trigger", "IntegrationCreated", "--url", value]
            : ["trigger", "IntegrationCreated", "--url", "http://127.0.0.1:9/", option, value];

        var result = await CliRun.RunAsync(args);

        Assert.Equal(ExitCodes.InvalidInput, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        if (option == "--secret")
        {
            Assert.DoesNotContain(value, result.All, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_unknown_option_is_a_syntax_error()
    {
        var result = await CliRun.RunAsync("trigger", "--bogus", "--url", "http://127.0.0.1:9/");

        Assert.Equal(ExitCodes.Syntax, result.ExitCode);
        Assert.Contains("Unknown option '--bogus'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_websocket_event_is_not_sent_as_a_webhook()
    {
        var result = await CliRun.RunAsync("trigger", "DeviceCommand", "--url", "http://127.0.0.1:9/");

        Assert.Equal(ExitCodes.InvalidInput, result.ExitCode);
        Assert.Contains("WebSocket", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_shows_the_events_a_version_knows()
    {
        var latest = await CliRun.RunAsync("trigger", "--list", "--version", "2025-08");
        var older = await CliRun.RunAsync("trigger", "--list", "--version", "2022-08");

        Assert.Equal(0, latest.ExitCode);
        Assert.Equal(0, older.ExitCode);
        Assert.Contains("IntegrationApiKeyCreated", latest.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("IntegrationApiKeyCreated", older.Output, StringComparison.Ordinal);
        Assert.Contains("PaymentUpdated", older.Output, StringComparison.Ordinal);
    }
}
