using ConnectorEvents.Core.Storage;
using Microsoft.AspNetCore.Mvc;

namespace ConnectorEvents.Server.OperatorConsole.Pages;

/// <summary>One endpoint among the worst: failing among the newest attempts, or disabled.</summary>
public sealed record WorstEndpoint(Guid ClientId, string ClientName, WebhookChannel Channel, string State, int Attempts, int Failures,
    DateTimeOffset? LastFailureUtc);

/// <summary>
/// The overview: this process's deliveries, attempt outcomes, latency and the database's backlog per channel over the last
/// hour (<see cref="ConsoleMetrics"/>), the worst endpoints and the latest failed messages. The charts reload every ten seconds.
/// </summary>
public sealed class IndexModel(ConsoleMetrics metrics, IConnectorStore store, TimeProvider time) : ConsolePageModel
{
    /// <summary>Attempts the worst endpoints are ranked over (newest of all clients).</summary>
    public const int AttemptsRanked = 2000;
    private const int WorstShown = 8;

    public IReadOnlyList<ConsoleMetrics.Interval> Steps { get; private set; } = [];
    public IReadOnlyList<WorstEndpoint> Worst { get; private set; } = [];
    public IReadOnlyList<MessageRecord> LatestFailed { get; private set; } = [];
    public DateTimeOffset Now { get; private set; }

    public void OnGet() => Load();

    /// <summary>The charts and tables alone, for the page's script to swap in.</summary>
    public PartialViewResult OnGetLive()
    {
        Load();
        return Partial("_Overview", this);
    }

    private void Load()
    {
        Now = time.GetUtcNow();
        Steps = metrics.Read();
        LatestFailed = store.ListMessages(new MessageQuery(null, null, MessageStatus.Failed, null, 5));
        var names = new Dictionary<Guid, ClientRecord?>();
        ClientRecord? Client(Guid id) => names.TryGetValue(id, out var known) ? known : names[id] = store.FindClient(id);
        var worst = store.TallyRecentAttempts(AttemptsRanked)
            .Where(t => t.Failures > 0)
            .OrderByDescending(t => t.Failures / (double)t.Attempts).ThenByDescending(t => t.Failures)
            .Take(WorstShown)
            .Select(t => Client(t.ClientId) is { } client
                ? new WorstEndpoint(client.Id, client.Name, t.Channel, DisabledUtc(client, t.Channel) is null ? "Failing" : "Disabled",
                    t.Attempts, t.Failures, t.LastFailureUtc)
                : null)
            .OfType<WorstEndpoint>()
            .ToList();
        Worst = worst;
    }

    private static DateTimeOffset? DisabledUtc(ClientRecord client, WebhookChannel channel) =>
        channel == WebhookChannel.General ? client.GeneralWebhookDisabledUtc : client.IntegrationWebhookDisabledUtc;

    public static readonly (string Name, string Css)[] OutcomeLines =
    [
        ("success", "s-ok"), ("HTTP error", "s-http"), ("timeout", "s-timeout"), ("connection error", "s-conn"), ("blocked", "s-blocked"),
    ];

    /// <summary>A per-second rate line from a per-step count.</summary>
    public IReadOnlyList<double?> PerSecond(Func<ConsoleMetrics.Interval, long> count) =>
        Steps.Select(s => (double?)(count(s) / ConsoleMetrics.StepLength.TotalSeconds)).ToList();
}
