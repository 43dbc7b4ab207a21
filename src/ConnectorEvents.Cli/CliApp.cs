using System.CommandLine;

namespace ConnectorEvents.Cli;

/// <summary>The command tree and its entry; tests call <see cref="RunAsync"/> in-process with captured writers.</summary>
public static class CliApp
{
    /// <summary>Runs the tool. Null writers mean the process's console; the token stands in for Ctrl+C.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var consoles = CliConsoles.Create(output, error);
        var root = new RootCommand("connector-events: run the ConnectorEvents server, listen for API Events webhooks, trigger any documented event, generate signing keys.")
        {
            ListenCommand.Create(() => consoles),
            TriggerCommand.Create(() => consoles),
            GenerateKeyCommand.Create(() => consoles),
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
