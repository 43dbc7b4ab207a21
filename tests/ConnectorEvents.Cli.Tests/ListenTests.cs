using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Testing;
using Xunit;

namespace ConnectorEvents.Cli.Tests;

public sealed class ListenTests
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    private static Task WaitUntilAsync(Func<bool> condition, string what) => SharedWriter.WaitUntilAsync(condition, what);

    private static async Task<(string Output, int TriggerExit, int ListenExit)> ListenAndTriggerAsync(string[] listenArgs, string[] triggerArgs)
    {
        var port = CliRun.FreePort();
        using var output = new SharedWriter();
        using var error = new SharedWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var listening = CliApp.RunAsync(["listen", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. listenArgs],
            output, error, stop.Token);
        await WaitUntilAsync(() => output.Text().Contains("Listening on", StringComparison.Ordinal) || listening.IsCompleted, "the listener to start");
        Assert.False(listening.IsCompleted, error.Text());

        var trigger = await CliRun.RunAsync(["trigger", .. triggerArgs, "--url", $"http://127.0.0.1:{port}/hook"]);
        await WaitUntilAsync(() => output.Text().Contains("webhook-id", StringComparison.Ordinal), "the webhook to be printed");

        await stop.CancelAsync();
        var listenExit = await listening.WaitAsync(TimeSpan.FromSeconds(15));
        return (output.Text(), trigger.ExitCode, listenExit);
    }

    [Fact]
    public async Task Listen_prints_a_triggered_webhook_as_verified_and_stops_cleanly()
    {
        var (output, triggerExit, listenExit) = await ListenAndTriggerAsync(["--secret", Secret],
            ["IntegrationApiKeyCreated", "--secret", Secret]);

        Assert.Equal(0, triggerExit);
        Assert.Equal(0, listenExit);
        Assert.Contains("IntegrationApiKeyCreated", output, StringComparison.Ordinal);
        Assert.Contains("WebhookTEST", output, StringComparison.Ordinal);
        Assert.Contains("contract 2025-08", output, StringComparison.Ordinal);
        Assert.Contains("verified ✓", output, StringComparison.Ordinal);
        Assert.DoesNotContain("NOT verified", output, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, output, StringComparison.Ordinal);
        Assert.Contains("Stopped", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2019-05")]
    [InlineData("2021-01")]
    [InlineData("2025-08")]
    public async Task Listen_receives_and_verifies_every_event_that_trigger_all_sends(string version)
    {
        var port = CliRun.FreePort();
        using var output = new SharedWriter();
        using var error = new SharedWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var listening = CliApp.RunAsync(["listen", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--secret", Secret],
            output, error, stop.Token);
        await WaitUntilAsync(() => output.Text().Contains("Listening on", StringComparison.Ordinal) || listening.IsCompleted, "the listener to start");
        Assert.False(listening.IsCompleted, error.Text());

        var trigger = await CliRun.RunAsync(["trigger", "all", "--version", version, "--secret", Secret, "--url", $"http://127.0.0.1:{port}/hook"]);
        var expected = EventCatalog.Webhooks(ContractVersion.Parse(version));
        int Count(string text, string what) => text.Split(what).Length - 1;
        await WaitUntilAsync(() => Count(output.Text(), "webhook-id") >= expected.Count, $"{expected.Count} webhooks to be printed");
        await stop.CancelAsync();
        await listening.WaitAsync(TimeSpan.FromSeconds(15));

        var text = output.Text();
        Assert.Equal(0, trigger.ExitCode);
        Assert.Equal(expected.Count, Count(text, "webhook-id"));
        Assert.Equal(expected.Count, Count(text, "verified ✓"));
        Assert.DoesNotContain("NOT verified", text, StringComparison.Ordinal);
        Assert.DoesNotContain("not an API Events body", text, StringComparison.Ordinal);
        foreach (var sample in expected)
        {
            Assert.Contains(sample.Name, text, StringComparison.Ordinal);
        }
        Assert.Contains($"contract {version}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listen_says_not_verified_when_the_secret_differs()
    {
        var (output, _, _) = await ListenAndTriggerAsync(["--secret", Secret],
            ["CustomerAdded", "--secret", "whsec_" + Convert.ToBase64String(new byte[24])]);

        Assert.Contains("NOT verified: no v1 signature matches the secret", output, StringComparison.Ordinal);
        Assert.Contains("CustomerAdded, CustomerUpdated", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listen_verifies_a_v1a_webhook_with_the_public_key_of_the_secret_key_trigger_signed_with()
    {
        var pair = WebhookSigner.NewEd25519Secret();

        var (output, triggerExit, listenExit) = await ListenAndTriggerAsync(["--public-key", pair.PublicKey],
            ["IntegrationCreated", "--secret", pair.SecretKey]);

        Assert.Equal(0, triggerExit);
        Assert.Equal(0, listenExit);
        Assert.Contains("verifying with 1 public key (v1a)", output, StringComparison.Ordinal);
        Assert.Contains("verified ✓", output, StringComparison.Ordinal);
        Assert.DoesNotContain("NOT verified", output, StringComparison.Ordinal);
        Assert.DoesNotContain(pair.SecretKey, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listen_refuses_a_v1a_webhook_under_another_public_key_or_with_only_a_secret()
    {
        var pair = WebhookSigner.NewEd25519Secret();

        var (otherKey, _, _) = await ListenAndTriggerAsync(["--public-key", WebhookSigner.NewEd25519Secret().PublicKey],
            ["IntegrationCreated", "--secret", pair.SecretKey]);
        var (onlySecret, _, _) = await ListenAndTriggerAsync(["--secret", Secret], ["IntegrationCreated", "--secret", pair.SecretKey]);
        var (both, _, _) = await ListenAndTriggerAsync(["--secret", Secret, "--public-key", pair.PublicKey],
            ["IntegrationCreated", "--secret", Secret, "--secret", WebhookSigner.NewEd25519Secret().SecretKey]);

        Assert.Contains("NOT verified: no v1a signature matches the public key", otherKey, StringComparison.Ordinal);
        Assert.Contains("NOT verified: only v1a (Ed25519) signatures, and no --public-key was given to check them", onlySecret, StringComparison.Ordinal);
        Assert.Contains("verifying with 1 secret (v1) and 1 public key (v1a)", both, StringComparison.Ordinal);
        Assert.Contains("verified ✓", both, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_of_the_wrong_kind_stops_listen_with_a_clear_message_and_never_echoes_a_secret()
    {
        var pair = WebhookSigner.NewEd25519Secret();

        var secretKeyAsSecret = await CliRun.RunAsync("listen", "--port", "0", "--secret", pair.SecretKey);
        var secretKeyAsPublicKey = await CliRun.RunAsync("listen", "--port", "0", "--public-key", pair.SecretKey);
        var hmacAsPublicKey = await CliRun.RunAsync("listen", "--port", "0", "--public-key", Secret);
        var shortPublicKey = await CliRun.RunAsync("listen", "--port", "0", "--public-key", "whpk_" + Convert.ToBase64String(new byte[31]));
        var publicKeyAsSecret = await CliRun.RunAsync("listen", "--port", "0", "--secret", pair.PublicKey);

        foreach (var result in new[] { secretKeyAsSecret, secretKeyAsPublicKey, hmacAsPublicKey, shortPublicKey, publicKeyAsSecret })
        {
            Assert.Equal(ExitCodes.InvalidInput, result.ExitCode);
            Assert.DoesNotContain("Listening on", result.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(pair.SecretKey, result.All, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, result.All, StringComparison.Ordinal);
        }
        // A public key is no secret: naming it tells the person what to pass instead.
        Assert.Contains($"--public-key {pair.PublicKey}", secretKeyAsSecret.Error, StringComparison.Ordinal);
        Assert.Contains($"--public-key {pair.PublicKey}", secretKeyAsPublicKey.Error, StringComparison.Ordinal);
        Assert.Contains("pass it with --secret", hmacAsPublicKey.Error, StringComparison.Ordinal);
        Assert.Contains("not the base64 of 32 bytes", shortPublicKey.Error, StringComparison.Ordinal);
        Assert.Contains("pass it with --public-key", publicKeyAsSecret.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listen_says_unsigned_without_secrets()
    {
        var (output, _, _) = await ListenAndTriggerAsync([], ["IntegrationEnabled"]);

        Assert.Contains("unsigned", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listen_answers_with_the_chosen_status_and_trigger_exits_non_zero()
    {
        var (output, triggerExit, listenExit) = await ListenAndTriggerAsync(["--status", "500"], ["IntegrationEnabled"]);

        Assert.Equal(ExitCodes.NotAccepted, triggerExit);
        Assert.Equal(0, listenExit);
        Assert.Contains("→ 500", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listen_on_a_port_in_use_fails_with_a_clear_message()
    {
        await using var sink = await WebhookSink.StartAsync();

        var result = await CliRun.RunAsync("listen", "--port", sink.BaseUri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(ExitCodes.CannotListen, result.ExitCode);
        Assert.Contains("Cannot listen", result.Error, StringComparison.Ordinal);
    }
}
