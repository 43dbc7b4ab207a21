using System.Text;
using ConnectorEvents.Core.Delivery;
using NSec.Cryptography;
using Xunit;

namespace ConnectorEvents.Cli.Tests;

public sealed class SignatureVerifierTests
{
    private static readonly byte[] Key = Convert.FromBase64String("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"test\": 2432232314}");
    private const string Id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const string Signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    // The Standard Webhooks reference library's asymmetric vector (libraries/go/webhook_asymmetric_test.go) over the same
    // id, timestamp and body; the public key is the one of its seed, "TESTSIGNINGKEYDONOTUSETHISFORANY".
    private const string Ed25519Signature = "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==";
    private static readonly PublicKey VectorPublicKey = PublicKey.Import(SignatureAlgorithm.Ed25519,
        Convert.FromBase64String("ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g="), KeyBlobFormat.RawPublicKey);

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static SignatureVerifier At(long unixSeconds, params byte[][] keys) => At(unixSeconds, keys, []);

    private static SignatureVerifier At(long unixSeconds, byte[][] keys, PublicKey[] publicKeys) =>
        new(keys, publicKeys, new FixedTime(DateTimeOffset.FromUnixTimeSeconds(unixSeconds)), SignatureVerifier.DefaultTolerance);

    private static PublicKey OtherPublicKey() => PublicKey.Import(SignatureAlgorithm.Ed25519,
        Convert.FromBase64String(WebhookSigner.NewEd25519Secret().PublicKey["whpk_".Length..]), KeyBlobFormat.RawPublicKey);

    [Fact]
    public void The_v1a_vector_verifies_with_its_public_key() =>
        Assert.Equal(VerdictKind.Verified, At(1614265330, [], [OtherPublicKey(), VectorPublicKey]).Verify(Id, "1614265330", Ed25519Signature, Body).Kind);

    [Theory]
    [InlineData(Ed25519Signature, "secret", "", "NOT verified: only v1a (Ed25519) signatures, and no --public-key was given to check them")]
    [InlineData(Signature, "", "right", "NOT verified: only v1 (HMAC) signatures, and no --secret was given to check them")]
    [InlineData(Ed25519Signature, "", "other", "NOT verified: no v1a signature matches the public key")]
    [InlineData(Signature + " " + Ed25519Signature, "", "right", "verified ✓")]
    [InlineData(Signature + " " + Ed25519Signature, "secret", "", "verified ✓")]
    [InlineData("v2,abc v1a,AAAA", "secret", "right", "NOT verified: no v1 or v1a signature in webhook-signature")]
    public void A_failure_says_which_signatures_were_checked_against_which_keys(string header, string secret, string publicKey, string expected)
    {
        var verifier = At(1614265330, secret == "secret" ? [Key] : [],
            publicKey switch { "right" => [VectorPublicKey], "other" => [OtherPublicKey()], _ => [] });

        Assert.Equal(expected, verifier.Verify(Id, "1614265330", header, Body).Text);
    }

    [Fact]
    public void A_changed_body_fails_the_v1a_signature_and_the_reason_names_both_kinds_of_key()
    {
        var verdict = At(1614265330, [Key], [VectorPublicKey, OtherPublicKey()])
            .Verify(Id, "1614265330", Signature + " " + Ed25519Signature, Encoding.UTF8.GetBytes("{}"));

        Assert.Equal("NOT verified: no v1 signature matches the secret, and no v1a signature matches any of the 2 public keys", verdict.Text);
    }

    [Fact]
    public void The_standard_webhooks_vector_verifies() =>
        Assert.Equal(VerdictKind.Verified, At(1614265330, Key).Verify(Id, "1614265330", Signature, Body).Kind);

    [Fact]
    public void Any_of_several_keys_and_signatures_may_match() =>
        Assert.Equal(VerdictKind.Verified,
            At(1614265330, new byte[32], Key).Verify(Id, "1614265330", "v1,AAAA " + Signature, Body).Kind);

    [Theory]
    [InlineData(1614265330 + 301, "old")]
    [InlineData(1614265330 - 301, "future")]
    public void Timestamps_outside_five_minutes_fail(long now, string word)
    {
        var verdict = At(now, Key).Verify(Id, "1614265330", Signature, Body);
        Assert.Equal(VerdictKind.NotVerified, verdict.Kind);
        Assert.Contains(word, verdict.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_body_fails() =>
        Assert.Equal(VerdictKind.NotVerified, At(1614265330, Key).Verify(Id, "1614265330", Signature, Encoding.UTF8.GetBytes("{}")).Kind);

    [Fact]
    public void Without_keys_an_unsigned_request_is_unsigned() =>
        Assert.Equal(VerdictKind.Unsigned, At(1614265330).Verify(Id, "1614265330", null, Body).Kind);
}
