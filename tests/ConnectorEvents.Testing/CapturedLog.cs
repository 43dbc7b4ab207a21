using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ConnectorEvents.Testing;

/// <summary>One log entry as the server wrote it.</summary>
public sealed record CapturedEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception)
{
    /// <summary>What a text log would hold for it: category, message and, when there is one, the exception with its stack trace.</summary>
    public int Bytes => Category.Length + Message.Length + (Exception?.ToString().Length ?? 0);

    public override string ToString() => $"{Level} {Category}[{EventId.Id}]: {Message}{(Exception is null ? "" : "\n" + Exception)}";
}

/// <summary>
/// Keeps every entry the server logs, at the levels its settings give (appsettings.json: Information, Microsoft.AspNetCore at
/// Warning) unless a filter for this provider says otherwise. Add it with
/// <c>RunningServer.StartAsync(configure: b => b.Logging.AddProvider(log))</c>.
/// </summary>
public sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedEntry> _entries = new();

    public IReadOnlyList<CapturedEntry> Entries => _entries.ToArray();

    /// <summary>The entries logged after the first <paramref name="skip"/>, e.g. those of one phase of a test.</summary>
    public IReadOnlyList<CapturedEntry> Since(int skip) => _entries.Skip(skip).ToArray();

    public int Count => _entries.Count;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            log._entries.Enqueue(new CapturedEntry(category, logLevel, eventId, formatter(state, exception), exception));
        }
    }
}
