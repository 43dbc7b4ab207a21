using ConnectorEvents.Receiver;
using NSec.Cryptography;

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
/// Checks <c>webhook-id</c>, <c>webhook-timestamp</c> and <c>webhook-signature</c> against HMAC secrets (<c>v1</c>
/// entries, compared in constant time) and Ed25519 public keys (<c>v1a</c> entries), several of each during a rotation,
/// over <c>{id}.{timestamp}.{body}</c>, with the timestamp within a tolerance of now in both directions.
/// </summary>
internal sealed class SignatureVerifier(IReadOnlyList<byte[]> secrets, IReadOnlyList<PublicKey> publicKeys, TimeProvider time, TimeSpan tolerance)
{
    public static TimeSpan DefaultTolerance { get; } = TimeSpan.FromMinutes(5);

    /// <summary>The receiver SDK's verification, with the reason spelled out for a person at a terminal.</summary>
    public Verdict Verify(string? id, string? timestamp, string? signature, ReadOnlySpan<byte> body)
    {
        var signed = !string.IsNullOrEmpty(signature);
        if (secrets.Count == 0 && publicKeys.Count == 0)
        {
            return signed ? Verdict.NotVerified("signed, but no --secret or --public-key was given to check it") : Verdict.Unsigned;
        }
        var now = time.GetUtcNow();
        return StandardWebhookVerifier.Verify(secrets, publicKeys, id, timestamp, signature, body, now, tolerance, out var seconds) switch
        {
            VerificationResult.Valid => Verdict.Verified,
            VerificationResult.MissingHeaders => Verdict.NotVerified(
                !signed ? "no webhook-signature header" : string.IsNullOrEmpty(id) ? "no webhook-id header" : "no webhook-timestamp header"),
            VerificationResult.InvalidTimestamp => Verdict.NotVerified("webhook-timestamp is not a number of seconds"),
            VerificationResult.TimestampOutOfTolerance => Verdict.NotVerified(Skew(now.ToUnixTimeSeconds() - seconds)),
            _ => Verdict.NotVerified(NoMatch(StandardWebhookVerifier.VersionsIn(signature))),
        };
    }

    /// <summary>Why nothing matched: which entries were checked against which keys, or which kind of key is missing.</summary>
    private string NoMatch(SignatureVersions offered)
    {
        var reasons = new List<string>();
        if (offered.HasFlag(SignatureVersions.V1) && secrets.Count > 0)
        {
            reasons.Add(secrets.Count == 1 ? "no v1 signature matches the secret" : $"no v1 signature matches any of the {secrets.Count} secrets");
        }
        if (offered.HasFlag(SignatureVersions.V1a) && publicKeys.Count > 0)
        {
            reasons.Add(publicKeys.Count == 1
                ? "no v1a signature matches the public key"
                : $"no v1a signature matches any of the {publicKeys.Count} public keys");
        }
        if (reasons.Count > 0)
        {
            return string.Join(", and ", reasons);
        }
        return offered switch
        {
            SignatureVersions.V1a => "only v1a (Ed25519) signatures, and no --public-key was given to check them",
            SignatureVersions.V1 => "only v1 (HMAC) signatures, and no --secret was given to check them",
            _ => "no v1 or v1a signature in webhook-signature",
        };
    }

    private string Skew(long seconds) => seconds > 0
        ? $"timestamp is {seconds} s old (tolerance {tolerance.TotalSeconds:0} s)"
        : $"timestamp is {-seconds} s in the future (tolerance {tolerance.TotalSeconds:0} s)";
}
