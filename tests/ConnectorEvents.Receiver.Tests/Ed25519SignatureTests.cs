using System.Net;
using System.Text;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using Microsoft.Extensions.Options;
using Xunit;

namespace ConnectorEvents.Receiver.Tests;

/// <summary>
/// Standard Webhooks asymmetric signatures (<c>v1a</c>, Ed25519): verified with the <c>whpk_</c> public keys beside the
/// HMAC secrets, each entry by its own kind of key, entries of other versions ignored.
/// </summary>
public sealed class Ed25519SignatureTests
{
    // The Standard Webhooks reference library's asymmetric vector (libraries/go/webhook_asymmetric_test.go), whose seed
    // is "TESTSIGNINGKEYDONOTUSETHISFORANY"; the public key is derived from it (RFC 8032).
    private const string VectorSecretKey = "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=";
    private const string VectorPublicKey = "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=";
    private const string VectorId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const string VectorTimestamp = "1614265330";
    private const string VectorSignature = "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==";
    private const string HmacVectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    private static readonly byte[] VectorBody = Encoding.UTF8.GetBytes("{\"test\": 2432232314}");
    private static readonly DateTimeOffset VectorTime = DateTimeOffset.FromUnixTimeSeconds(1614265330);
    private static readonly byte[] Enabled = Samples.Find(ContractVersion.Latest, IntegrationActions.Enabled)!.Body;

    private static VerificationResult Verify(string signatures, byte[]? body = null, string id = VectorId, string timestamp = VectorTimestamp,
        string[]? secrets = null, string[]? publicKeys = null) =>
        StandardWebhookVerifier.Verify(
            [.. (secrets ?? []).Select(s => StandardWebhookVerifier.TryReadKey(s)!)],
            [.. (publicKeys ?? [VectorPublicKey]).Select(k => StandardWebhookVerifier.TryReadPublicKey(k)!)],
            id, timestamp, signatures, body ?? VectorBody, VectorTime, TimeSpan.FromMinutes(5), out _);

    [Fact]
    public void The_verifier_accepts_the_reference_libraries_v1a_vector_with_its_public_key_and_nothing_altered()
    {
        Assert.Equal(VectorPublicKey, WebhookSigner.PublicKeyOf(VectorSecretKey));

        Assert.Equal(VerificationResult.Valid, Verify(VectorSignature));
        Assert.Equal(VerificationResult.NoMatchingSignature, Verify(VectorSignature, body: Encoding.UTF8.GetBytes("{\"test\": 2432232315}")));
        Assert.Equal(VerificationResult.NoMatchingSignature, Verify(VectorSignature, id: VectorId + "x"));
        Assert.Equal(VerificationResult.NoMatchingSignature, Verify(VectorSignature, timestamp: "1614265331"));
        Assert.Equal(VerificationResult.NoMatchingSignature, Verify(VectorSignature, publicKeys: [WebhookSigner.NewEd25519Secret().PublicKey]));
        // A v1a entry is never read as v1, nor the other way round, whatever keys are configured.
        Assert.Equal(VerificationResult.NoMatchingSignature, Verify(VectorSignature, secrets: [ReceiverApp.Secret], publicKeys: []));
        Assert.Equal(VerificationResult.NoMatchingSignature, Verify(HmacVectorSignature));
        Assert.Equal(VerificationResult.NoMatchingSignature, Verify("v1," + VectorSignature[4..], secrets: [ReceiverApp.Secret]));
        Assert.Equal(VerificationResult.NoMatchingSignature, Verify("v1a," + HmacVectorSignature[3..]));
    }

    [Fact]
    public void A_mixed_header_verifies_when_any_entry_verifies_with_its_own_kind_of_key_and_unknown_versions_are_ignored()
    {
        var otherV1a = WebhookSigner.Sign([SigningKey.Parse(WebhookSigner.NewEd25519Secret().SecretKey)], VectorId, 1614265330, VectorBody);
        var both = new[] { ReceiverApp.Secret };

        Assert.Equal(VerificationResult.Valid, Verify($"{HmacVectorSignature} {VectorSignature}", secrets: both));
        Assert.Equal(VerificationResult.Valid, Verify($"{VectorSignature} {HmacVectorSignature}", secrets: both, publicKeys: []));
        Assert.Equal(VerificationResult.Valid, Verify($"v1,{new string('A', 43)}= {otherV1a} {VectorSignature}"));
        Assert.Equal(VerificationResult.Valid, Verify($"v2,abc v1b,{VectorSignature[4..]} v1a,!!! v1a, {VectorSignature}"));
        Assert.Equal(VerificationResult.NoMatchingSignature, Verify($"v2,{VectorSignature[4..]} v1b,{VectorSignature[4..]} {otherV1a}"));
        Assert.Equal(VerificationResult.NoMatchingSignature, Verify("v1a,"));
        // At most four v1a entries are checked (each costs about 50 HMACs); a fifth, even a valid one, is not read.
        Assert.Equal(VerificationResult.Valid, Verify($"{otherV1a} {otherV1a} {otherV1a} {VectorSignature}"));
        Assert.Equal(VerificationResult.NoMatchingSignature, Verify($"{otherV1a} {otherV1a} {otherV1a} {otherV1a} {VectorSignature}"));
        Assert.Equal(VerificationResult.Valid, Verify($"{otherV1a} {otherV1a} {otherV1a} {otherV1a} {VectorSignature} {HmacVectorSignature}", secrets: both));
        Assert.Equal(SignatureVersions.V1 | SignatureVersions.V1a, StandardWebhookVerifier.VersionsIn($"{HmacVectorSignature} v2,x {VectorSignature}"));
        Assert.Equal(SignatureVersions.V1a, StandardWebhookVerifier.VersionsIn($"v1,short {VectorSignature}"));
    }

    [Fact]
    public async Task An_app_with_a_public_key_accepts_v1a_webhooks_and_refuses_tampered_or_foreign_ones()
    {
        var pair = WebhookSigner.NewEd25519Secret();
        var recorder = new Recorder();
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.PublicKeys.Add(pair.PublicKey);
            recorder.RegisterAll(o);
        });
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var refused = new List<HttpResponseMessage>
        {
            await app.PostAsync(Enabled, secrets: [WebhookSigner.NewEd25519Secret().SecretKey]),
            await app.PostAsync(Enabled, secrets: [ReceiverApp.Secret]),
            await app.PostAsync(Enabled, secrets: [pair.SecretKey], timestamp: now - 330),
            await app.PostAsync(Enabled, secrets: [pair.SecretKey], tamper: r =>
            {
                r.Headers.Remove("webhook-id");
                r.Headers.Add("webhook-id", "msg_other");
            }),
            await app.PostAsync(Enabled, secrets: [pair.SecretKey], tamper: r =>
            {
                var signed = r.Headers.GetValues("webhook-timestamp").Single();
                r.Headers.Remove("webhook-timestamp");
                r.Headers.Add("webhook-timestamp", (long.Parse(signed, System.Globalization.CultureInfo.InvariantCulture) - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }),
            await app.PostAsync(Enabled, secrets: [pair.SecretKey], tamper: r => r.Content = new ByteArrayContent([.. Enabled, (byte)' '])
            {
                Headers = { ContentType = new("application/json") },
            }),
            // The public key itself is no signature.
            await app.PostAsync(Enabled, secrets: [pair.SecretKey], tamper: r =>
            {
                r.Headers.Remove("webhook-signature");
                r.Headers.Add("webhook-signature", "v1a," + pair.PublicKey["whpk_".Length..]);
            }),
        };
        foreach (var response in refused)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            response.Dispose();
        }
        Assert.Empty(recorder.All);

        using var accepted = await app.PostAsync(Enabled, secrets: [pair.SecretKey]);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        using var mixed = await app.PostAsync(Enabled, secrets: [ReceiverApp.Secret, pair.SecretKey]);
        Assert.Equal(HttpStatusCode.OK, mixed.StatusCode);
        Assert.Equal(2, recorder.All.Count);
    }

    [Fact]
    public async Task Only_v1a_signatures_are_refused_by_an_app_that_has_only_a_secret_and_v1_by_one_that_has_only_a_public_key()
    {
        var pair = WebhookSigner.NewEd25519Secret();
        await using var withSecret = await ReceiverApp.StartAsync(o => o.SigningSecrets.Add(ReceiverApp.Secret));
        await using var withPublicKey = await ReceiverApp.StartAsync(o => o.PublicKeys.Add(pair.PublicKey));

        using var v1aToSecret = await withSecret.PostAsync(Enabled, secrets: [pair.SecretKey]);
        using var v1ToPublicKey = await withPublicKey.PostAsync(Enabled, secrets: [ReceiverApp.Secret]);
        using var bothToSecret = await withSecret.PostAsync(Enabled, secrets: [pair.SecretKey, ReceiverApp.Secret]);
        using var bothToPublicKey = await withPublicKey.PostAsync(Enabled, secrets: [pair.SecretKey, ReceiverApp.Secret]);

        Assert.Equal(HttpStatusCode.Unauthorized, v1aToSecret.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, v1ToPublicKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bothToSecret.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bothToPublicKey.StatusCode);
    }

    [Fact]
    public async Task During_a_rotation_either_public_key_verifies_and_the_sender_may_sign_with_both()
    {
        var old = WebhookSigner.NewEd25519Secret();
        var next = WebhookSigner.NewEd25519Secret();
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.PublicKeys.Add(old.PublicKey);
            o.PublicKeys.Add(next.PublicKey);
        });

        using var byOld = await app.PostAsync(Enabled, secrets: [old.SecretKey]);
        using var byNext = await app.PostAsync(Enabled, secrets: [next.SecretKey]);
        using var byBoth = await app.PostAsync(Enabled, secrets: [old.SecretKey, next.SecretKey]);
        using var byNeither = await app.PostAsync(Enabled, secrets: [WebhookSigner.NewEd25519Secret().SecretKey, WebhookSigner.NewEd25519Secret().SecretKey]);

        Assert.Equal(HttpStatusCode.OK, byOld.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byNext.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byBoth.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, byNeither.StatusCode);
    }

    [Fact]
    public async Task A_key_in_the_wrong_place_or_malformed_stops_the_app_naming_the_option_and_never_the_key()
    {
        var pair = WebhookSigner.NewEd25519Secret();
        var hmac = WebhookSigner.NewSecret();
        var cases = new (Action<ConnectorWebhookOptions> Configure, string Key, string Expected)[]
        {
            (o => o.PublicKeys.Add(pair.SecretKey), pair.SecretKey, "PublicKeys[0] is an Ed25519 secret key"),
            (o => o.PublicKeys.Add(hmac), hmac, "PublicKeys[0] is an HMAC signing secret"),
            (o => o.PublicKeys.Add(pair.PublicKey[5..]), pair.PublicKey[5..], "PublicKeys[0] is not a 'whpk_'"),
            (o => o.PublicKeys.Add("whpk_" + Convert.ToBase64String(new byte[31])), "whpk_" + Convert.ToBase64String(new byte[31]), "PublicKeys[0] is not a 'whpk_'"),
            (o => o.PublicKeys.Add("whpk_not base64!"), "whpk_not base64!", "PublicKeys[0] is not a 'whpk_'"),
            (o => o.SigningSecrets.Add(pair.PublicKey), pair.PublicKey, "SigningSecrets[0] is an Ed25519 public key"),
            (o => o.SigningSecrets.Add(pair.SecretKey), pair.SecretKey, "SigningSecrets[0] is an Ed25519 secret key"),
            (o =>
            {
                o.RequireSignature = false;
                o.UrlToken = "t";
                o.PublicKeys.Add(pair.PublicKey);
            }, pair.PublicKey, "RequireSignature is false"),
        };

        foreach (var (configure, key, expected) in cases)
        {
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => ReceiverApp.StartAsync(configure));
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(key[5..], error.Message, StringComparison.Ordinal);
        }

        // Every error at once, each naming its own option.
        var all = await Assert.ThrowsAsync<OptionsValidationException>(() => ReceiverApp.StartAsync(o =>
        {
            o.SigningSecrets.Add(pair.SecretKey);
            o.PublicKeys.Add(hmac);
        }));
        Assert.Equal(2, all.Failures.Count());
    }

    [Fact]
    public async Task A_header_of_hostile_v1a_entries_is_refused_with_401_and_never_a_5xx()
    {
        var pair = WebhookSigner.NewEd25519Secret();
        await using var app = await ReceiverApp.StartAsync(o =>
        {
            o.PublicKeys.Add(pair.PublicKey);
            o.PublicKeys.Add(WebhookSigner.NewEd25519Secret().PublicKey);
        });
        var random = new Random(8032);
        string Garbage(int bytes)
        {
            var data = new byte[bytes];
            random.NextBytes(data);
            return Convert.ToBase64String(data);
        }
        var headers = new[]
        {
            // Only the first 16 entries are read, whatever follows (Kestrel's 32 KiB header limit allows about 300).
            string.Join(' ', Enumerable.Range(0, 250).Select(_ => "v1a," + Garbage(64))),
            string.Join(' ', Enumerable.Range(0, 200).Select(i => "v1a," + Garbage(i))),
            "v1a," + new string('=', 88),
            "v1a," + Garbage(64).Replace('A', '-'),
            "v1a,,,," + Garbage(64),
            "v1a," + Convert.ToBase64String(new byte[64]),
        };

        foreach (var header in headers)
        {
            using var response = await app.PostAsync(Enabled, secrets: [pair.SecretKey], tamper: r =>
            {
                r.Headers.Remove("webhook-signature");
                r.Headers.TryAddWithoutValidation("webhook-signature", header);
            });
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }
}
