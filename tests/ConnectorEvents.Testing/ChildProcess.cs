using System.Diagnostics;
using System.Globalization;

namespace ConnectorEvents.Testing;

/// <summary>
/// A program a test runs as a separate OS process: to its end within a time limit (<see cref="RunAsync"/>: dotnet
/// pack, publish, add package), or in the background (<see cref="Start"/>: a published server, a fresh app) until
/// <see cref="StopAsync"/> sends SIGTERM. Everything it prints is kept for assertions and failure messages.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private const int KeptLines = 2000;

    private readonly Process _process;
    private readonly Queue<string> _lines = new();

    private ChildProcess(Process process) => _process = process;

    /// <summary>The <c>dotnet</c> running these tests (the host <c>dotnet test</c> names), else the one on PATH.</summary>
    public static string Dotnet =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines it wrote, standard output and error interleaved as they came.</summary>
    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>Runs a program to its end; kills it and throws <see cref="TimeoutException"/> past <paramref name="timeout"/>.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, IEnumerable<string> args, string directory,
        TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment = null)
    {
        await using var child = Start(fileName, args, directory, environment);
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await child._process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            child._process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} took over {timeout}. Its output:\n{child.Output}");
        }
        // WaitForExit without a time-out waits until both output streams are read to their end.
        child._process.WaitForExit();
        return (child.ExitCode, child.Output);
    }

    /// <summary>Starts a program in the background; <paramref name="environment"/> adds to (or, with null, removes from) this process's.</summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> args, string directory,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) => child.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => child.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits until it has written a line containing <paramref name="text"/>; throws if it exits first or time runs out.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
            {
                _process.WaitForExit();
                if (Output.Contains(text, StringComparison.Ordinal))
                {
                    return;
                }
                throw new InvalidOperationException($"The process exited ({_process.ExitCode}) before writing '{text}'. Its output:\n{Output}");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The process did not write '{text}' within {timeout}. Its output:\n{Output}");
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for its exit, killing it after <paramref name="timeout"/>; returns the exit code (SIGKILL: 137).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGTERM (as systemd or a container runtime stops a service), then <see cref="WaitForExitAsync"/>.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])
            {
                UseShellExecute = false,
            });
            if (kill is not null)
            {
                await kill.WaitForExitAsync().ConfigureAwait(false);
            }
        }
        return await WaitForExitAsync(timeout).ConfigureAwait(false);
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_lines)
        {
            _lines.Enqueue(line);
            if (_lines.Count > KeptLines)
            {
                _lines.Dequeue();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        _process.Dispose();
    }
}
