using ConnectorEvents.Server.Hosting;

var app = ServerHost.Build(args);
app.Run();

/// <summary>The entry point; public so tests can reference the assembly.</summary>
public partial class Program;
