using System.Text;
using ConnectorEvents.Core.Delivery;
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

    private static readonly byte[] Body = Encoding.UTF8.GetBytes(VectorBody);

    [Fact]
    public void Signs_the_standard_webhooks_test_vector()
    {
        var signature = WebhookSigner.Sign([WebhookSigner.KeyOf(VectorSecret)], VectorId, VectorTimestamp, Body);

        Assert.Equal(VectorSignature, signature);
    }

    [Fact]
    public void A_secret_without_its_prefix_gives_the_same_key()
    {
        Assert.Equal(WebhookSigner.KeyOf(VectorSecret), WebhookSigner.KeyOf(VectorSecret["whsec_".Length..]));
    }

    [Fact]
    public void Two_keys_give_two_space_separated_signatures_in_key_order()
    {
        var other = WebhookSigner.KeyOf(WebhookSigner.NewSecret());
        var vectorKey = WebhookSigner.KeyOf(VectorSecret);

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

        Assert.Equal(expected, WebhookSigner.Sign([key], "msg_ü1", -42, body));
    }

    [Fact]
    public void No_keys_give_an_empty_header()
    {
        Assert.Equal("", WebhookSigner.Sign([], VectorId, VectorTimestamp, Body));
    }

    [Fact]
    public void Any_change_to_id_timestamp_or_body_changes_the_signature()
    {
        byte[][] keys = [WebhookSigner.KeyOf(VectorSecret)];

        Assert.NotEqual(VectorSignature, WebhookSigner.Sign(keys, VectorId + "x", VectorTimestamp, Body));
        Assert.NotEqual(VectorSignature, WebhookSigner.Sign(keys, VectorId, VectorTimestamp + 1, Body));
        Assert.NotEqual(VectorSignature, WebhookSigner.Sign(keys, VectorId, VectorTimestamp, Encoding.UTF8.GetBytes("""{"test":2432232314}""")));
    }

    [Fact]
    public void A_large_body_is_signed_like_a_small_one()
    {
        var body = new byte[1 << 20];
        new Random(3).NextBytes(body);
        byte[][] keys = [WebhookSigner.KeyOf(VectorSecret)];

        var first = WebhookSigner.Sign(keys, VectorId, VectorTimestamp, body);
        var second = WebhookSigner.Sign(keys, VectorId, VectorTimestamp, body.AsSpan().ToArray());

        Assert.Equal(first, second);
        Assert.Equal("v1,".Length + 44, first.Length);
    }

    [Fact]
    public void NewSecret_round_trips_through_KeyOf_as_32_random_bytes()
    {
        var secret = WebhookSigner.NewSecret();

        Assert.StartsWith(WebhookSigner.SecretPrefix, secret, StringComparison.Ordinal);
        var key = WebhookSigner.KeyOf(secret);
        Assert.Equal(32, key.Length);
        Assert.Equal(secret, WebhookSigner.SecretPrefix + Convert.ToBase64String(key));
        Assert.NotEqual(secret, WebhookSigner.NewSecret());
    }

    [Fact]
    public void A_secret_that_is_not_base64_is_refused()
    {
        Assert.Throws<FormatException>(() => WebhookSigner.KeyOf("whsec_not base64!"));
    }
}
