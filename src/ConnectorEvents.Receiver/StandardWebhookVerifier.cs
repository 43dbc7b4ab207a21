using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;
using IncrementalHash = System.Security.Cryptography.IncrementalHash;

namespace ConnectorEvents.Receiver;

internal enum VerificationResult
{
    Valid,
    MissingHeaders,
    InvalidTimestamp,
    TimestampOutOfTolerance,
    NoMatchingSignature,
}

/// <summary>Which signature versions a <c>webhook-signature</c> header carries (well-formed entries only).</summary>
[Flags]
internal enum SignatureVersions
{
    None = 0,
    V1 = 1,
    V1a = 2,
}

/// <summary>
/// Standard Webhooks verification, written from the specification, over <c>{webhook-id}.{webhook-timestamp}.{raw body}</c>:
/// a <c>v1,</c> entry of <c>webhook-signature</c> must be its base64 HMAC-SHA256 under one of the secrets, or a
/// <c>v1a,</c> entry its base64 Ed25519 signature under one of the public keys. Entries of other versions are ignored.
/// </summary>
internal static class StandardWebhookVerifier
{
    public const string SecretPrefix = "whsec_";
    public const string Ed25519SecretPrefix = "whsk_";
    public const string PublicKeyPrefix = "whpk_";
    private const int MacLength = 32;
    private const int Ed25519SignatureLength = 64;
    private const int Ed25519PublicKeyLength = 32;

    /// <summary>Entries read from one header, of all versions together: a forged header costs at most this many checks per key.</summary>
    private const int MaxSignatures = 16;

    /// <summary>
    /// <c>v1a</c> entries read from one header. Checking one costs about as much as 50 HMACs (measured 0.11-0.17 ms against
    /// 2-4 µs), and a sender signs with at most two keys at once during a rotation: more are not read.
    /// </summary>
    private const int MaxEd25519Signatures = 4;

    /// <summary>
    /// The key of a <c>whsec_…</c> secret (the prefix is optional), or null when it is not base64 or is an Ed25519 key
    /// (<c>whsk_</c>, <c>whpk_</c>: the underscore is not base64, so they never pass for an HMAC key).
    /// </summary>
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

    /// <summary>The Ed25519 public key of a <c>whpk_…</c> string (prefix required: 32 bytes of base64 alone could be anything), or null.</summary>
    public static PublicKey? TryReadPublicKey(string? publicKey)
    {
        if (publicKey is null || !publicKey.StartsWith(PublicKeyPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        Span<byte> bytes = stackalloc byte[Ed25519PublicKeyLength + 1];
        return Convert.TryFromBase64Chars(publicKey.AsSpan(PublicKeyPrefix.Length), bytes, out var written)
            && written == Ed25519PublicKeyLength
            && PublicKey.TryImport(SignatureAlgorithm.Ed25519, bytes[..written], KeyBlobFormat.RawPublicKey, out var key)
            ? key
            : null;
    }

    public static VerificationResult Verify(
        IReadOnlyList<byte[]> secrets, IReadOnlyList<PublicKey> publicKeys, string? id, string? timestamp, string? signatures,
        ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance, out long unixTimestamp)
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

        var (macs, ed25519Signatures) = ReadSignatures(signatures);
        var prefix = Encoding.UTF8.GetBytes(id + "." + timestamp + ".");
        var matched = secrets.Count > 0 && macs.Count > 0 && MatchesHmac(secrets, macs, prefix, body);
        if (!matched && publicKeys.Count > 0 && ed25519Signatures.Count > 0)
        {
            matched = MatchesEd25519(publicKeys, ed25519Signatures, prefix, body);
        }
        return matched ? VerificationResult.Valid : VerificationResult.NoMatchingSignature;
    }

    /// <summary>Which versions the header's well-formed entries have, for an explanation when none matched.</summary>
    public static SignatureVersions VersionsIn(string? signatures)
    {
        if (string.IsNullOrEmpty(signatures))
        {
            return SignatureVersions.None;
        }
        var (macs, ed25519Signatures) = ReadSignatures(signatures);
        return (macs.Count > 0 ? SignatureVersions.V1 : SignatureVersions.None)
            | (ed25519Signatures.Count > 0 ? SignatureVersions.V1a : SignatureVersions.None);
    }

    private static bool MatchesHmac(IReadOnlyList<byte[]> secrets, List<byte[]> macs, byte[] prefix, ReadOnlySpan<byte> body)
    {
        Span<byte> mac = stackalloc byte[MacLength];
        var matched = false;
        foreach (var key in secrets)
        {
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
            hmac.AppendData(prefix);
            hmac.AppendData(body);
            hmac.GetHashAndReset(mac);
            foreach (var candidate in macs)
            {
                // No early exit: every comparison runs, so timing says nothing about which one matched.
                matched |= CryptographicOperations.FixedTimeEquals(mac, candidate);
            }
        }
        return matched;
    }

    /// <summary>
    /// Ed25519 needs the signed content in one piece. Nothing here is secret (public keys, public signatures), so the
    /// first success ends the search.
    /// </summary>
    private static bool MatchesEd25519(IReadOnlyList<PublicKey> publicKeys, List<byte[]> signatures, byte[] prefix, ReadOnlySpan<byte> body)
    {
        var length = prefix.Length + body.Length;
        var signed = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            prefix.CopyTo(signed, 0);
            body.CopyTo(signed.AsSpan(prefix.Length));
            foreach (var key in publicKeys)
            {
                foreach (var signature in signatures)
                {
                    if (SignatureAlgorithm.Ed25519.Verify(key, signed.AsSpan(0, length), signature))
                    {
                        return true;
                    }
                }
            }
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(signed);
        }
    }

    /// <summary>The decoded <c>v1,</c> and <c>v1a,</c> entries; other versions and malformed entries are skipped.</summary>
    private static (List<byte[]> Macs, List<byte[]> Ed25519Signatures) ReadSignatures(string header)
    {
        var macs = new List<byte[]>();
        var ed25519Signatures = new List<byte[]>();
        foreach (var entry in header.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (macs.Count + ed25519Signatures.Count == MaxSignatures)
            {
                break;
            }
            if (entry.StartsWith("v1,", StringComparison.Ordinal))
            {
                var decoded = new byte[MacLength];
                if (Convert.TryFromBase64String(entry[3..], decoded, out var written) && written == MacLength)
                {
                    macs.Add(decoded);
                }
            }
            else if (entry.StartsWith("v1a,", StringComparison.Ordinal) && ed25519Signatures.Count < MaxEd25519Signatures)
            {
                var decoded = new byte[Ed25519SignatureLength];
                if (Convert.TryFromBase64String(entry[4..], decoded, out var written) && written == Ed25519SignatureLength)
                {
                    ed25519Signatures.Add(decoded);
                }
            }
        }
        return (macs, ed25519Signatures);
    }
}
