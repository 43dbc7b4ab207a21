using ConnectorEvents.Core.Clients;
using ConnectorEvents.Core.Storage;
using Microsoft.AspNetCore.Mvc;

namespace ConnectorEvents.Server.OperatorConsole.Pages;

/// <summary>
/// One endpoint among the worst: with failures among the newest attempts. Its state: Disabled, Failing (its last attempt
/// failed) or Recovered (it failed, then succeeded).
/// </summary>
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
        metrics.NoteViewer(); // only this page shows the backlog: counting it is paid while someone looks here
        Steps = metrics.Read();
        LatestFailed = store.ListMessages(new MessageQuery(null, null, MessageStatus.Failed, null, 5));
        var names = new Dictionary<Guid, ClientRecord?>();
        ClientRecord? Client(Guid id) => names.TryGetValue(id, out var known) ? known : names[id] = store.FindClient(id);
        Worst = store.TallyRecentAttempts(AttemptsRanked)
            .Where(t => t.Failures > 0)
            .OrderByDescending(t => t.Failures / (double)t.Attempts).ThenByDescending(t => t.Failures)
            .Take(WorstShown)
            .Select(t => Client(t.ClientId) is { } client
                ? new WorstEndpoint(client.Id, client.Name, t.Channel, StateOf(client, t), t.Attempts, t.Failures, t.LastFailureUtc)
                : null)
            .OfType<WorstEndpoint>()
            .ToList();
    }

    /// <summary>As the clients' list says it, but an endpoint among the worst that is healthy now has recovered.</summary>
    private static string StateOf(ClientRecord client, EndpointTally tally)
    {
        var disabled = tally.Channel == WebhookChannel.General ? client.GeneralWebhookDisabledUtc : client.IntegrationWebhookDisabledUtc;
        var state = ClientsModel.StateOf(disabled, tally);
        return state == EndpointState.Healthy ? "Recovered" : state.ToString();
    }

    public static readonly (string Name, string Css)[] OutcomeLines =
    [
        ("success", "s-ok"), ("HTTP error", "s-http"), ("timeout", "s-timeout"), ("connection error", "s-conn"), ("blocked", "s-blocked"),
    ];

    public IReadOnlyList<double?> PerSecond(Func<ConsoleMetrics.Interval, long> count) => ConsoleMetrics.PerSecond(Steps, count);
}
