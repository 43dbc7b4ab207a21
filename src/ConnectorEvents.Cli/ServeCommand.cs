using System.CommandLine;
using ConnectorEvents.Server.Hosting;

namespace ConnectorEvents.Cli;

/// <summary><c>serve [server args…]</c>: runs the ConnectorEvents server; everything after <c>serve</c> goes to it unchanged.</summary>
internal static class ServeCommand
{
    public const string Name = "serve";

    public static Command Create(Func<string[]> serverArguments)
    {
        var passThrough = new Argument<string[]>("server-args")
        {
            Description = "Server settings, e.g. --urls http://127.0.0.1:5080 --Storage:DataDirectory ./data --environment Development.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command(Name, "Run the ConnectorEvents server (delivery, management API, health).")
        {
            passThrough,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((_, cancellationToken) => ServerMain.RunAsync(serverArguments(), cancellationToken: cancellationToken));
        return command;
    }
}
