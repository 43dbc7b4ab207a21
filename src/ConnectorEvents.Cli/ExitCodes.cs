namespace ConnectorEvents.Cli;

/// <summary>What the tool's exit code means; scripts can rely on these.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The command line did not parse (unknown option, missing value); System.CommandLine's own code.</summary>
    public const int Syntax = 1;

    /// <summary>A value was wrong: unknown event or version, bad URL, bad secret or public key (or one of the wrong kind), bad status.</summary>
    public const int InvalidInput = 2;

    /// <summary>The URL could not be reached: connection refused, name not resolved, no answer in time.</summary>
    public const int Unreachable = 3;

    /// <summary>The receiver answered with something other than 2xx.</summary>
    public const int NotAccepted = 4;

    /// <summary><c>listen</c> could not bind its address (e.g. the port is in use).</summary>
    public const int CannotListen = 5;
}
