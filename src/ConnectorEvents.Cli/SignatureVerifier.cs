using System.Globalization;
using System.Security.Cryptography;
using System.Text;

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

    public Verdict Verify(string? id, string? timestamp, string? signature, ReadOnlySpan<byte> body)
    {
        var signed = !string.IsNullOrEmpty(signature);
        if (keys.Count == 0)
        {
            return signed ? Verdict.NotVerified("signed, but no --secret was given to check it") : Verdict.Unsigned;
        }
        if (!signed)
        {
            return Verdict.NotVerified("no webhook-signature header");
        }
        if (string.IsNullOrEmpty(id))
        {
            return Verdict.NotVerified("no webhook-id header");
        }
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return Verdict.NotVerified("webhook-timestamp is missing or not a number of seconds");
        }
        var skew = time.GetUtcNow().ToUnixTimeSeconds() - seconds;
        if (Math.Abs(skew) > (long)tolerance.TotalSeconds)
        {
            return Verdict.NotVerified(skew > 0
                ? $"timestamp is {skew} s old (tolerance {tolerance.TotalSeconds:0} s)"
                : $"timestamp is {-skew} s in the future (tolerance {tolerance.TotalSeconds:0} s)");
        }

        var prefix = Encoding.UTF8.GetBytes($"{id}.{seconds.ToString(CultureInfo.InvariantCulture)}.");
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        var expected = keys.Select(key => HMACSHA256.HashData(key, content)).ToList();

        Span<byte> candidate = stackalloc byte[64];
        foreach (var entry in signature!.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!entry.StartsWith("v1,", StringComparison.Ordinal)
                || !Convert.TryFromBase64String(entry[3..], candidate, out var written))
            {
                continue;
            }
            foreach (var mac in expected)
            {
                if (CryptographicOperations.FixedTimeEquals(mac, candidate[..written]))
                {
                    return Verdict.Verified;
                }
            }
        }
        return Verdict.NotVerified(keys.Count == 1
            ? "no v1 signature matches the secret"
            : $"no v1 signature matches any of the {keys.Count} secrets");
    }
}
