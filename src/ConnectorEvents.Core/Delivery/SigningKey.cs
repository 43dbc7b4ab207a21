using System.Runtime.InteropServices;
using System.Security.Cryptography;
using NSec.Cryptography;

namespace ConnectorEvents.Core.Delivery;

/// <summary>Which Standard Webhooks signature a <see cref="SigningKey"/> writes.</summary>
public enum SigningScheme
{
    /// <summary><c>v1,</c> + base64 HMAC-SHA256; the secret is <c>whsec_</c> + base64 key, shared with the receiver.</summary>
    Hmac,

    /// <summary>
    /// <c>v1a,</c> + base64 Ed25519 signature; the secret is <c>whsk_</c> + base64 of the 32-byte seed (RFC 8032's secret
    /// key) and stays with the sender, the receiver verifies with <c>whpk_</c> + base64 of the 32-byte public key.
    /// </summary>
    Ed25519,
}

/// <summary>
/// One signing secret, read once and prepared for signing: the HMAC key already padded to SHA-256's block, or the
/// Ed25519 seed already expanded with its public key into the key libsodium signs with. Immutable, holds no native
/// resource, and is safe to share between concurrent sends; the dispatcher keeps one per client secret while it caches
/// the client.
/// </summary>
/// <remarks>
/// Why not an NSec <see cref="Key"/> kept per client: NSec keeps private keys in libsodium's guarded memory, four memory
/// mappings per key (1,000 keys: 272 -> 4,275 lines in /proc/self/maps), released only by Dispose or the finalizer.
/// Linux allows 65,530 mappings per process: 35,000 keys made in a loop and left to the finalizer killed a test process
/// ("Out of memory"), and a dispatcher caching two per client would reach the limit near 8,000 Ed25519 clients. Disposing
/// is no remedy either, since a queued send may still hold a key the dispatcher has replaced. So NSec reads and checks
/// the seed and derives the public key (its Key is disposed at once), and signing calls libsodium's
/// <c>crypto_sign_ed25519_detached</c> with the 64-byte seed-and-public-key in managed memory, as the HMAC key is.
/// </remarks>
public sealed partial class SigningKey
{
    public const string HmacPrefix = "whsec_";
    public const string Ed25519SecretPrefix = "whsk_";
    public const string Ed25519PublicPrefix = "whpk_";

    /// <summary>SHA-256's block size: the HMAC key is stored padded (or hashed) to it.</summary>
    internal const int HmacBlockSize = 64;

    internal const int Ed25519SignatureSize = 64;

    private const int Ed25519SeedSize = 32;

    /// <summary>For <see cref="SigningScheme.Hmac"/>: the key zero-padded to <see cref="HmacBlockSize"/> bytes (a longer key hashed first, as RFC 2104 says).
    /// For <see cref="SigningScheme.Ed25519"/>: libsodium's secret key, the seed followed by the public key.</summary>
    private readonly byte[] _material;

    private SigningKey(SigningScheme scheme, byte[] material, string? publicKey)
    {
        Scheme = scheme;
        _material = material;
        PublicKey = publicKey;
    }

    public SigningScheme Scheme { get; }

    /// <summary>The <c>whpk_…</c> public key that verifies this key's signatures; null for an HMAC secret (it has none).</summary>
    public string? PublicKey { get; }

    /// <summary>The HMAC key padded to the block; only for <see cref="SigningScheme.Hmac"/>.</summary>
    internal ReadOnlySpan<byte> HmacBlock => Scheme == SigningScheme.Hmac ? _material : throw new InvalidOperationException("Not an HMAC key.");

    /// <summary>
    /// Reads a <c>whsec_…</c> (HMAC, <c>v1</c>) or <c>whsk_…</c> (Ed25519, <c>v1a</c>) secret; base64 without a prefix is
    /// read as an HMAC key. Throws <see cref="FormatException"/> without repeating the secret.
    /// </summary>
    public static SigningKey Parse(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.StartsWith(Ed25519PublicPrefix, StringComparison.Ordinal))
        {
            throw new FormatException("A 'whpk_' public key verifies signatures; signing needs its 'whsk_' secret key.");
        }
        if (secret.StartsWith(Ed25519SecretPrefix, StringComparison.Ordinal))
        {
            return Ed25519(secret);
        }
        var encoded = secret.StartsWith(HmacPrefix, StringComparison.Ordinal) ? secret[HmacPrefix.Length..] : secret;
        return Hmac(Convert.FromBase64String(encoded));
    }

    /// <summary>An HMAC signing key from its raw bytes.</summary>
    public static SigningKey Hmac(ReadOnlySpan<byte> key)
    {
        var block = new byte[HmacBlockSize];
        if (key.Length > HmacBlockSize)
        {
            SHA256.HashData(key, block);
        }
        else
        {
            key.CopyTo(block);
        }
        return new SigningKey(SigningScheme.Hmac, block, null);
    }

    /// <summary>The Ed25519 signature of <paramref name="data"/> into <paramref name="signature"/> (64 bytes).</summary>
    internal void SignEd25519(ReadOnlySpan<byte> data, Span<byte> signature)
    {
        if (Scheme != SigningScheme.Ed25519)
        {
            throw new InvalidOperationException("Not an Ed25519 key.");
        }
        if (signature.Length < Ed25519SignatureSize
            || crypto_sign_ed25519_detached(signature, out _, data, (ulong)data.Length, _material) != 0)
        {
            throw new CryptographicException("libsodium could not sign.");
        }
    }

    /// <summary>The public key text of a <c>whsk_…</c> secret, checked and derived by NSec.</summary>
    internal static string PublicKeyOf(string secret)
    {
        var seed = Ed25519SeedOf(secret);
        try
        {
            using var key = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey);
            return Ed25519PublicPrefix + Convert.ToBase64String(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    private static SigningKey Ed25519(string secret)
    {
        var seed = Ed25519SeedOf(secret);
        try
        {
            // NSec checks the seed and derives the public key; making its Key also runs sodium_init, which libsodium
            // needs before the first crypto_sign call below.
            using var key = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey);
            var publicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
            return new SigningKey(SigningScheme.Ed25519, [.. seed, .. publicKey], Ed25519PublicPrefix + Convert.ToBase64String(publicKey));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>The 32-byte seed of a <c>whsk_…</c> secret; the caller clears it.</summary>
    private static byte[] Ed25519SeedOf(string secret)
    {
        var encoded = secret.AsSpan(Ed25519SecretPrefix.Length);
        // One spare byte so that a longer key (e.g. libsodium's 64-byte seed-and-public-key form) is seen as such.
        Span<byte> decoded = stackalloc byte[Ed25519SeedSize + 1];
        try
        {
            if (!Convert.TryFromBase64Chars(encoded, decoded, out var written) || written != Ed25519SeedSize)
            {
                throw new FormatException("A 'whsk_' secret key is 'whsk_' followed by the base64 of a 32-byte Ed25519 seed.");
            }
            return decoded[..Ed25519SeedSize].ToArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(decoded);
        }
    }

    /// <summary>libsodium, as the NSec.Cryptography package brings it (runtimes/&lt;rid&gt;/native), resolved as NSec resolves it.</summary>
    [LibraryImport("libsodium")]
    private static partial int crypto_sign_ed25519_detached(
        Span<byte> signature, out ulong signatureLength, ReadOnlySpan<byte> message, ulong messageLength, ReadOnlySpan<byte> secretKey);
}
