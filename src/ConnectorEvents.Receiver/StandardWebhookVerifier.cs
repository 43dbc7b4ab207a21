using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ConnectorEvents.Receiver;

internal enum VerificationResult
{
    Valid,
    MissingHeaders,
    InvalidTimestamp,
    TimestampOutOfTolerance,
    NoMatchingSignature,
}

/// <summary>
/// Standard Webhooks verification, written from the specification: a <c>v1,</c> entry of <c>webhook-signature</c> must be
/// base64 HMAC-SHA256, under one of the keys, of <c>{webhook-id}.{webhook-timestamp}.{raw body}</c>.
/// </summary>
internal static class StandardWebhookVerifier
{
    public const string SecretPrefix = "whsec_";
    private const int MacLength = 32;
    private const int MaxSignatures = 16;

    /// <summary>The key of a <c>whsec_…</c> secret (the prefix is optional), or null when it is not base64.</summary>
    public static byte[]? TryReadKey(string? secret)
    {
        if (string.IsNullOrWhiteSpace(secret))
        {
            return null;
        }
        var encoded = secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret;
        var key = new byte[encoded.Length];
        return Convert.TryFromBase64String(encoded, key, out var written) && written > 0 ? key[..written] : null;
    }

    public static VerificationResult Verify(
        IReadOnlyList<byte[]> keys, string? id, string? timestamp, string? signatures, ReadOnlySpan<byte> body,
        DateTimeOffset now, TimeSpan tolerance, out long unixTimestamp)
    {
        unixTimestamp = 0;
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signatures))
        {
            return VerificationResult.MissingHeaders;
        }
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out unixTimestamp))
        {
            return VerificationResult.InvalidTimestamp;
        }
        var nowSeconds = now.ToUnixTimeSeconds();
        var toleranceSeconds = (long)tolerance.TotalSeconds;
        if (unixTimestamp < nowSeconds - toleranceSeconds || unixTimestamp > nowSeconds + toleranceSeconds)
        {
            return VerificationResult.TimestampOutOfTolerance;
        }

        var offered = ReadSignatures(signatures);
        if (offered.Count == 0)
        {
            return VerificationResult.NoMatchingSignature;
        }
        var prefix = Encoding.UTF8.GetBytes(id + "." + timestamp + ".");
        Span<byte> mac = stackalloc byte[MacLength];
        var matched = false;
        foreach (var key in keys)
        {
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
            hmac.AppendData(prefix);
            hmac.AppendData(body);
            hmac.GetHashAndReset(mac);
            foreach (var candidate in offered)
            {
                // No early exit: every comparison runs, so timing says nothing about which one matched.
                matched |= CryptographicOperations.FixedTimeEquals(mac, candidate);
            }
        }
        return matched ? VerificationResult.Valid : VerificationResult.NoMatchingSignature;
    }

    /// <summary>The decoded <c>v1,</c> entries; other versions and malformed entries are skipped.</summary>
    private static List<byte[]> ReadSignatures(string header)
    {
        var result = new List<byte[]>();
        foreach (var entry in header.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (result.Count == MaxSignatures)
            {
                break;
            }
            if (!entry.StartsWith("v1,", StringComparison.Ordinal))
            {
                continue;
            }
            var decoded = new byte[MacLength];
            if (Convert.TryFromBase64String(entry[3..], decoded, out var written) && written == MacLength)
            {
                result.Add(decoded);
            }
        }
        return result;
    }
}
