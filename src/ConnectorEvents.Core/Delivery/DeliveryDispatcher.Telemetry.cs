using System.Diagnostics;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Core.Telemetry;

namespace ConnectorEvents.Core.Delivery;

/// <summary>
/// Traces (each delivery attempt a span of the trace that created its message: an API command or ingest) and the delivery
/// log (<see cref="DeliveryLog"/>: a failed attempt, a message given up).
/// </summary>
public sealed partial class DeliveryDispatcher
{
    /// <summary>The span running now (a commit's), when traces are recorded; its messages' attempts join its trace.</summary>
    private static ActivityContext CurrentTrace() =>
        ConnectorTelemetry.Source.HasListeners() && Activity.Current is { } current ? current.Context : default;

    /// <summary>
    /// The traces of committed messages that a lane will read back from storage instead of taking them from the commit (on
    /// PostgreSQL always, elsewhere past the in-memory window), by message id; bounded, as a message read by another
    /// process never comes to take its entry.
    /// </summary>
    private readonly Dictionary<string, ActivityContext> _keptTraces = new(StringComparer.Ordinal);

    private const int MaxKeptTraces = 10_000;

    private void KeepTrace(PendingMessage message)
    {
        if (message.Trace == default)
        {
            return;
        }
        if (_keptTraces.Count >= MaxKeptTraces)
        {
            _keptTraces.Clear();
        }
        _keptTraces[message.Id] = message.Trace;
    }

    private PendingMessage WithKeptTrace(PendingMessage message) =>
        _keptTraces.Count > 0 && _keptTraces.Remove(message.Id, out var trace) ? message with { Trace = trace } : message;

    private static IReadOnlyList<PendingMessage> Traced(IReadOnlyList<PendingMessage> messages)
    {
        var trace = CurrentTrace();
        return trace == default ? messages : messages.Select(m => m with { Trace = trace }).ToList();
    }

    private async Task<AttemptResult> SendTracedAsync(PendingMessage message, ClientTarget target, CancellationToken cancellationToken)
    {
        // A message read back from storage (after a restart, or written by another process) starts a trace of its own.
        using var span = ConnectorTelemetry.Source.StartActivity("deliver", ActivityKind.Client, message.Trace);
        // A span the sampler dropped still exists (its context goes on); nothing would read its tags.
        if (span is not { IsAllDataRequested: true })
        {
            return await _sender.SendAsync(target.Url!, message.Id, message.Body, target.Keys, cancellationToken).ConfigureAwait(false);
        }
        span.SetTag("webhook.id", message.Id);
        span.SetTag("connector_events.channel", message.Channel.ToString());
        span.SetTag("connector_events.integration_id", message.IntegrationId.ToString());
        span.SetTag("connector_events.attempt", message.AttemptCount + 1);
        var result = await _sender.SendAsync(target.Url!, message.Id, message.Body, target.Keys, cancellationToken).ConfigureAwait(false);
        span.SetTag("url.full", result.Url); // without userinfo or query: the token stays out of traces
        span.SetTag("connector_events.outcome", ConnectorTelemetry.OutcomeOf(result));
        if (result.StatusCode is { } status)
        {
            span.SetTag("http.response.status_code", status);
        }
        if (!result.Succeeded)
        {
            span.SetStatus(ActivityStatusCode.Error, result.ErrorKind ?? $"HTTP {result.StatusCode}");
        }
        return result;
    }

    private void LogAttempt(PendingMessage message, WebhookChannel channel, int attempt, AttemptResult result, MessageProgress progress)
    {
        if (result.Succeeded)
        {
            return;
        }
        var outcome = ConnectorTelemetry.OutcomeOf(result);
        var error = result.ErrorKind is null ? null : result.Error ?? result.ErrorKind;
        if (progress.Status == MessageStatus.Pending)
        {
            DeliveryLog.AttemptFailed(_logger, message.Id, attempt, outcome, result.StatusCode, error, progress.NextAttemptUtc!.Value,
                message.ClientId, channel.ToString(), message.IntegrationId, result.Url);
        }
        else
        {
            DeliveryLog.MessageFailed(_logger, message.Id, attempt, outcome, result.StatusCode, error, progress.StatusReason!,
                message.ClientId, channel.ToString(), message.IntegrationId, result.Url);
        }
    }
}
