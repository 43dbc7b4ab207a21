using ConnectorEvents.Receiver;

namespace ConnectorEvents.Cli;

/// <summary>The outcome of checking one request's Standard Webhooks headers.</summary>
internal sealed record Verdict(VerdictKind Kind, string Text)
{
    public static Verdict Verified { get; } = new(VerdictKind.Verified, "verified ✓");

    public static Verdict Unsigned { get; } = new(VerdictKind.Unsigned, "unsigned");

    public static Verdict NotVerified(string reason) => new(VerdictKind.NotVerified, $"NOT verified: {reason}");
}

internal enum VerdictKind
{
    Verified,
    NotVerified,
    Unsigned,
}

/// <summary>
/// Checks <c>webhook-id</c>, <c>webhook-timestamp</c> and <c>webhook-signature</c> against one or more keys
/// (several during a rotation): HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c>, compared in constant time, with
/// the timestamp within a tolerance of now in both directions.
/// </summary>
internal sealed class SignatureVerifier(IReadOnlyList<byte[]> keys, TimeProvider time, TimeSpan tolerance)
{
    public static TimeSpan DefaultTolerance { get; } = TimeSpan.FromMinutes(5);

    /// <summary>The receiver SDK's verification, with the reason spelled out for a person at a terminal.</summary>
    public Verdict Verify(string? id, string? timestamp, string? signature, ReadOnlySpan<byte> body)
    {
        var signed = !string.IsNullOrEmpty(signature);
        if (keys.Count == 0)
        {
            return signed ? Verdict.NotVerified("signed, but no --secret was given to check it") : Verdict.Unsigned;
        }
        var now = time.GetUtcNow();
        return StandardWebhookVerifier.Verify(keys, id, timestamp, signature, body, now, tolerance, out var seconds) switch
        {
            VerificationResult.Valid => Verdict.Verified,
            VerificationResult.MissingHeaders => Verdict.NotVerified(
                !signed ? "no webhook-signature header" : string.IsNullOrEmpty(id) ? "no webhook-id header" : "no webhook-timestamp header"),
            VerificationResult.InvalidTimestamp => Verdict.NotVerified("webhook-timestamp is not a number of seconds"),
            VerificationResult.TimestampOutOfTolerance => Verdict.NotVerified(Skew(now.ToUnixTimeSeconds() - seconds)),
            _ => Verdict.NotVerified(keys.Count == 1
                ? "no v1 signature matches the secret"
                : $"no v1 signature matches any of the {keys.Count} secrets"),
        };
    }

    private string Skew(long seconds) => seconds > 0
        ? $"timestamp is {seconds} s old (tolerance {tolerance.TotalSeconds:0} s)"
        : $"timestamp is {-seconds} s in the future (tolerance {tolerance.TotalSeconds:0} s)";
}
