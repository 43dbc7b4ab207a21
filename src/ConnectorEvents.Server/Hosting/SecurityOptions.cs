using ConnectorEvents.Core.Security;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Hosting;

/// <summary>Configuration section <c>Security</c>.</summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>The bootstrap management API key (role Admin), sent as <c>Authorization: Bearer …</c>; at least 16 characters.</summary>
    public string? AdminApiKey { get; set; }

    /// <summary>
    /// Keys that may only post events (<c>POST /api/v1/enterprises/{id}/events</c>), into every enterprise. Keys made with
    /// <c>POST /api/v1/api-keys</c> can be limited to enterprises, revoked and audited: prefer those.
    /// </summary>
    public string[]? ProducerApiKeys { get; set; }

    /// <summary>
    /// The key (32 bytes, base64) that encrypts signing secrets, webhook URLs and message bodies that carry a token.
    /// Required outside Development, where the server makes one in the data folder on its first start.
    /// </summary>
    public string? EncryptionKey { get; set; }

    /// <summary>
    /// Further keys that only decrypt: the previous key while values move to a new one, or the next key before it becomes
    /// current on every process (docs/security.md, key rotation).
    /// </summary>
    public string[]? DecryptionKeys { get; set; }

    /// <summary>The protector over <see cref="EncryptionKey"/> and <see cref="DecryptionKeys"/>; call once the options are valid.</summary>
    public SecretProtector CreateProtector() =>
        new(SecretProtector.ParseKey(EncryptionKey) ?? throw new InvalidOperationException("Security:EncryptionKey is not valid."),
            (DecryptionKeys ?? []).Select(k => SecretProtector.ParseKey(k) ?? throw new InvalidOperationException("Security:DecryptionKeys is not valid.")));
}

/// <summary>Reports every problem of the <c>Security</c> section at once, naming keys, never their values.</summary>
public sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.AdminApiKey))
        {
            errors.Add("Security:AdminApiKey is not set. Set it (or the environment variable Security__AdminApiKey); " +
                "only the Development environment generates one by itself.");
        }
        else if (options.AdminApiKey.Length < 16)
        {
            errors.Add("Security:AdminApiKey must be at least 16 characters long.");
        }
        var producerKeys = options.ProducerApiKeys ?? [];
        for (var i = 0; i < producerKeys.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(producerKeys[i]) || producerKeys[i].Length < 16)
            {
                errors.Add($"Security:ProducerApiKeys:{i} must be at least 16 characters long.");
            }
            else if (producerKeys[i] == options.AdminApiKey)
            {
                errors.Add($"Security:ProducerApiKeys:{i} must differ from Security:AdminApiKey.");
            }
        }
        if (string.IsNullOrWhiteSpace(options.EncryptionKey))
        {
            errors.Add("Security:EncryptionKey is not set. Set it to 32 random bytes in base64 (e.g. the output of " +
                "'openssl rand -base64 32'); only the Development environment generates one by itself.");
        }
        else if (SecretProtector.ParseKey(options.EncryptionKey) is null)
        {
            errors.Add("Security:EncryptionKey must be 32 bytes in base64 (44 characters, e.g. from 'openssl rand -base64 32').");
        }
        var decryptionKeys = options.DecryptionKeys ?? [];
        for (var i = 0; i < decryptionKeys.Length; i++)
        {
            if (SecretProtector.ParseKey(decryptionKeys[i]) is null)
            {
                errors.Add($"Security:DecryptionKeys:{i} must be 32 bytes in base64, as Security:EncryptionKey.");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
