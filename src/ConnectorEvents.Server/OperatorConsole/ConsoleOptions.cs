using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.OperatorConsole;

/// <summary>Configuration section <c>Console</c>: the operator console at <c>/console</c>.</summary>
public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>Serve the console (default on). Off, <c>/console</c> answers 404 and nothing of it is loaded.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long a sign-in lasts without use (sliding); 8 hours by default.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);
}

public sealed class ConsoleOptionsValidator : IValidateOptions<ConsoleOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsoleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.SessionLifetime < TimeSpan.FromMinutes(1) || options.SessionLifetime > TimeSpan.FromDays(30)
            ? ValidateOptionsResult.Fail("Console:SessionLifetime must be from 00:01:00 to 30.00:00:00.")
            : ValidateOptionsResult.Success;
    }
}
