using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConnectorEvents.Testing;

/// <summary>One request as the sink saw it.</summary>
public sealed record ReceivedWebhook(
    string Path,
    string QueryString,
    IReadOnlyDictionary<string, string> Headers,
    byte[] Body,
    long ReceivedTimestamp)
{
    public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : "";

    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);

    public string MessageId => Header("webhook-id");
}

/// <summary>
/// A real Kestrel receiver on 127.0.0.1 with a random port. Records every request; answers with what
/// <see cref="Respond"/> says (200 by default). Used by tests and benchmarks alike.
/// </summary>
public sealed class WebhookSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private long _count;

    private WebhookSink(WebApplication app) => _app = app;

    /// <summary>Decides the answer; runs for every request. Null answers 200.</summary>
    public Func<HttpContext, ReceivedWebhook, Task>? Respond { get; set; }

    /// <summary>Sees every body as it arrives, before the answer (benchmarks count and stamp events with it).</summary>
    public Action<byte[]>? Inspect { get; set; }

    /// <summary>When false the sink only counts (benchmarks), keeping no bodies.</summary>
    public bool Record { get; set; } = true;

    public Uri BaseUri { get; private set; } = null!;

    public long Count => Interlocked.Read(ref _count);

    public IReadOnlyList<ReceivedWebhook> Received => _received.ToArray();

    public string Url(string path = "/hook") => new Uri(BaseUri, path).ToString();

    private const string TraceSourceName = "ConnectorEvents.Testing.WebhookSink";

    public static async Task<WebhookSink> StartAsync(string host = "127.0.0.1")
    {
        // Rooted beside the binaries, not in the working directory: the settings-file watcher would otherwise watch the
        // working directory's whole tree, and a data folder inside it (say, the bench run from /tmp) would wake it on
        // every write to the database.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{host}:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 16 * 1024 * 1024);
        // A receiver is another party: its requests stay out of the traces of a server in the same process (the bench's),
        // which listen to ASP.NET Core's activity source and diagnostic listener by their name, "Microsoft.AspNetCore".
        builder.Services.AddSingleton(_ => new ActivitySource(TraceSourceName));
        builder.Services.AddSingleton(_ => new DiagnosticListener(TraceSourceName));
        var app = builder.Build();
        var sink = new WebhookSink(app);
        app.Run(sink.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        sink.BaseUri = new Uri(address);
        return sink;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        var received = new ReceivedWebhook(
            request.Path.Value ?? "",
            request.QueryString.Value ?? "",
            Record ? request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()) : new Dictionary<string, string>(),
            Record ? buffer.ToArray() : [],
            Stopwatch.GetTimestamp());
        Inspect?.Invoke(buffer.ToArray());
        if (Respond is { } respond)
        {
            await respond(context, received).ConfigureAwait(false);
        }
        else
        {
            context.Response.StatusCode = 200;
        }
        // Counted once answered, so a waiting test sees the attempt as the sender does.
        if (Record)
        {
            _received.Enqueue(received);
        }
        Interlocked.Increment(ref _count);
        _arrived.Release();
    }

    /// <summary>Waits until at least <paramref name="count"/> requests arrived, or fails after <paramref name="timeout"/>.</summary>
    public async Task WaitForAsync(long count, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)((timeout ?? TimeSpan.FromSeconds(20)).TotalSeconds * Stopwatch.Frequency);
        while (Count < count)
        {
            var left = TimeSpan.FromSeconds((deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"The sink received {Count} requests; expected {count}.");
            }
            await _arrived.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200)).ConfigureAwait(false);
        }
    }

    public void Clear()
    {
        _received.Clear();
        Interlocked.Exchange(ref _count, 0);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _arrived.Dispose();
    }
}
