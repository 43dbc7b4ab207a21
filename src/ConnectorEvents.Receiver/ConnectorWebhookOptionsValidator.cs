using Microsoft.Extensions.Options;

namespace ConnectorEvents.Receiver;

internal sealed class ConnectorWebhookOptionsValidator : IValidateOptions<ConnectorWebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, ConnectorWebhookOptions options)
    {
        var errors = new List<string>();
        for (var i = 0; i < options.SigningSecrets.Count; i++)
        {
            if (StandardWebhookVerifier.TryReadKey(options.SigningSecrets[i]) is null)
            {
                // The secret itself is never echoed.
                errors.Add($"SigningSecrets[{i}] is not a 'whsec_' + base64 secret.");
            }
        }
        if (options.RequireSignature && options.SigningSecrets.Count == 0)
        {
            errors.Add("RequireSignature is true but no SigningSecrets are configured; add the client's signing secret, "
                + "or set RequireSignature = false on purpose (e.g. when relying on UrlToken).");
        }
        if (!options.RequireSignature && options.SigningSecrets.Count > 0)
        {
            errors.Add("SigningSecrets are configured but RequireSignature is false; remove one of the two.");
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
