using System.Diagnostics;
using System.Net.Http.Headers;
using ConnectorEvents.Core.Delivery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConnectorEvents.Bench;

public sealed partial class Scenarios
{
    /// <summary>An answer the size of the management API's to an enable or disable command.</summary>
    private static readonly byte[] CommandAnswer = System.Text.Encoding.UTF8.GetBytes(
        """{"Id":"6e8f1b2c-5d4a-4f3e-9a7b-1c2d3e4f5a6b","Name":"Revenue Management Connector","State":"Disabled","AccessToken":null,"EnterpriseId":"0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0","ClientId":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d","ServiceId":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","CreatedUtc":"2025-08-14T09:31:12Z"}""");

    public static int CommandAnswerLength => CommandAnswer.Length;

    /// <summary>
    /// A sustained event's two HTTP exchanges with nothing between them: the API's callers POST a command to a Kestrel relay
    /// on 127.0.0.1, which answers at once with a command-sized JSON body and hands the webhook to the server's own
    /// <see cref="WebhookSender"/> (signed, to the sink), as the server answers after its commit and delivers beside it. No
    /// routing, authentication, JSON, state machine, storage or dispatcher. Its share of the ceiling bounds scenario 3.
    /// </summary>
    public async Task<CeilingResult> RelayFloorAsync()
    {
        sink.Respond = null;
        sink.Record = false;
        var body = SampleBody();
        var urls = Enumerable.Range(0, settings.Clients).Select(c => Deployment.ClientUrl(sink, c)).ToArray();
        var options = new DeliveryOptions { AllowedNetworks = ["127.0.0.0/8"] };
        using var sender = new WebhookSender(new NetworkPolicy(options), options, TimeProvider.System);
        SigningKey[] keys = [SigningKey.Parse(WebhookSigner.NewSecret())];
        var relayed = 0L;
        var deliveryFailures = 0;

        async Task DeliverAsync(long n)
        {
            var result = await sender.SendAsync(urls[n % urls.Length], $"msg_{n}", body, keys, CancellationToken.None)
                .ConfigureAwait(false);
            if (!result.Succeeded)
            {
                Interlocked.Increment(ref deliveryFailures);
            }
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var relay = builder.Build();
        relay.Run(context =>
        {
            _ = DeliverAsync(Interlocked.Increment(ref relayed));
            context.Response.ContentType = "application/json; charset=utf-8";
            return context.Response.Body.WriteAsync(CommandAnswer).AsTask();
        });
        await relay.StartAsync().ConfigureAwait(false);
        var relayUri = new Uri(relay.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var api = CreatePostClient();
        api.BaseAddress = relayUri;
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "relay-bench-key");

        async Task<(int Posts, int Failed)> LoopAsync(int total)
        {
            var issued = 0;
            var failed = 0;
            var loops = Enumerable.Range(0, settings.ApiCallers).Select(loop => Task.Run(async () =>
            {
                int n;
                while ((n = Interlocked.Increment(ref issued)) <= total)
                {
                    using var response = await api.PostAsync($"/api/v1/integrations/{n % settings.Integrations}/disable", null)
                        .ConfigureAwait(false);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            })).ToArray();
            await Task.WhenAll(loops).ConfigureAwait(false);
            return (total, failed);
        }

        var warmUp = Stopwatch.StartNew();
        var warmed = 0;
        while (warmUp.Elapsed < TimeSpan.FromSeconds(settings.Quick ? 1 : 3))
        {
            warmed += (await LoopAsync(2_000).ConfigureAwait(false)).Posts;
        }
        await WaitForSinkAsync(warmed, "relayed warm-up webhooks").ConfigureAwait(false);
        sink.Clear();
        Interlocked.Exchange(ref deliveryFailures, 0);
        var started = Stopwatch.GetTimestamp();
        var cpu = CpuClock.Start();
        var (posts, failedPosts) = await LoopAsync(settings.CeilingPosts).ConfigureAwait(false);
        var done = await WaitForSinkAsync(posts, "relayed webhooks").ConfigureAwait(false);
        var seconds = Clock.Seconds(started, done);
        var cpuSeconds = cpu.Seconds;
        await relay.StopAsync().ConfigureAwait(false);
        return new CeilingResult(posts, failedPosts + Volatile.Read(ref deliveryFailures), settings.ApiCallers, seconds, cpuSeconds);
    }
}
