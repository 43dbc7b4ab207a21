using ConnectorEvents.Server.Hosting;

return await ServerMain.RunAsync(args);

/// <summary>The entry point; public so tests can reference the assembly.</summary>
public partial class Program;
