using System.Diagnostics;
using System.Text;

namespace ConnectorEvents.Cli.Tests;

/// <summary>A thread-safe writer the test can read while a long-running command (listen, websocket) writes.</summary>
internal sealed class SharedWriter : StringWriter
{
    private readonly Lock _gate = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_gate)
        {
            base.Write(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_gate)
        {
            base.Write(value);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_gate)
        {
            base.Write(buffer, index, count);
        }
    }

    public string Text()
    {
        lock (_gate)
        {
            return ToString();
        }
    }

    /// <summary>Waits (at most 20 s) until <paramref name="condition"/> holds.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var started = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(20))
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }
            await Task.Delay(25);
        }
    }
}
