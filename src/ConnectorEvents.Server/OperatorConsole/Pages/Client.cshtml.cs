using System.Globalization;
using ConnectorEvents.Contracts;
using ConnectorEvents.Core;
using ConnectorEvents.Core.Clients;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Messages;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Server.Api;
using Microsoft.AspNetCore.Mvc;

namespace ConnectorEvents.Server.OperatorConsole.Pages;

/// <summary>The last failed attempt to an endpoint and what the receiver answered.</summary>
public sealed record FailedAnswer(string MessageId, AttemptRecord Attempt);

/// <summary>
/// One client: each endpoint's health over its last attempts, the last failure with the receiver's answer, and (Admin) set
/// or clear a URL, rotate the signing secret, pin the contract version, send failed messages again, retry waiting ones now.
/// </summary>
public sealed class ClientModel(IConnectorStore store, ClientService clients, MessageService messages, NetworkPolicy policy, TimeProvider time)
    : ConsolePageModel
{
    /// <summary>The client's newest messages searched for the last failed attempt.</summary>
    private const int MessagesSearched = 20;

    public ClientRecord Client { get; private set; } = null!;
    public IReadOnlyList<ChannelHealth> Health { get; private set; } = [];
    public IReadOnlyDictionary<WebhookChannel, FailedAnswer> LastFailures { get; private set; } = new Dictionary<WebhookChannel, FailedAnswer>();
    public IReadOnlyList<MessageRecord> Failed { get; private set; } = [];
    public RotatedSecret? Rotated { get; private set; }
    public DateTimeOffset Now { get; private set; }

    public IActionResult OnGet(Guid id) => Load(id) ? Page() : NotFound();

    public Task<IActionResult> OnPostUrlAsync(Guid id, WebhookChannel? channel, string? url) => ActAsync(async () =>
    {
        if (channel is null)
        {
            throw new DomainException(DomainErrorKind.Invalid, "Choose the channel: Integration or General.");
        }
        var field = channel == WebhookChannel.General ? "GeneralWebhookUrl" : "IntegrationWebhookUrl";
        var change = new UrlChange(RequestReading.CheckWebhookUrl(string.IsNullOrWhiteSpace(url) ? null : url.Trim(), field, policy));
        await clients.UpdateAsync(id, channel == WebhookChannel.General
            ? new ClientPatch(null, null, change)
            : new ClientPatch(null, change, null)).ConfigureAwait(false);
        return change.Url is null ? $"The {channel} Webhook URL was removed." : $"The {channel} Webhook URL was set; a disabled endpoint is enabled again.";
    }, new { id });

    public Task<IActionResult> OnPostVersionAsync(Guid id, string? version) => ActAsync(async () =>
    {
        if (!ContractVersion.TryParse(version, out var pinned))
        {
            throw new DomainException(DomainErrorKind.Invalid, $"Choose one of {ContractVersion.KnownTexts}.");
        }
        await clients.UpdateAsync(id, new ClientPatch(null, null, null, pinned)).ConfigureAwait(false);
        return $"The client now receives contract version {pinned.Text}.";
    }, new { id });

    public Task<IActionResult> OnPostRecoverAsync(Guid id, string? since, string? until, WebhookChannel? channel) => ActAsync(async () =>
    {
        var from = Show.ParseInput(since) ?? throw ApiProblemException.Invalid("Since", "is required: when the window starts (UTC).");
        var to = string.IsNullOrWhiteSpace(until) ? time.GetUtcNow() : Show.ParseInput(until) ?? throw ApiProblemException.Invalid("Until", "is not a time.");
        if (from >= to)
        {
            throw ApiProblemException.Invalid("Until", "must be later than Since.");
        }
        var receipt = await messages.RecoverAsync(new FailedMessageQuery(id, null, channel, from, to, MessageService.MaxRecoveredPerCall))
            .ConfigureAwait(false);
        return string.Create(CultureInfo.InvariantCulture,
            $"{receipt.Recovered:N0} failed message(s) queued again{(receipt.More ? "; the window holds more: recover again for the next ones" : "")}.");
    }, new { id });

    public Task<IActionResult> OnPostRetryNowAsync(Guid id) => ActAsync(async () =>
    {
        await clients.RetryNowAsync(id).ConfigureAwait(false);
        return "Messages waiting for their next retry are being sent now.";
    }, new { id });

    public Task<IActionResult> OnPostRotateAsync(Guid id) => ShowOnceAsync(() => clients.RotateSecretAsync(id), rotated =>
    {
        if (!Load(id))
        {
            return NotFound();
        }
        Rotated = rotated;
        return Page();
    }, new { id });

    private bool Load(Guid id)
    {
        Now = time.GetUtcNow();
        if (store.FindClient(id) is not { } client)
        {
            return false;
        }
        Client = client;
        Health = EndpointHealth.Of(client, store);
        var recent = store.ListMessages(new MessageQuery(id, null, null, null, MessagesSearched));
        var failures = new Dictionary<WebhookChannel, FailedAnswer>();
        // A message delivered at its first attempt holds no failure: only the others' attempts are read.
        foreach (var message in recent.Where(m => m.AttemptCount > 1 || (m.AttemptCount == 1 && m.Status != MessageStatus.Delivered && m.Status != MessageStatus.Skipped)))
        {
            if (store.ListAttempts(message.Seq).LastOrDefault(a => a.StatusCode is not (>= 200 and < 300)) is { } attempt
                && (!failures.TryGetValue(message.Channel, out var known) || known.Attempt.StartedUtc < attempt.StartedUtc))
            {
                failures[message.Channel] = new FailedAnswer(message.Id, attempt);
            }
        }
        LastFailures = failures;
        Failed = store.ListMessages(new MessageQuery(id, null, MessageStatus.Failed, null, 10));
        return true;
    }
}
