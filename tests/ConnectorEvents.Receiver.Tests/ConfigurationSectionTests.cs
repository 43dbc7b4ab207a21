using System.Net;
using ConnectorEvents.Contracts;
using Microsoft.Extensions.Options;
using Xunit;

namespace ConnectorEvents.Receiver.Tests;

/// <summary>
/// The receiver's settings read from a configuration section, as the README's snippet does: a missing or misnamed
/// setting stops the start with an error naming its key, and a configured URL token is checked.
/// </summary>
public sealed class ConfigurationSectionTests
{
    private static readonly byte[] Enabled = Samples.Find(ContractVersion.Latest, IntegrationActions.Enabled)!.Body;

    [Fact]
    public async Task A_missing_secret_stops_the_start_with_an_error_naming_the_setting()
    {
        var missing = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ReceiverApp.StartAsync(_ => { }, settings: new Dictionary<string, string?>()));
        Assert.Contains("Webhooks:SigningSecrets is not set (nor Webhooks:PublicKeys)", missing.Message, StringComparison.Ordinal);
        Assert.Contains("Webhooks__SigningSecrets__0=whsec_", missing.Message, StringComparison.Ordinal);

        // The key the README's snippet once read: named as unknown, the secret never shown.
        var misnamed = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ReceiverApp.StartAsync(_ => { }, settings: new Dictionary<string, string?> { ["Webhooks:Secret"] = ReceiverApp.Secret }));
        Assert.Contains("Webhooks:Secret is not a receiver setting", misnamed.Message, StringComparison.Ordinal);
        Assert.Contains("Webhooks:SigningSecrets is not set", misnamed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(ReceiverApp.Secret["whsec_".Length..], misnamed.Message, StringComparison.Ordinal);

        // Set in code from a setting that is absent (the `!` of `Configuration["…"]!` hides the null).
        var absent = await Assert.ThrowsAsync<OptionsValidationException>(() => ReceiverApp.StartAsync(o => o.SigningSecrets.Add(null!)));
        Assert.Contains("SigningSecrets[0] is empty: the setting it should come from is not set", absent.Message, StringComparison.Ordinal);

        // Every bad key at once, each by its configuration key.
        var pair = Core.Delivery.WebhookSigner.NewEd25519Secret();
        var all = await Assert.ThrowsAsync<OptionsValidationException>(() => ReceiverApp.StartAsync(_ => { }, settings:
            new Dictionary<string, string?>
            {
                ["Webhooks:SigningSecrets:0"] = pair.PublicKey,
                ["Webhooks:PublicKeys:0"] = pair.SecretKey,
                ["Webhooks:UrlToken"] = "",
            }));
        Assert.Equal(
            [
                "Webhooks:SigningSecrets:0 is an Ed25519 public key ('whpk_'); add it to Webhooks:PublicKeys instead.",
                "Webhooks:PublicKeys:0 is an Ed25519 secret key ('whsk_'), which must stay with the sender; use its 'whpk_' public key.",
                "Webhooks:UrlToken is empty; leave it unset to check no token, or set the token.",
            ],
            all.Failures);
    }

    [Fact]
    public async Task A_configured_url_token_refuses_requests_without_it_or_with_another()
    {
        var recorder = new Recorder();
        await using var app = await ReceiverApp.StartAsync(recorder.RegisterAll, settings: new Dictionary<string, string?>
        {
            ["Webhooks:SigningSecrets:0"] = ReceiverApp.Secret,
            ["Webhooks:UrlToken"] = "t0k3n",
            ["Webhooks:TimestampTolerance"] = "00:01:00",
        });
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        using var without = await app.PostAsync(Enabled);
        using var wrong = await app.PostAsync(Enabled, query: "?Token=t0k3m");
        using var older = await app.PostAsync(Enabled, query: "?Token=t0k3n", timestamp: now - 90); // within 5 min, past the 1 min set
        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, older.StatusCode);
        Assert.Empty(recorder.All);

        using var right = await app.PostAsync(Enabled, query: "?Token=t0k3n");
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal(IntegrationActions.Enabled, Assert.Single(recorder.All).Name);
    }
}
