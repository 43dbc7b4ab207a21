using System.Diagnostics;
using ConnectorEvents.Core.Delivery;

namespace ConnectorEvents.Bench;

public sealed partial class Scenarios
{
    /// <summary>
    /// The delivery protocol alone: the server's own <see cref="WebhookSender"/> (Standard Webhooks signature and headers,
    /// time-out, SSRF check at connect, first KiB of the answer read) in the ceiling's loops, with no storage, queue or
    /// dispatcher. The share of the ceiling it reaches bounds what any drain can reach.
    /// </summary>
    public async Task<CeilingResult> SenderFloorAsync()
    {
        sink.Respond = null;
        sink.Record = false;
        var body = SampleBody();
        var urls = Enumerable.Range(0, settings.Clients).Select(c => Deployment.ClientUrl(sink, c)).ToArray();
        var options = new DeliveryOptions { AllowedNetworks = ["127.0.0.0/8"] };
        using var sender = new WebhookSender(new NetworkPolicy(options), options, TimeProvider.System);
        SigningKey[] keys = [SigningKey.Parse(WebhookSigner.NewSecret())];

        async Task<(int Posts, int Failed)> LoopAsync(int total)
        {
            var issued = 0;
            var failed = 0;
            var loops = Enumerable.Range(0, settings.CeilingConcurrency).Select(loop => Task.Run(async () =>
            {
                int n;
                while ((n = Interlocked.Increment(ref issued)) <= total)
                {
                    var result = await sender.SendAsync(urls[n % urls.Length], $"msg_{n}", body, keys, CancellationToken.None)
                        .ConfigureAwait(false);
                    if (!result.Succeeded)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            })).ToArray();
            await Task.WhenAll(loops).ConfigureAwait(false);
            return (total, failed);
        }

        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromSeconds(settings.Quick ? 1 : 3))
        {
            await LoopAsync(2_000).ConfigureAwait(false);
        }
        sink.Clear();
        var started = Stopwatch.GetTimestamp();
        var cpu = CpuClock.Start();
        var (posts, failedPosts) = await LoopAsync(settings.CeilingPosts).ConfigureAwait(false);
        var seconds = Clock.Seconds(started, Stopwatch.GetTimestamp());
        var cpuSeconds = cpu.Seconds;
        if (sink.Count != posts)
        {
            throw new InvalidOperationException($"The sink counted {sink.Count} posts of {posts}.");
        }
        return new CeilingResult(posts, failedPosts, settings.CeilingConcurrency, seconds, cpuSeconds);
    }
}
