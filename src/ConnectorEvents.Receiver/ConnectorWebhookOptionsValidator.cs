using Microsoft.Extensions.Options;

namespace ConnectorEvents.Receiver;

/// <summary>
/// Checks every setting at start and reports every error at once, each naming its setting: as the option
/// (<c>SigningSecrets[0]</c>) when set in code, as the configuration key (<c>Webhooks:SigningSecrets:0</c>) when bound
/// from a section. Never the value.
/// </summary>
internal sealed class ConnectorWebhookOptionsValidator : IValidateOptions<ConnectorWebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, ConnectorWebhookOptions options)
    {
        var errors = new List<string>();
        var section = options.SettingsSection;
        string Key(string option) => section is null ? option : $"{section}:{option}";
        string Item(string list, int index) => section is null ? $"{list}[{index}]" : $"{section}:{list}:{index}";
        foreach (var unknown in options.UnknownSettings)
        {
            errors.Add($"{Key(unknown)} is not a receiver setting; the section takes {string.Join(", ", ConnectorWebhookOptions.SettingNames)}.");
        }
        // Keys are never echoed, only where they are and what shape they should have.
        for (var i = 0; i < options.SigningSecrets.Count; i++)
        {
            var secret = options.SigningSecrets[i];
            if (string.IsNullOrWhiteSpace(secret))
            {
                errors.Add($"{Item("SigningSecrets", i)} is empty: the setting it should come from is not set.");
            }
            else if (secret?.StartsWith(StandardWebhookVerifier.PublicKeyPrefix, StringComparison.Ordinal) == true)
            {
                errors.Add($"{Item("SigningSecrets", i)} is an Ed25519 public key ('whpk_'); add it to {Key("PublicKeys")} instead.");
            }
            else if (secret?.StartsWith(StandardWebhookVerifier.Ed25519SecretPrefix, StringComparison.Ordinal) == true)
            {
                errors.Add($"{Item("SigningSecrets", i)} is an Ed25519 secret key ('whsk_'), which must stay with the sender; "
                    + $"add its 'whpk_' public key to {Key("PublicKeys")} instead.");
            }
            else if (StandardWebhookVerifier.TryReadKey(secret) is null)
            {
                errors.Add($"{Item("SigningSecrets", i)} is not a 'whsec_' + base64 secret.");
            }
        }
        for (var i = 0; i < options.PublicKeys.Count; i++)
        {
            var key = options.PublicKeys[i];
            if (string.IsNullOrWhiteSpace(key))
            {
                errors.Add($"{Item("PublicKeys", i)} is empty: the setting it should come from is not set.");
            }
            else if (key?.StartsWith(StandardWebhookVerifier.Ed25519SecretPrefix, StringComparison.Ordinal) == true)
            {
                errors.Add($"{Item("PublicKeys", i)} is an Ed25519 secret key ('whsk_'), which must stay with the sender; "
                    + "use its 'whpk_' public key.");
            }
            else if (key?.StartsWith(StandardWebhookVerifier.SecretPrefix, StringComparison.Ordinal) == true)
            {
                errors.Add($"{Item("PublicKeys", i)} is an HMAC signing secret ('whsec_'); add it to {Key("SigningSecrets")} instead.");
            }
            else if (StandardWebhookVerifier.TryReadPublicKey(key) is null)
            {
                errors.Add($"{Item("PublicKeys", i)} is not a 'whpk_' + base64 Ed25519 public key (32 bytes).");
            }
        }
        var keys = options.SigningSecrets.Count + options.PublicKeys.Count;
        if (options.RequireSignature && keys == 0)
        {
            errors.Add(section is null
                ? "RequireSignature is true but neither SigningSecrets nor PublicKeys are configured; add the client's "
                    + "signing secret (whsec_) or public key (whpk_), or set RequireSignature = false on purpose (e.g. when relying on UrlToken)."
                : $"{Key("SigningSecrets")} is not set (nor {Key("PublicKeys")}): set it to the client's signing secret (whsec_…), "
                    + $"e.g. {section.Replace(":", "__", StringComparison.Ordinal)}__SigningSecrets__0=whsec_… in the environment, "
                    + $"or {Key("PublicKeys")} to its public key (whpk_…); or set {Key("RequireSignature")} to false on purpose "
                    + $"(e.g. when relying on {Key("UrlToken")}).");
        }
        if (!options.RequireSignature && keys > 0)
        {
            errors.Add($"{Key("SigningSecrets")} or {Key("PublicKeys")} are configured but {Key("RequireSignature")} is false; remove one or the other.");
        }
        if (options.UrlToken is { Length: 0 })
        {
            errors.Add($"{Key("UrlToken")} is empty; leave it unset to check no token, or set the token.");
        }
        if (options.TimestampTolerance <= TimeSpan.Zero)
        {
            errors.Add($"{Key("TimestampTolerance")} must be positive.");
        }
        if (options.MaxBodySize <= 0 || options.MaxBodySize > int.MaxValue)
        {
            errors.Add($"{Key("MaxBodySize")} must be between 1 and 2^31-1 bytes.");
        }
        if (options.DeduplicationCapacity <= 0)
        {
            errors.Add($"{Key("DeduplicationCapacity")} must be positive.");
        }
        if (options.QueueCapacity <= 0)
        {
            errors.Add($"{Key("QueueCapacity")} must be positive.");
        }
        if (options.QueuedAttempts <= 0)
        {
            errors.Add($"{Key("QueuedAttempts")} must be positive.");
        }
        if (options.QueueFullRetryAfter < TimeSpan.Zero)
        {
            errors.Add($"{Key("QueueFullRetryAfter")} must not be negative.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
