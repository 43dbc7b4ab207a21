using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ConnectorEvents.Core.Delivery;

/// <summary>Standard Webhooks signatures: <c>v1,</c> + base64 HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c>.</summary>
public static class WebhookSigner
{
    public const string SecretPrefix = "whsec_";

    /// <summary>A new random secret in the <c>whsec_</c> form.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The key bytes of a <c>whsec_…</c> secret.</summary>
    public static byte[] KeyOf(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var encoded = secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret;
        return Convert.FromBase64String(encoded);
    }

    /// <summary>The <c>webhook-signature</c> header value: one space-separated <c>v1,…</c> per key.</summary>
    public static string Sign(IReadOnlyList<byte[]> keys, string messageId, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var prefix = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{messageId}.{timestamp}."));
        var length = prefix.Length + body.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            prefix.CopyTo(buffer, 0);
            body.CopyTo(buffer.AsSpan(prefix.Length));
            var content = buffer.AsSpan(0, length);
            var header = new StringBuilder(keys.Count * 48);
            Span<byte> mac = stackalloc byte[32];
            Span<byte> text = stackalloc byte[44];
            foreach (var key in keys)
            {
                HMACSHA256.HashData(key, content, mac);
                Base64.EncodeToUtf8(mac, text, out _, out var written);
                if (header.Length > 0)
                {
                    header.Append(' ');
                }
                header.Append("v1,").Append(Encoding.ASCII.GetString(text[..written]));
            }
            return header.ToString();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
