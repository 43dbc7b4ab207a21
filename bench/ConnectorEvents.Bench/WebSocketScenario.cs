using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using ConnectorEvents.Testing;

namespace ConnectorEvents.Bench;

public sealed record WebSocketLatencyResult(int Sockets, int Scheduled, int Accepted, long Expected, long Matched, double AchievedRate, Percentiles FromSend);

public sealed partial class Scenarios
{
    // ---- 7. Latency ingest → WebSocket frame -------------------------------------------------------------------

    /// <summary>
    /// <see cref="BenchSettings.GeneralEnterprises"/> enterprises with <see cref="BenchSettings.SocketsPerEnterprise"/>
    /// integrations each, every integration with one connected socket. An open-loop pacer posts one WebSocket event (a
    /// fresh id) per request at the latency rate, round-robin over the enterprises; each socket stamps the frame that
    /// carries it. Latency = frame received − post sent, for every (event, socket) pair.
    /// </summary>
    public async Task<WebSocketLatencyResult> WebSocketLatencyAsync()
    {
        var directory = NewDataDirectory();
        var sockets = new List<ClientWebSocket>();
        using var stop = new CancellationTokenSource();
        try
        {
            var servers = await Deployment.StartServerAsync(storage, directory).ConfigureAwait(false);
            await using var _ = servers.ConfigureAwait(false);
            var server = servers.Primary;
            var enterprises = new Guid[settings.GeneralEnterprises];
            var arrivals = new ConcurrentDictionary<(Guid, int), long>();
            var receivers = new List<Task>();
            for (var e = 0; e < enterprises.Length; e++)
            {
                var enterprise = await server.PostAsync("/api/v1/enterprises", new { Name = $"Socket Bench {e}" }).ConfigureAwait(false);
                var client = await server.PostAsync("/api/v1/clients", new { Name = $"Socket Bench {e}" }).ConfigureAwait(false);
                enterprises[e] = Guid.Parse((string)enterprise["Id"]!);
                for (var i = 0; i < settings.SocketsPerEnterprise; i++)
                {
                    var integration = await server.PostAsync("/api/v1/integrations",
                        new { EnterpriseId = enterprises[e], ClientId = (string)client["Id"]! }).ConfigureAwait(false);
                    var socket = new ClientWebSocket();
                    socket.Options.SetRequestHeader("Cookie", $"ClientToken={client["ClientToken"]}; AccessToken={integration["AccessToken"]}");
                    // With two processes, each enterprise's sockets alternate over them.
                    var socketBase = servers.BaseUris[sockets.Count % servers.BaseUris.Length];
                    await socket.ConnectAsync(new Uri(new Uri(socketBase.ToString().Replace("http", "ws", StringComparison.Ordinal)), "/ws/connector"),
                        stop.Token).ConfigureAwait(false);
                    var index = sockets.Count;
                    sockets.Add(socket);
                    receivers.Add(Task.Run(() => ReceiveAsync(socket, index, arrivals, stop.Token)));
                }
            }
            var producers = servers.BaseUris.Select(CreateProducer).ToArray();

            var total = (int)(settings.LatencyRate * settings.LatencyDuration.TotalSeconds);
            var ids = Enumerable.Range(0, total).Select(_ => Guid.NewGuid()).ToArray();
            var bodies = ids.Select(id => Encoding.UTF8.GetBytes($$"""{"Events":[{"Type":"Resource","Id":"{{id}}","State":"Dirty"}]}""")).ToArray();
            Progress($"  {sockets.Count} sockets; {total:N0} events at {settings.LatencyRate:N0}/s, one per request");
            var (sent, ok) = await PaceRequestsAsync(total, settings.LatencyRate,
                k => PostEventsAsync(producers[(k / enterprises.Length) % producers.Length], enterprises[k % enterprises.Length], bodies[k]))
                .ConfigureAwait(false);
            var accepted = ok.Count(x => x);
            var expected = (long)accepted * settings.SocketsPerEnterprise;
            var deadline = Stopwatch.GetTimestamp() + (20 * Stopwatch.Frequency);
            while (arrivals.Count < expected && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(5).ConfigureAwait(false);
            }
            var position = new Dictionary<Guid, int>(total);
            for (var k = 0; k < total; k++)
            {
                position[ids[k]] = k;
            }
            var latencies = new List<double>((int)expected);
            foreach (var ((id, _), at) in arrivals)
            {
                if (position.TryGetValue(id, out var k) && ok[k])
                {
                    latencies.Add(Clock.Milliseconds(sent[k], at));
                }
            }
            var achieved = (total - 1) / Clock.Seconds(sent.Min(), sent.Max());
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var socket in sockets)
            {
                socket.Abort();
            }
            await Task.WhenAll(receivers).ConfigureAwait(false);
            foreach (var producer in producers)
            {
                producer.Dispose();
            }
            return new WebSocketLatencyResult(sockets.Count, total, accepted, expected, latencies.Count, achieved, Percentiles.Of(latencies));
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
            await DeleteDirectoryAsync(directory).ConfigureAwait(false);
        }
    }

    private static async Task ReceiveAsync(ClientWebSocket socket, int index, ConcurrentDictionary<(Guid, int), long> arrivals, CancellationToken stop)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(length), stop).ConfigureAwait(false);
                    length += result.Count;
                }
                while (!result.EndOfMessage);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                var at = Stopwatch.GetTimestamp();
                foreach (var id in IdsIn(Encoding.UTF8.GetString(buffer, 0, length)))
                {
                    arrivals.TryAdd((id, index), at);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
    }
}
