using System.Globalization;
using System.Text.Json;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// Ready when the writer and the dispatcher run, the last write succeeded (a failing one makes it unready until a write,
/// or the writer's probe, succeeds again) and storage answers. A read alone is no proof: on a full disk it still succeeds.
/// </summary>
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
        if (writer.Health.Failure is { } failure)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(string.Create(CultureInfo.InvariantCulture,
                $"Writes fail: {failure.Reason} (since {failure.SinceUtc:yyyy-MM-ddTHH:mm:ssZ}, last {failure.LastUtc:yyyy-MM-ddTHH:mm:ssZ}).")));
        }
        return Task.FromResult(store.Ping()
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("Storage does not answer."));
    }

    /// <summary>
    /// The body of <c>/healthz/ready</c>: <c>{"Status":"Unhealthy","Reason":"Writes fail: disk full (…)."}</c>. The
    /// reasons are this class's own sentences, never an exception's message, so no path, host or credential gets out.
    /// </summary>
    public static Task WriteResponseAsync(HttpContext context, HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(report);
        context.Response.ContentType = "application/json; charset=utf-8";
        using var body = new MemoryStream();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("Status", report.Status.ToString());
            if (report.Entries.Values.Select(e => e.Description).FirstOrDefault(d => !string.IsNullOrEmpty(d)) is { } reason)
            {
                json.WriteString("Reason", reason);
            }
            json.WriteEndObject();
        }
        return context.Response.Body.WriteAsync(body.ToArray()).AsTask();
    }
}
