using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Clients;

/// <summary>Configuration section <c>Security</c> (the part Core uses).</summary>
public sealed class SecretRotationOptions
{
    /// <summary>How long a replaced signing secret keeps signing beside the new one (default 1 day; 0 to 30 days).</summary>
    public TimeSpan SecretRotationOverlap { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>Checks <c>Security:SecretRotationOverlap</c>, naming the key, never the value.</summary>
public sealed class SecretRotationOptionsValidator : IValidateOptions<SecretRotationOptions>
{
    public ValidateOptionsResult Validate(string? name, SecretRotationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.SecretRotationOverlap < TimeSpan.Zero || options.SecretRotationOverlap > TimeSpan.FromDays(30)
            ? ValidateOptionsResult.Fail("Security:SecretRotationOverlap must be between 00:00:00 and 30.00:00:00.")
            : ValidateOptionsResult.Success;
    }
}
