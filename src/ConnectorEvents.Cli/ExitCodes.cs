namespace ConnectorEvents.Cli;

/// <summary>What the tool's exit code means; scripts can rely on these.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The command line did not parse (unknown option, missing value); System.CommandLine's own code.</summary>
    public const int Syntax = 1;

    /// <summary>
    /// A value was wrong: unknown event or version, bad URL, bad secret or public key (or one of the wrong kind), bad status,
    /// an <c>--override</c> path the body does not have, a <c>--data</c> file that cannot be read or is not JSON, no API key.
    /// </summary>
    public const int InvalidInput = 2;

    /// <summary>The URL or the server could not be reached: connection refused, name not resolved, no answer in time.</summary>
    public const int Unreachable = 3;

    /// <summary>The receiver (or the server) answered with something other than 2xx, and no code below says more.</summary>
    public const int NotAccepted = 4;

    /// <summary><c>listen</c> could not bind its address (e.g. the port is in use).</summary>
    public const int CannotListen = 5;

    /// <summary>The server refused the credentials: a bad or missing API key, a key whose role does not open the route, or WebSocket tokens refused (401, 403).</summary>
    public const int Unauthorized = 6;

    /// <summary>The server has no such thing (404).</summary>
    public const int NotFound = 7;

    /// <summary>The server refused the command in the thing's current state (409), e.g. enabling an Enabled integration.</summary>
    public const int Conflict = 8;

    /// <summary><c>websocket</c>: the server closed the socket with a status other than 1000, or the connection was lost.</summary>
    public const int Closed = 9;

    /// <summary>The code for an HTTP answer that is not 2xx.</summary>
    public static int ForStatus(int status) => status switch
    {
        401 or 403 => Unauthorized,
        404 => NotFound,
        409 => Conflict,
        _ => NotAccepted,
    };
}
