using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Operations;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// Opens storage (migrating it), starts delivery and takes partition leases before the server takes requests. On stop
/// (after the server has stopped taking requests): ends delivery, letting the sends under way finish within the grace
/// period, commits their outcomes, and hands the leases back last, so no other process starts on a lane while a send
/// here runs.
/// </summary>
public sealed class DeliveryHostedService(
    IConnectorStore store, DeliveryDispatcher dispatcher, PartitionLeases leases, GroupCommitWriter writer,
    IOptions<StorageOptions> storage, OperationalEvents operations) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (storage.Value.Provider == StorageProvider.Sqlite)
        {
            DataFolder.Ensure(storage.Value.DataDirectory);
        }
        store.Migrate();
        if (operations.Enabled)
        {
            var secrets = store.ListSecrets(OperationalEvents.ClientId);
            await writer.ExecuteAsync(tx => { operations.Provision(tx, secrets); return true; }).ConfigureAwait(false);
        }
        dispatcher.Start();
        await leases.StartAsync().ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await dispatcher.StopAsync(cancellationToken).ConfigureAwait(false);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        await leases.StopAsync().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
    }
}
