using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Storage.Postgres;

namespace ConnectorEvents.Server.Hosting;

/// <summary>Listens for what other processes on the PostgreSQL database commit, so their work wakes this one at once.</summary>
public sealed class ChangeFeedHostedService(PostgresChangeFeed feed, ClusterSignals signals) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        feed.Start(signals);
        // Whatever committed between the first lease scan and the LISTEN is found by scanning once more.
        signals.MayHaveMissedSignals();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await feed.DisposeAsync().ConfigureAwait(false);
}
