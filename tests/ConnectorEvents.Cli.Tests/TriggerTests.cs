using System.Collections.Concurrent;
using System.Globalization;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Receiver;
using ConnectorEvents.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
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
    public async Task Trigger_with_a_whsk_secret_signs_v1a_which_the_receiver_sdk_verifies_with_the_whpk_public_key()
    {
        var pair = WebhookSigner.NewEd25519Secret();
        var handled = new ConcurrentQueue<Guid>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddConnectorEventsReceiver(o =>
        {
            o.PublicKeys.Add(pair.PublicKey);
            o.OnIntegrationCreated((e, _) =>
            {
                handled.Enqueue(e.Data.Integration.Id);
                return Task.CompletedTask;
            });
        });
        await using var receiver = builder.Build();
        receiver.MapConnectorWebhooks("/webhooks");
        await receiver.StartAsync(TestContext.Current.CancellationToken);
        var url = receiver.Urls.Single() + "/webhooks";

        var signed = await CliRun.RunAsync("trigger", "IntegrationCreated", "--url", url, "--secret", pair.SecretKey);
        var foreign = await CliRun.RunAsync("trigger", "IntegrationCreated", "--url", url, "--secret", WebhookSigner.NewEd25519Secret().SecretKey);
        var hmac = await CliRun.RunAsync("trigger", "IntegrationCreated", "--url", url, "--secret", Secret);
        await receiver.StopAsync(TestContext.Current.CancellationToken);

        Assert.True(signed.ExitCode == 0, signed.All);
        Assert.Contains($"(signed v1a; verify v1a with {pair.PublicKey})", signed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(pair.SecretKey, signed.All, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotAccepted, foreign.ExitCode);
        Assert.Contains("401", foreign.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotAccepted, hmac.ExitCode);
        Assert.Single(handled);
    }

    [Fact]
    public async Task Several_secrets_give_one_header_with_a_v1_and_a_v1a_entry_in_the_order_given()
    {
        var pair = WebhookSigner.NewEd25519Secret();
        await using var sink = await WebhookSink.StartAsync();

        var result = await CliRun.RunAsync("trigger", "IntegrationEnabled", "--url", sink.Url(), "--secret", Secret, "--secret", pair.SecretKey);

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("(signed v1 and v1a; verify v1a with", result.Output, StringComparison.Ordinal);
        var webhook = Assert.Single(sink.Received);
        var header = webhook.Header("webhook-signature");
        var entries = header.Split(' ');
        Assert.Equal(2, entries.Length);
        Assert.StartsWith("v1,", entries[0], StringComparison.Ordinal);
        Assert.StartsWith("v1a,", entries[1], StringComparison.Ordinal);
        var timestamp = webhook.Header("webhook-timestamp");
        Assert.True(CliRun.SignatureMatches(Secret, webhook.MessageId, timestamp, webhook.Body, header));
        Assert.True(CliRun.Ed25519SignatureMatches(pair.PublicKey, webhook.MessageId, timestamp, webhook.Body, header));
        Assert.False(CliRun.Ed25519SignatureMatches(pair.PublicKey, webhook.MessageId, timestamp, [.. webhook.Body, (byte)' '], header));
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
    [InlineData("--secret", "whsk_%%%notbase64", "not the base64 of 32 bytes")]
    [InlineData("--secret", "whsk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", "not the base64 of 32 bytes")]
    [InlineData("--secret", "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=", "which only verifies")]
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
