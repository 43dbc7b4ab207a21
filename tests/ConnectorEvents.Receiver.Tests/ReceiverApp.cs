using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core.Delivery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace ConnectorEvents.Receiver.Tests;

/// <summary>A real receiver app (Kestrel on 127.0.0.1) using the SDK at <c>/webhooks</c>, with a log that counts.</summary>
internal sealed class ReceiverApp : IAsyncDisposable
{
    public const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    private readonly WebApplication _app;

    private ReceiverApp(WebApplication app, CountingLoggerProvider log)
    {
        _app = app;
        Log = log;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Client { get; }

    public CountingLoggerProvider Log { get; }

    public IServiceProvider Services => _app.Services;

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Starts a receiver; with no <paramref name="configure"/> secrets, <see cref="Secret"/> is the one. With
    /// <paramref name="settings"/>, the app's configuration holds them and the receiver binds its section <c>Webhooks</c>.
    /// </summary>
    public static async Task<ReceiverApp> StartAsync(Action<ConnectorWebhookOptions> configure, int port = 0, TimeProvider? time = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var log = new CountingLoggerProvider();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(log);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }
        if (settings is null)
        {
            builder.Services.AddConnectorEventsReceiver(configure);
        }
        else
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Services.AddConnectorEventsReceiver(builder.Configuration.GetSection("Webhooks"), configure);
        }
        var app = builder.Build();
        app.MapConnectorWebhooks("/webhooks");
        await app.StartAsync(Ct);
        return new ReceiverApp(app, log);
    }

    /// <summary>
    /// Posts <paramref name="body"/> signed the way the server signs it (the server's own signer), with each of
    /// <paramref name="secrets"/>: <c>whsec_</c> gives a <c>v1</c> entry, <c>whsk_</c> a <c>v1a</c> entry.
    /// </summary>
    public async Task<HttpResponseMessage> PostAsync(
        byte[] body, string? id = null, long? timestamp = null, string[]? secrets = null, string query = "",
        string contentType = "application/json", Action<HttpRequestMessage>? tamper = null)
    {
        id ??= "msg_" + Guid.NewGuid().ToString("N");
        var ts = timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks" + query) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", ts.ToString(CultureInfo.InvariantCulture));
        var keys = (secrets ?? [Secret]).Select(SigningKey.Parse).ToList();
        request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSigner.Sign(keys, id, ts, body));
        tamper?.Invoke(request);
        return await Client.SendAsync(request, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}

/// <summary>Records what the typed handlers saw.</summary>
internal sealed class Recorder
{
    private readonly ConcurrentQueue<Seen> _seen = new();
    private readonly SemaphoreSlim _arrived = new(0);

    public sealed record Seen(string Name, object Data, string WebhookId, ContractVersionRange Versions);

    public IReadOnlyList<Seen> All => [.. _seen];

    public Task Record<T>(ConnectorWebhook<T> evt)
    {
        _seen.Enqueue(new Seen(evt.Name, evt.Data!, evt.WebhookId, evt.Versions));
        _arrived.Release();
        return Task.CompletedTask;
    }

    /// <summary>Registers a recording handler for every action, every discriminator and unknown events.</summary>
    public void RegisterAll(ConnectorWebhookOptions options)
    {
        options.OnIntegrationCreated((e, _) => Record(e))
            .OnIntegrationEnabled((e, _) => Record(e))
            .OnIntegrationDisabled((e, _) => Record(e))
            .OnIntegrationCanceled((e, _) => Record(e))
            .OnIntegrationReinstated((e, _) => Record(e))
            .OnIntegrationDeleted((e, _) => Record(e))
            .OnIntegrationApiKeyCreated((e, _) => Record(e))
            .OnUnknown((e, _) => Record(e));
        foreach (var discriminator in GeneralDiscriminators.All)
        {
            options.OnGeneralEvent(discriminator, (e, _) => Record(e));
        }
    }

    public async Task WaitForAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (_seen.Count < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Handlers saw {_seen.Count} events; expected {count}.");
            }
            await _arrived.WaitAsync(TimeSpan.FromMilliseconds(100), ReceiverApp.Ct);
        }
    }
}

/// <summary>Counts log entries by level and event id, so tests can assert that nothing failed unseen.</summary>
internal sealed class CountingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, EventId Id, string Category, string Text, Exception? Error)> _entries = new();

    public IReadOnlyList<(LogLevel Level, EventId Id, string Category, string Text, Exception? Error)> Entries => [.. _entries];

    public int Count(LogLevel level) => _entries.Count(e => e.Level >= level);

    public int Count(int eventId) => _entries.Count(e => e.Id.Id == eventId && e.Category.StartsWith("ConnectorEvents", StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CountingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._entries.Enqueue((logLevel, eventId, category, formatter(state, exception), exception));
    }
}
