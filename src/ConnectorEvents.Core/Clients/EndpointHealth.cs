using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Core.Clients;

public enum EndpointState
{
    /// <summary>The last attempt succeeded, or none was made yet.</summary>
    Healthy,

    /// <summary>The last attempt failed; retries go on.</summary>
    Failing,

    /// <summary>Disabled (a 410, or failing for <c>Delivery:DisableEndpointAfter</c>): messages wait until the URL is set again.</summary>
    Disabled,
}

/// <summary>One endpoint of a client, as the last <see cref="EndpointHealth.Window"/> attempts show it.</summary>
/// <param name="Url">Without userinfo or query; null when the client has no URL for the channel.</param>
/// <param name="ConsecutiveFailures">Failed attempts since the last success within the window (the window's size at most).</param>
/// <param name="SuccessRate">Successful attempts ÷ attempts in the window; null without attempts.</param>
public sealed record ChannelHealth(
    WebhookChannel Channel,
    string? Url,
    EndpointState State,
    int ConsecutiveFailures,
    DateTimeOffset? LastSuccessUtc,
    DateTimeOffset? LastFailureUtc,
    string? LastFailure,
    int Attempts,
    double? SuccessRate,
    double? P50Ms,
    double? P99Ms,
    DateTimeOffset? DisabledUtc,
    string? DisabledReason);

public static class EndpointHealth
{
    /// <summary>Attempts the figures are taken over.</summary>
    public const int Window = 100;

    public static IReadOnlyList<ChannelHealth> Of(ClientRecord client, IConnectorStore store)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(store);
        return
        [
            Of(WebhookChannel.Integration, client.IntegrationWebhookUrl, client.IntegrationWebhookDisabledUtc, client.IntegrationWebhookDisabledReason,
                Attempts(client.Id, WebhookChannel.Integration, client.IntegrationWebhookUrl, store)),
            Of(WebhookChannel.General, client.GeneralWebhookUrl, client.GeneralWebhookDisabledUtc, client.GeneralWebhookDisabledReason,
                Attempts(client.Id, WebhookChannel.General, client.GeneralWebhookUrl, store)),
        ];
    }

    /// <summary>
    /// No URL, no endpoint: its figures are not read (attempts to a URL since removed are history, not health), which spares
    /// the read that would look furthest back for attempts that cannot come.
    /// </summary>
    private static IReadOnlyList<RecentAttempt> Attempts(Guid clientId, WebhookChannel channel, string? url, IConnectorStore store) =>
        url is null ? [] : store.ListRecentAttempts(clientId, channel, Window);

    /// <param name="attempts">Newest first.</param>
    public static ChannelHealth Of(
        WebhookChannel channel, string? url, DateTimeOffset? disabledUtc, string? disabledReason, IReadOnlyList<RecentAttempt> attempts)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        var consecutive = attempts.TakeWhile(a => !a.Succeeded).Count();
        var lastFailure = attempts.FirstOrDefault(a => !a.Succeeded);
        var durations = attempts.Select(a => a.DurationMs).Order().ToArray();
        var state = disabledUtc is not null ? EndpointState.Disabled
            : attempts.Count > 0 && !attempts[0].Succeeded ? EndpointState.Failing
            : EndpointState.Healthy;
        return new ChannelHealth(
            channel,
            url is null ? null : DeliveryLog.Shown(url),
            state,
            consecutive,
            attempts.FirstOrDefault(a => a.Succeeded)?.StartedUtc,
            lastFailure?.StartedUtc,
            lastFailure is null ? null : lastFailure.StatusCode is { } status ? $"HTTP {status}" : lastFailure.ErrorKind,
            attempts.Count,
            attempts.Count == 0 ? null : attempts.Count(a => a.Succeeded) / (double)attempts.Count,
            Percentile(durations, 0.50),
            Percentile(durations, 0.99),
            disabledUtc,
            disabledReason);
    }

    /// <summary>The nearest-rank percentile of sorted values; null when there are none.</summary>
    private static double? Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? null : Math.Round(sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)], 1);
}
