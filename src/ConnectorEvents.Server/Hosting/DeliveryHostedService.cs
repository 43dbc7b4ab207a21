using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Hosting;

/// <summary>Opens storage (migrating it) and starts delivery before the server takes requests; stops both in order.</summary>
public sealed class DeliveryHostedService(
    IConnectorStore store, DeliveryDispatcher dispatcher, GroupCommitWriter writer, IOptions<StorageOptions> storage) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetFullPath(storage.Value.DataDirectory));
        store.Migrate();
        dispatcher.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await dispatcher.DisposeAsync().ConfigureAwait(false);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
    }
}
