using System.CommandLine;

namespace ConnectorEvents.Cli;

/// <summary>The command tree and its entry; tests call <see cref="RunAsync"/> in-process with captured writers.</summary>
public static class CliApp
{
    /// <summary>Runs the tool. Null writers mean the process's console; the token stands in for Ctrl+C.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(args, output, error, Environment.GetEnvironmentVariable, cancellationToken);

    /// <summary>Runs the tool reading environment variables through <paramref name="environment"/> (tests give their own).</summary>
    internal static async Task<int> RunAsync(string[] args, TextWriter? output, TextWriter? error, Func<string, string?> environment,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        var consoles = CliConsoles.Create(output, error);
        var admin = new AdminCommand(() => consoles, environment);
        var root = new RootCommand("connector-events: run the ConnectorEvents server, listen for API Events webhooks and WebSocket frames, trigger any documented event, "
            + "generate signing keys, and operate a running server (enterprises, clients, integrations, messages).")
        {
            ListenCommand.Create(() => consoles),
            TriggerCommand.Create(() => consoles),
            GenerateKeyCommand.Create(() => consoles),
            EnterprisesCommand.Create(admin),
            ClientsCommand.Create(admin),
            IntegrationsCommand.Create(admin),
            MessagesCommand.Create(admin),
            WebSocketCommand.Create(() => consoles, environment),
            ServeCommand.Create(() => ServerArguments(args)),
        };
        var configuration = new InvocationConfiguration();
        if (output is not null)
        {
            configuration.Output = output;
        }
        if (error is not null)
        {
            configuration.Error = error;
        }
        return await root.Parse(args).InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Everything after the first <c>serve</c>, untouched by this tool's parser.</summary>
    private static string[] ServerArguments(string[] args)
    {
        var index = Array.IndexOf(args, ServeCommand.Name);
        return index < 0 ? [] : args[(index + 1)..];
    }
}
