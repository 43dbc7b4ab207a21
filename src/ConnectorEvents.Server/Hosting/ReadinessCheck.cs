using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConnectorEvents.Server.Hosting;

/// <summary>Ready when storage answers and both the writer and the dispatcher run.</summary>
public sealed class ReadinessCheck(IConnectorStore store, GroupCommitWriter writer, DeliveryDispatcher dispatcher) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!writer.IsRunning)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The storage writer has stopped."));
        }
        if (!dispatcher.IsRunning)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Delivery is not running."));
        }
        return Task.FromResult(store.Ping()
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("Storage does not answer."));
    }
}
