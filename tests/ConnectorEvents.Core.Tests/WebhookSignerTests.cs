using System.Text;
using ConnectorEvents.Core.Delivery;
using NSec.Cryptography;
using Xunit;

namespace ConnectorEvents.Core.Tests;

public sealed class WebhookSignerTests
{
    // The Standard Webhooks specification's test vector.
    private const string VectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string VectorId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long VectorTimestamp = 1614265330;
    private const string VectorBody = """{"test": 2432232314}""";
    private const string VectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    // The Standard Webhooks reference library's asymmetric vector (libraries/go/webhook_asymmetric_test.go): the same
    // id, timestamp and body, signed with the seed "TESTSIGNINGKEYDONOTUSETHISFORANY".
    private const string Ed25519VectorSecret = "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=";
    private const string Ed25519VectorSignature =
        "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==";

    private static readonly byte[] Body = Encoding.UTF8.GetBytes(VectorBody);

    [Fact]
    public void Signs_the_standard_webhooks_test_vector()
    {
        var signature = WebhookSigner.Sign([SigningKey.Parse(VectorSecret)], VectorId, VectorTimestamp, Body);

        Assert.Equal(VectorSignature, signature);
    }

    [Fact]
    public void Signs_the_standard_webhooks_reference_libraries_ed25519_vector_as_v1a()
    {
        var key = SigningKey.Parse(Ed25519VectorSecret);

        Assert.Equal(SigningScheme.Ed25519, key.Scheme);
        Assert.Equal(Ed25519VectorSignature, WebhookSigner.Sign([key], VectorId, VectorTimestamp, Body));
    }

    // RFC 8032, section 7.1, tests 1 to 3: a whsk_ secret holds the RFC's 32-byte secret key, whpk_ its public key.
    [Theory]
    [InlineData("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")]
    [InlineData("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")]
    [InlineData("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a")]
    public void A_whsk_secret_is_the_rfc_8032_secret_key_and_its_whpk_the_public_key(string secretKey, string publicKey, string message, string signature)
    {
        var secret = "whsk_" + Convert.ToBase64String(Convert.FromHexString(secretKey));

        var key = SigningKey.Parse(secret);

        Assert.Equal("whpk_" + Convert.ToBase64String(Convert.FromHexString(publicKey)), key.PublicKey);
        Assert.Equal(key.PublicKey, WebhookSigner.PublicKeyOf(secret));
        var signed = new byte[64];
        key.SignEd25519(Convert.FromHexString(message), signed);
        Assert.Equal(signature, Convert.ToHexStringLower(signed));
    }

    [Fact]
    public void A_v1a_signature_verifies_with_the_public_key_over_id_timestamp_and_body_and_nothing_else()
    {
        var pair = WebhookSigner.NewEd25519Secret();
        var header = WebhookSigner.Sign([SigningKey.Parse(pair.SecretKey)], VectorId, VectorTimestamp, Body);

        Assert.StartsWith("v1a,", header, StringComparison.Ordinal);
        Assert.DoesNotContain(' ', header);
        var signature = Convert.FromBase64String(header["v1a,".Length..]);
        Assert.Equal(64, signature.Length);
        var publicKey = PublicKey.Import(SignatureAlgorithm.Ed25519,
            Convert.FromBase64String(pair.PublicKey["whpk_".Length..]), KeyBlobFormat.RawPublicKey);
        bool Verifies(string signed) => SignatureAlgorithm.Ed25519.Verify(publicKey, Encoding.UTF8.GetBytes(signed), signature);
        Assert.True(Verifies($"{VectorId}.{VectorTimestamp}.{VectorBody}"));
        Assert.False(Verifies($"{VectorId}x.{VectorTimestamp}.{VectorBody}"));
        Assert.False(Verifies($"{VectorId}.{VectorTimestamp + 1}.{VectorBody}"));
        Assert.False(Verifies($"{VectorId}.{VectorTimestamp}.{VectorBody} "));
    }

    [Fact]
    public void Hmac_and_ed25519_keys_give_v1_and_v1a_entries_in_key_order()
    {
        var ed25519 = SigningKey.Parse(Ed25519VectorSecret);
        var hmac = SigningKey.Parse(VectorSecret);
        var other = SigningKey.Parse(WebhookSigner.NewSecret());

        var header = WebhookSigner.Sign([ed25519, hmac, other], VectorId, VectorTimestamp, Body);

        Assert.Equal([Ed25519VectorSignature, VectorSignature, WebhookSigner.Sign([other], VectorId, VectorTimestamp, Body)], header.Split(' '));
        Assert.Equal($"{VectorSignature} {Ed25519VectorSignature}", WebhookSigner.Sign([hmac, ed25519], VectorId, VectorTimestamp, Body));
    }

    [Fact]
    public void NewEd25519Secret_gives_a_fresh_32_byte_seed_and_the_public_key_that_matches_it()
    {
        var pair = WebhookSigner.NewEd25519Secret();

        Assert.StartsWith("whsk_", pair.SecretKey, StringComparison.Ordinal);
        Assert.StartsWith("whpk_", pair.PublicKey, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(pair.SecretKey["whsk_".Length..]).Length);
        Assert.Equal(32, Convert.FromBase64String(pair.PublicKey["whpk_".Length..]).Length);
        Assert.Equal(pair.PublicKey, WebhookSigner.PublicKeyOf(pair.SecretKey));
        Assert.Equal(pair.PublicKey, SigningKey.Parse(pair.SecretKey).PublicKey);
        Assert.NotEqual(pair, WebhookSigner.NewEd25519Secret());
    }

    [Theory]
    [InlineData("whsk_not base64!")]
    [InlineData("whsk_")]
    [InlineData("whsk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")] // 31 bytes
    [InlineData("whsk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")] // 64 bytes
    [InlineData("whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")]
    public void A_malformed_ed25519_secret_or_a_public_key_is_refused_without_being_repeated(string secret)
    {
        var error = Assert.Throws<FormatException>(() => SigningKey.Parse(secret));

        var value = secret["whsk_".Length..];
        Assert.True(value.Length == 0 || !error.Message.Contains(value, StringComparison.Ordinal), error.Message);
        Assert.Throws<FormatException>(() => WebhookSigner.PublicKeyOf(secret));
    }

    [Fact]
    public void Only_an_ed25519_secret_has_a_public_key()
    {
        Assert.Null(SigningKey.Parse(VectorSecret).PublicKey);
        Assert.Equal(SigningScheme.Hmac, SigningKey.Parse(VectorSecret).Scheme);
        Assert.Throws<FormatException>(() => WebhookSigner.PublicKeyOf(VectorSecret));
    }

    [Fact]
    public void A_secret_without_its_prefix_gives_the_same_key()
    {
        Assert.Equal(SigningKey.Parse(VectorSecret).HmacBlock.ToArray(), SigningKey.Parse(VectorSecret["whsec_".Length..]).HmacBlock.ToArray());
    }

    [Fact]
    public void Two_keys_give_two_space_separated_signatures_in_key_order()
    {
        var other = SigningKey.Parse(WebhookSigner.NewSecret());
        var vectorKey = SigningKey.Parse(VectorSecret);

        var header = WebhookSigner.Sign([other, vectorKey], VectorId, VectorTimestamp, Body);

        var parts = header.Split(' ');
        Assert.Equal(2, parts.Length);
        Assert.Equal(WebhookSigner.Sign([other], VectorId, VectorTimestamp, Body), parts[0]);
        Assert.Equal(VectorSignature, parts[1]);
        Assert.StartsWith("v1,", parts[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(24, 20)]
    [InlineData(32, 523)]
    [InlineData(64, 4096)]
    [InlineData(65, 1)]
    [InlineData(200, 70_000)]
    public void Agrees_with_the_platform_hmac_for_keys_shorter_and_longer_than_a_block(int keyLength, int bodyLength)
    {
        var random = new Random(keyLength * 7919 + bodyLength);
        var key = new byte[keyLength];
        var body = new byte[bodyLength];
        random.NextBytes(key);
        random.NextBytes(body);
        var expected = "v1," + Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(
            key, (byte[])[.. Encoding.UTF8.GetBytes("msg_ü1.-42."), .. body]));

        Assert.Equal(expected, WebhookSigner.Sign([SigningKey.Hmac(key)], "msg_ü1", -42, body));
    }

    [Fact]
    public void No_keys_give_an_empty_header()
    {
        Assert.Equal("", WebhookSigner.Sign([], VectorId, VectorTimestamp, Body));
    }

    [Fact]
    public void Any_change_to_id_timestamp_or_body_changes_the_signature()
    {
        SigningKey[] keys = [SigningKey.Parse(VectorSecret)];

        Assert.NotEqual(VectorSignature, WebhookSigner.Sign(keys, VectorId + "x", VectorTimestamp, Body));
        Assert.NotEqual(VectorSignature, WebhookSigner.Sign(keys, VectorId, VectorTimestamp + 1, Body));
        Assert.NotEqual(VectorSignature, WebhookSigner.Sign(keys, VectorId, VectorTimestamp, Encoding.UTF8.GetBytes("""{"test":2432232314}""")));
    }

    [Fact]
    public void A_large_body_is_signed_like_a_small_one()
    {
        var body = new byte[1 << 20];
        new Random(3).NextBytes(body);
        SigningKey[] keys = [SigningKey.Parse(VectorSecret), SigningKey.Parse(Ed25519VectorSecret)];

        var first = WebhookSigner.Sign(keys, VectorId, VectorTimestamp, body);
        var second = WebhookSigner.Sign(keys, VectorId, VectorTimestamp, body.AsSpan().ToArray());

        Assert.Equal(first, second);
        Assert.Equal("v1,".Length + 44 + 1 + "v1a,".Length + 88, first.Length);
    }

    [Fact]
    public void NewSecret_round_trips_through_Parse_as_32_random_bytes()
    {
        var secret = WebhookSigner.NewSecret();

        Assert.StartsWith(WebhookSigner.SecretPrefix, secret, StringComparison.Ordinal);
        var key = Convert.FromBase64String(secret[WebhookSigner.SecretPrefix.Length..]);
        Assert.Equal(32, key.Length);
        Assert.Equal(SigningKey.Hmac(key).HmacBlock.ToArray(), SigningKey.Parse(secret).HmacBlock.ToArray());
        Assert.NotEqual(secret, WebhookSigner.NewSecret());
    }

    [Fact]
    public void A_secret_that_is_not_base64_is_refused()
    {
        Assert.Throws<FormatException>(() => SigningKey.Parse("whsec_not base64!"));
    }

    [Fact]
    public void Libsodium_loads_on_this_machine()
    {
        // NSec and the signer call into the libsodium the package brings (runtimes/<rid>/native); a missing one throws.
        var key = SigningKey.Parse(Ed25519VectorSecret);
        var signature = new byte[64];
        key.SignEd25519("x"u8, signature);

        Assert.True(SignatureAlgorithm.Ed25519.Verify(
            PublicKey.Import(SignatureAlgorithm.Ed25519, Convert.FromBase64String(key.PublicKey!["whpk_".Length..]), KeyBlobFormat.RawPublicKey),
            "x"u8, signature));
    }

    [Fact]
    public void Ed25519_signing_keys_hold_no_native_memory_so_many_cost_no_memory_mappings()
    {
        // NSec's own keys live in libsodium's guarded memory: four mappings each, against Linux's 65,530 per process.
        if (!File.Exists("/proc/self/maps"))
        {
            Assert.Skip("Counts Linux memory mappings.");
        }
        static int Mappings() => File.ReadAllLines("/proc/self/maps").Length;
        var secrets = Enumerable.Range(0, 2000).Select(_ => WebhookSigner.NewEd25519Secret().SecretKey).ToList();
        var before = Mappings();

        var keys = secrets.Select(SigningKey.Parse).ToList();

        Assert.InRange(Mappings() - before, -200, 200);
        Assert.Equal(2000, keys.Select(k => k.PublicKey).Distinct().Count());
    }
}
