using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Receiver;

/// <summary>The bounded queue of <see cref="WebhookProcessingMode.AcknowledgeThenProcess"/>.</summary>
internal sealed class WebhookQueue(IOptions<ConnectorWebhookOptions> options)
{
    private readonly Channel<QueuedWebhook> _channel = Channel.CreateBounded<QueuedWebhook>(
        new BoundedChannelOptions(options.Value.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    public bool TryEnqueue(QueuedWebhook webhook) => _channel.Writer.TryWrite(webhook);

    public ChannelReader<QueuedWebhook> Reader => _channel.Reader;

    public void Complete() => _channel.Writer.TryComplete();
}

internal sealed record QueuedWebhook(string WebhookId, DateTimeOffset? Timestamp, Contracts.WebhookReading Reading);

/// <summary>Runs queued webhooks' handlers, one at a time, in arrival order; drains what is queued on shutdown.</summary>
internal sealed class WebhookQueueProcessor(
    WebhookQueue queue,
    WebhookProcessor processor,
    IOptions<ConnectorWebhookOptions> options,
    ILogger<WebhookQueueProcessor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.ProcessingMode != WebhookProcessingMode.AcknowledgeThenProcess)
        {
            return;
        }
        try
        {
            while (await queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                while (queue.Reader.TryRead(out var item))
                {
                    await ProcessAsync(item, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Accepted webhooks were promised processing: finish what is queued (bounded by the host's shutdown timeout).
            queue.Complete();
            while (queue.Reader.TryRead(out var item))
            {
                await ProcessAsync(item, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task ProcessAsync(QueuedWebhook item, CancellationToken cancellationToken)
    {
        var attempts = options.Value.QueuedAttempts;
        try
        {
            await AttemptAsync(item, attempts, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            processor.Release(item.WebhookId);
        }
    }

    private async Task AttemptAsync(QueuedWebhook item, int attempts, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            try
            {
                await processor.ProcessQueuedAsync(item, cancellationToken).ConfigureAwait(false);
                return;
            }
#pragma warning disable CA1031 // A handler's failure must not stop the queue; it is logged and retried.
            catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
                Log.QueuedHandlerFailed(logger, error, item.WebhookId, attempt, attempts);
                if (attempt < attempts)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
    }
}
