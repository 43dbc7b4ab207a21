using System.Diagnostics.CodeAnalysis;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Receiver;
using NSec.Cryptography;

namespace ConnectorEvents.Cli;

/// <summary>Reads signing secrets and public keys from the command line, and keeps secrets out of printed text.</summary>
internal static class Secrets
{
    private const string HmacShape = "a Standard Webhooks secret is 'whsec_' followed by a base64 key";
    private const string SecretKeyShape = "an Ed25519 secret key is 'whsk_' followed by the base64 of a 32-byte seed";
    private const string PublicKeyShape = "an Ed25519 public key is 'whpk_' followed by the base64 of 32 bytes";

    /// <summary>
    /// The HMAC key of a <c>whsec_</c> + base64 secret, for checking <c>v1</c> signatures; the error never repeats the
    /// secret. An Ed25519 secret key is refused with the public key to use instead (a public key may be printed).
    /// </summary>
    public static bool TryReadKey(string secret, [NotNullWhen(true)] out byte[]? key, [NotNullWhen(false)] out string? error)
    {
        key = null;
        error = null;
        if (secret.StartsWith(SigningKey.Ed25519SecretPrefix, StringComparison.Ordinal))
        {
            error = DescribeSecretKeyWhereAPublicKeyBelongs("--secret", secret);
            return false;
        }
        if (secret.StartsWith(SigningKey.Ed25519PublicPrefix, StringComparison.Ordinal))
        {
            error = "--secret got an Ed25519 public key (whpk_); pass it with --public-key to check v1a signatures.";
            return false;
        }
        if (!secret.StartsWith(WebhookSigner.SecretPrefix, StringComparison.Ordinal))
        {
            error = $"The secret does not start with '{WebhookSigner.SecretPrefix}' ({HmacShape}).";
            return false;
        }
        key = StandardWebhookVerifier.TryReadKey(secret);
        if (key is null)
        {
            error = $"The secret's key is not valid base64 ({HmacShape}).";
            return false;
        }
        return true;
    }

    /// <summary>The Ed25519 public key of a <c>whpk_</c> string, for checking <c>v1a</c> signatures.</summary>
    public static bool TryReadPublicKey(string publicKey, [NotNullWhen(true)] out PublicKey? key, [NotNullWhen(false)] out string? error)
    {
        key = null;
        error = null;
        if (publicKey.StartsWith(SigningKey.Ed25519SecretPrefix, StringComparison.Ordinal))
        {
            error = DescribeSecretKeyWhereAPublicKeyBelongs("--public-key", publicKey);
            return false;
        }
        if (publicKey.StartsWith(WebhookSigner.SecretPrefix, StringComparison.Ordinal))
        {
            error = "--public-key got an HMAC secret (whsec_); pass it with --secret to check v1 signatures.";
            return false;
        }
        if (!publicKey.StartsWith(SigningKey.Ed25519PublicPrefix, StringComparison.Ordinal))
        {
            error = $"The public key does not start with '{SigningKey.Ed25519PublicPrefix}' ({PublicKeyShape}).";
            return false;
        }
        key = StandardWebhookVerifier.TryReadPublicKey(publicKey);
        if (key is null)
        {
            error = $"The public key is not the base64 of 32 bytes ({PublicKeyShape}).";
            return false;
        }
        return true;
    }

    /// <summary>A key to sign with: <c>whsec_</c> (HMAC, <c>v1</c>) or <c>whsk_</c> (Ed25519, <c>v1a</c>).</summary>
    public static bool TryReadSigningKey(string secret, [NotNullWhen(true)] out SigningKey? key, [NotNullWhen(false)] out string? error)
    {
        key = null;
        error = null;
        if (secret.StartsWith(SigningKey.Ed25519PublicPrefix, StringComparison.Ordinal))
        {
            error = "--secret got an Ed25519 public key (whpk_), which only verifies; signing needs its 'whsk_' secret key.";
            return false;
        }
        if (secret.StartsWith(SigningKey.Ed25519SecretPrefix, StringComparison.Ordinal))
        {
            try
            {
                key = SigningKey.Parse(secret);
                return true;
            }
            catch (FormatException)
            {
                error = $"The secret key is not the base64 of 32 bytes ({SecretKeyShape}).";
                return false;
            }
        }
        if (!secret.StartsWith(WebhookSigner.SecretPrefix, StringComparison.Ordinal))
        {
            error = $"The secret does not start with '{WebhookSigner.SecretPrefix}' or '{SigningKey.Ed25519SecretPrefix}' "
                + $"({HmacShape}; {SecretKeyShape}).";
            return false;
        }
        if (StandardWebhookVerifier.TryReadKey(secret) is not { } hmac)
        {
            error = $"The secret's key is not valid base64 ({HmacShape}).";
            return false;
        }
        key = SigningKey.Hmac(hmac);
        return true;
    }

    /// <summary>A receiver is given a <c>whsk_</c>: say so, and name the public key to use (it is public; the secret never shows).</summary>
    private static string DescribeSecretKeyWhereAPublicKeyBelongs(string option, string secretKey)
    {
        string publicKey;
        try
        {
            publicKey = WebhookSigner.PublicKeyOf(secretKey);
        }
        catch (FormatException)
        {
            return $"{option} got an Ed25519 secret key (whsk_), which stays with the sender, and it is malformed ({SecretKeyShape}); "
                + "listen checks v1a signatures with the public key: --public-key whpk_….";
        }
        return $"{option} got an Ed25519 secret key (whsk_), which stays with the sender; listen checks v1a signatures with "
            + $"its public key: --public-key {publicKey}";
    }

    /// <summary>The URL with the value of every <c>Token</c> query parameter replaced by <c>***</c>.</summary>
    public static string Redact(Uri url)
    {
        if (string.IsNullOrEmpty(url.Query))
        {
            return url.ToString();
        }
        var parts = url.Query.TrimStart('?').Split('&');
        for (var i = 0; i < parts.Length; i++)
        {
            var equals = parts[i].IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && parts[i][..equals].Equals("Token", StringComparison.OrdinalIgnoreCase))
            {
                parts[i] = parts[i][..(equals + 1)] + "***";
            }
        }
        return new UriBuilder(url) { Query = string.Join('&', parts) }.Uri.ToString();
    }
}
