using System.Text;
using Xunit;

namespace ConnectorEvents.Cli.Tests;

public sealed class SignatureVerifierTests
{
    private static readonly byte[] Key = Convert.FromBase64String("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"test\": 2432232314}");
    private const string Id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const string Signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static SignatureVerifier At(long unixSeconds, params byte[][] keys) =>
        new(keys, new FixedTime(DateTimeOffset.FromUnixTimeSeconds(unixSeconds)), SignatureVerifier.DefaultTolerance);

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
