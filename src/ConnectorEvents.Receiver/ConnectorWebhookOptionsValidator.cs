using Microsoft.Extensions.Options;

namespace ConnectorEvents.Receiver;

internal sealed class ConnectorWebhookOptionsValidator : IValidateOptions<ConnectorWebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, ConnectorWebhookOptions options)
    {
        var errors = new List<string>();
        // Keys are never echoed, only where they are and what shape they should have.
        for (var i = 0; i < options.SigningSecrets.Count; i++)
        {
            var secret = options.SigningSecrets[i];
            if (secret?.StartsWith(StandardWebhookVerifier.PublicKeyPrefix, StringComparison.Ordinal) == true)
            {
                errors.Add($"SigningSecrets[{i}] is an Ed25519 public key ('whpk_'); add it to PublicKeys instead.");
            }
            else if (secret?.StartsWith(StandardWebhookVerifier.Ed25519SecretPrefix, StringComparison.Ordinal) == true)
            {
                errors.Add($"SigningSecrets[{i}] is an Ed25519 secret key ('whsk_'), which must stay with the sender; "
                    + "add its 'whpk_' public key to PublicKeys instead.");
            }
            else if (StandardWebhookVerifier.TryReadKey(secret) is null)
            {
                errors.Add($"SigningSecrets[{i}] is not a 'whsec_' + base64 secret.");
            }
        }
        for (var i = 0; i < options.PublicKeys.Count; i++)
        {
            var key = options.PublicKeys[i];
            if (key?.StartsWith(StandardWebhookVerifier.Ed25519SecretPrefix, StringComparison.Ordinal) == true)
            {
                errors.Add($"PublicKeys[{i}] is an Ed25519 secret key ('whsk_'), which must stay with the sender; "
                    + "use its 'whpk_' public key.");
            }
            else if (key?.StartsWith(StandardWebhookVerifier.SecretPrefix, StringComparison.Ordinal) == true)
            {
                errors.Add($"PublicKeys[{i}] is an HMAC signing secret ('whsec_'); add it to SigningSecrets instead.");
            }
            else if (StandardWebhookVerifier.TryReadPublicKey(key) is null)
            {
                errors.Add($"PublicKeys[{i}] is not a 'whpk_' + base64 Ed25519 public key (32 bytes).");
            }
        }
        var keys = options.SigningSecrets.Count + options.PublicKeys.Count;
        if (options.RequireSignature && keys == 0)
        {
            errors.Add("RequireSignature is true but neither SigningSecrets nor PublicKeys are configured; add the client's "
                + "signing secret (whsec_) or public key (whpk_), or set RequireSignature = false on purpose (e.g. when relying on UrlToken).");
        }
        if (!options.RequireSignature && keys > 0)
        {
            errors.Add("SigningSecrets or PublicKeys are configured but RequireSignature is false; remove one or the other.");
        }
        if (options.UrlToken is { Length: 0 })
        {
            errors.Add("UrlToken must be null or non-empty.");
        }
        if (options.TimestampTolerance <= TimeSpan.Zero)
        {
            errors.Add("TimestampTolerance must be positive.");
        }
        if (options.MaxBodySize <= 0 || options.MaxBodySize > int.MaxValue)
        {
            errors.Add("MaxBodySize must be between 1 and 2^31-1 bytes.");
        }
        if (options.DeduplicationCapacity <= 0)
        {
            errors.Add("DeduplicationCapacity must be positive.");
        }
        if (options.QueueCapacity <= 0)
        {
            errors.Add("QueueCapacity must be positive.");
        }
        if (options.QueuedAttempts <= 0)
        {
            errors.Add("QueuedAttempts must be positive.");
        }
        if (options.QueueFullRetryAfter < TimeSpan.Zero)
        {
            errors.Add("QueueFullRetryAfter must not be negative.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
