using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectorEvents.Bench;

/// <summary>What a run of API commands came to.</summary>
public sealed record CommandTally(int Accepted, int Failed, long FirstSendTimestamp, long LastAnswerTimestamp)
{
    public double Seconds => Clock.Seconds(FirstSendTimestamp, LastAnswerTimestamp);
}

/// <summary>
/// A running server with <see cref="BenchSettings.Clients"/> clients (one enterprise each, sink path <c>/c{i}</c>) and
/// <see cref="BenchSettings.IntegrationsPerClient"/> integrations per client, created over the management API.
/// Tracks each integration's state so that every command it sends is accepted.
/// </summary>
public sealed class Deployment : IAsyncDisposable
{
    private readonly string[] _enablePaths;
    private readonly string[] _disablePaths;
    private int _next;

    private Deployment(ServerSet servers, Guid[] clientIds, Guid[] integrationIds, bool[] enabled)
    {
        Servers = servers;
        Server = servers.Primary;
        ClientIds = clientIds;
        IntegrationIds = integrationIds;
        Enabled = enabled;
        _enablePaths = integrationIds.Select(id => $"/api/v1/integrations/{id}/enable").ToArray();
        _disablePaths = integrationIds.Select(id => $"/api/v1/integrations/{id}/disable").ToArray();
        Apis = servers.BaseUris.Select(CreateApiClient).ToArray();
    }

    public ServerSet Servers { get; }

    /// <summary>The in-process server (the one whose internals are read).</summary>
    public RunningServer Server { get; }

    /// <summary>One API client per server process; commands alternate over them.</summary>
    public HttpClient[] Apis { get; }
    public Guid[] ClientIds { get; }
    public Guid[] IntegrationIds { get; }

    /// <summary>The state each integration is in after the commands sent so far.</summary>
    public bool[] Enabled { get; }

    /// <summary>The in-process server's group-commit writer.</summary>
    public GroupCommitWriter Writer => Server.Services.GetRequiredService<GroupCommitWriter>();

    /// <summary>The writer counters cover every write only with one server process.</summary>
    public bool WriterCoversAll => Servers.Secondary is null;

    public static string ClientUrl(WebhookSink sink, int client)
    {
        ArgumentNullException.ThrowIfNull(sink);
        return sink.Url($"/c{client}?Token=bench-token-{client}");
    }

    /// <summary>Default delivery settings, loopback opened for the in-process sink.</summary>
    public static Task<ServerSet> StartServerAsync(StorageKind storage, string dataDirectory) =>
        ServerSet.StartAsync(storage, dataDirectory);

    /// <summary>Starts the servers on <paramref name="dataDirectory"/> and creates the clients and integrations.</summary>
    public static async Task<Deployment> CreateAsync(BenchSettings settings, WebhookSink sink, StorageKind storage, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var servers = await StartServerAsync(storage, dataDirectory).ConfigureAwait(false);
        var server = servers.Primary;
        var clientIds = new Guid[settings.Clients];
        var integrationIds = new Guid[settings.Integrations];
        await Parallel.ForEachAsync(Enumerable.Range(0, settings.Clients), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (c, _) =>
            {
                var (enterpriseId, clientId, _) = await server.SeedAsync(ClientUrl(sink, c), $"Bench {c}").ConfigureAwait(false);
                clientIds[c] = clientId;
                for (var i = 0; i < settings.IntegrationsPerClient; i++)
                {
                    integrationIds[(c * settings.IntegrationsPerClient) + i] =
                        await server.CreateIntegrationAsync(enterpriseId, clientId).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        return new Deployment(servers, clientIds, integrationIds, Enumerable.Repeat(true, integrationIds.Length).ToArray());
    }

    /// <summary>A server started afresh on the data folder of an earlier one, with the same clients and integrations.</summary>
    public static async Task<Deployment> ReopenAsync(Deployment earlier, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        var servers = await StartServerAsync(earlier.Servers.Storage, dataDirectory).ConfigureAwait(false);
        return new Deployment(servers, earlier.ClientIds, earlier.IntegrationIds, (bool[])earlier.Enabled.Clone());
    }

    public static HttpClient CreateApiClient(Uri baseUri)
    {
        var client = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            MaxConnectionsPerServer = 512,
            UseCookies = false,
            UseProxy = false,
        })
        {
            BaseAddress = baseUri,
            Timeout = TimeSpan.FromSeconds(60),
        };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RunningServer.AdminKey);
        return client;
    }

    /// <summary>The path of the command that flips integration <paramref name="index"/> from its state now.</summary>
    public string TogglePath(int index) => Enabled[index] ? _disablePaths[index] : _enablePaths[index];

    public string CommandPath(int index, bool enable) => enable ? _enablePaths[index] : _disablePaths[index];

    /// <summary>Sends one command; true when the server accepted it.</summary>
    public async Task<bool> SendAsync(string path)
    {
        var api = Apis[(int)((uint)Interlocked.Increment(ref _next) % (uint)Apis.Length)];
        using var response = await api.PostAsync(path, null).ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }

    /// <summary>
    /// <paramref name="total"/> enable/disable commands from <paramref name="callers"/> concurrent callers, each
    /// sending its next command as soon as the last one is answered. No two callers hold the same integration at once.
    /// </summary>
    public async Task<CommandTally> ToggleAsync(int total, int callers, Action<int>? progress = null)
    {
        var free = new ConcurrentQueue<int>(Enumerable.Range(0, IntegrationIds.Length));
        var issued = 0;
        var accepted = 0;
        var failed = 0;
        var first = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref issued) <= total)
            {
                if (!free.TryDequeue(out var index))
                {
                    throw new InvalidOperationException("More callers than integrations.");
                }
                try
                {
                    if (await SendAsync(TogglePath(index)).ConfigureAwait(false))
                    {
                        Enabled[index] = !Enabled[index];
                        var done = Interlocked.Increment(ref accepted);
                        if (done % 10_000 == 0)
                        {
                            progress?.Invoke(done);
                        }
                    }
                    else
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
                finally
                {
                    free.Enqueue(index);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
        return new CommandTally(accepted, failed, first, Stopwatch.GetTimestamp());
    }

    /// <summary>Sends one command to every integration (disable all, or enable all), <paramref name="callers"/> at a time.</summary>
    public async Task<int> RoundAsync(bool enable, int callers)
    {
        var accepted = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, IntegrationIds.Length),
            new ParallelOptions { MaxDegreeOfParallelism = callers }, async (index, _) =>
            {
                if (Enabled[index] != enable && await SendAsync(CommandPath(index, enable)).ConfigureAwait(false))
                {
                    Enabled[index] = enable;
                    Interlocked.Increment(ref accepted);
                }
            }).ConfigureAwait(false);
        return accepted;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var api in Apis)
        {
            api.Dispose();
        }
        await Servers.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>Stopwatch timestamps to seconds and milliseconds.</summary>
public static class Clock
{
    public static double Seconds(long from, long to) => (to - from) / (double)Stopwatch.Frequency;

    public static double Milliseconds(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
}
