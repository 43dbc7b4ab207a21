namespace ConnectorEvents.Cli;

/// <summary>The <c>connector-events</c> tool.</summary>
public static class Program
{
    public static Task<int> Main(string[] args) => CliApp.RunAsync(args);
}
