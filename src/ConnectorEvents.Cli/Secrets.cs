using System.Diagnostics.CodeAnalysis;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Receiver;

namespace ConnectorEvents.Cli;

/// <summary>Reads <c>whsec_…</c> secrets and keeps secrets out of printed text.</summary>
internal static class Secrets
{
    /// <summary>The key of a <c>whsec_</c> + base64 secret; the error never repeats the secret.</summary>
    public static bool TryReadKey(string secret, [NotNullWhen(true)] out byte[]? key, [NotNullWhen(false)] out string? error)
    {
        key = null;
        error = null;
        const string Shape = "a Standard Webhooks secret is 'whsec_' followed by a base64 key";
        if (!secret.StartsWith(WebhookSigner.SecretPrefix, StringComparison.Ordinal))
        {
            error = $"The secret does not start with '{WebhookSigner.SecretPrefix}' ({Shape}).";
            return false;
        }
        key = StandardWebhookVerifier.TryReadKey(secret);
        if (key is null)
        {
            error = $"The secret's key is not valid base64 ({Shape}).";
            return false;
        }
        return true;
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
