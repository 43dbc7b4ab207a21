using Spectre.Console;

namespace ConnectorEvents.Cli;

/// <summary>Where a command writes: normal output and errors, each a Spectre console.</summary>
internal sealed class CliConsoles(IAnsiConsole output, IAnsiConsole error)
{
    public IAnsiConsole Out { get; } = output;

    public IAnsiConsole Error { get; } = error;

    /// <summary>Consoles over the process's standard streams, or over captured writers (plain text, wide lines).</summary>
    public static CliConsoles Create(TextWriter? output, TextWriter? error) =>
        new(output is null ? Standard() : Plain(output), Plain(error ?? Console.Error, error is null));

    private static IAnsiConsole Standard()
    {
        var console = AnsiConsole.Console;
        if (Console.IsOutputRedirected)
        {
            console.Profile.Width = 500;
        }
        return console;
    }

    private static IAnsiConsole Plain(TextWriter writer, bool detect = false)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = detect ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = detect ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            // The error console of a terminal shows progress (admin --all); captured writers never do.
            Interactive = detect ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // Captured output and errors are read by programs (and terminals wrap by themselves): never wrap a line.
        console.Profile.Width = 500;
        return console;
    }

    /// <summary>One error line, <c>error: …</c>, plain text (never markup from the caller).</summary>
    public int Fail(int exitCode, string message)
    {
        Error.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
        return exitCode;
    }

    /// <summary>
    /// A line exactly as given, for programs to read (an id, the server's JSON): straight to the writer, so Spectre never wraps
    /// it at the console's width nor reads it as markup.
    /// </summary>
    public void WriteRaw(string text)
    {
        var writer = Out.Profile.Out.Writer;
        writer.WriteLine(text);
        writer.Flush();
    }
}
