using ConnectorEvents.Contracts;

namespace ConnectorEvents.Receiver;

/// <summary>How webhooks are processed once verified and read.</summary>
public enum WebhookProcessingMode
{
    /// <summary>Handlers run inside the request: 200 when they succeed, 500 when one throws (so the sender retries).</summary>
    Synchronous,

    /// <summary>
    /// The request is answered 202 at once and handlers run from a bounded in-memory queue; a full queue answers 503
    /// with <c>Retry-After</c>, so the sender retries and nothing is dropped at the door.
    /// </summary>
    AcknowledgeThenProcess,
}

/// <summary>
/// Settings and handlers of the Connector webhook endpoint. Signatures are required unless
/// <see cref="RequireSignature"/> is set to false explicitly; with it true and neither a signing secret nor a public key
/// the app does not start.
/// </summary>
public sealed class ConnectorWebhookOptions
{
    internal const string IntegrationKeyPrefix = "action:";
    internal const string GeneralKeyPrefix = "general:";
    internal const string MessageKey = "message";
    internal const string UnknownKey = "unknown";

    /// <summary>
    /// Signing secrets (<c>whsec_</c> + base64 key) for HMAC signatures (<c>v1,</c> entries). A body is accepted when any
    /// <c>v1</c> signature in <c>webhook-signature</c> matches any of them, or any <c>v1a</c> signature verifies under
    /// one of the <see cref="PublicKeys"/>; so a rotated secret can be added before the old one is removed.
    /// </summary>
    public IList<string> SigningSecrets { get; } = new List<string>();

    /// <summary>
    /// Ed25519 public keys (<c>whpk_</c> + base64 of 32 bytes) for asymmetric signatures (<c>v1a,</c> entries), as the
    /// sender shows them for your client. Only the sender holds the matching <c>whsk_</c> secret key: a leaked public key
    /// lets nobody sign. Add the new key here before the sender rotates, and remove the old one after.
    /// </summary>
    public IList<string> PublicKeys { get; } = new List<string>();

    /// <summary>
    /// Whether every request must carry a valid Standard Webhooks signature. True by default; set it to false only on
    /// purpose, e.g. when the sender authenticates with the URL token alone.
    /// </summary>
    public bool RequireSignature { get; set; } = true;

    /// <summary>When set, the request's <c>?Token=</c> must equal it (compared in constant time), or it is answered 401.</summary>
    public string? UrlToken { get; set; }

    /// <summary>How far <c>webhook-timestamp</c> may be from now, either way. Five minutes by default.</summary>
    public TimeSpan TimestampTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The clock; when null, the <see cref="System.TimeProvider"/> registered in DI, else the system clock.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Largest accepted body in bytes; larger bodies are answered 413. One MiB by default.</summary>
    public long MaxBodySize { get; set; } = 1024 * 1024;

    /// <summary>How many processed webhook ids the default in-memory de-duplication store remembers (least recently seen go first).</summary>
    public int DeduplicationCapacity { get; set; } = 10_000;

    /// <summary>Synchronous by default.</summary>
    public WebhookProcessingMode ProcessingMode { get; set; } = WebhookProcessingMode.Synchronous;

    /// <summary>How many accepted webhooks may wait in <see cref="WebhookProcessingMode.AcknowledgeThenProcess"/> mode.</summary>
    public int QueueCapacity { get; set; } = 1000;

    /// <summary>The <c>Retry-After</c> sent with 503 when the queue is full.</summary>
    public TimeSpan QueueFullRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a queued webhook's handlers are tried before it is logged as failed (queued mode only).</summary>
    public int QueuedAttempts { get; set; } = 3;

    internal Dictionary<string, List<WebhookHandler>> Handlers { get; } = new(StringComparer.Ordinal);

    /// <summary>The settings a configuration section may hold: every public property but the clock.</summary>
    internal static IReadOnlyList<string> SettingNames { get; } =
        [.. typeof(ConnectorWebhookOptions).GetProperties().Where(p => p.Name != nameof(TimeProvider)).Select(p => p.Name)];

    /// <summary>The configuration section the settings were bound from, e.g. <c>Webhooks</c>; null when set in code only.</summary>
    internal string? SettingsSection { get; set; }

    /// <summary>Keys of that section that name no setting (a typo, or a key from an older snippet).</summary>
    internal List<string> UnknownSettings { get; } = [];

    /// <summary>Runs for every <c>IntegrationCreated</c>.</summary>
    public ConnectorWebhookOptions OnIntegrationCreated(Func<ConnectorWebhook<IntegrationCreatedData>, CancellationToken, Task> handler) =>
        OnIntegration(IntegrationActions.Created, handler);

    /// <summary>Runs for every <c>IntegrationEnabled</c>.</summary>
    public ConnectorWebhookOptions OnIntegrationEnabled(Func<ConnectorWebhook<IntegrationStateData>, CancellationToken, Task> handler) =>
        OnIntegration(IntegrationActions.Enabled, handler);

    /// <summary>Runs for every <c>IntegrationDisabled</c>.</summary>
    public ConnectorWebhookOptions OnIntegrationDisabled(Func<ConnectorWebhook<IntegrationStateData>, CancellationToken, Task> handler) =>
        OnIntegration(IntegrationActions.Disabled, handler);

    /// <summary>Runs for every <c>IntegrationCanceled</c>.</summary>
    public ConnectorWebhookOptions OnIntegrationCanceled(Func<ConnectorWebhook<IntegrationStateData>, CancellationToken, Task> handler) =>
        OnIntegration(IntegrationActions.Canceled, handler);

    /// <summary>Runs for every <c>IntegrationReinstated</c>.</summary>
    public ConnectorWebhookOptions OnIntegrationReinstated(Func<ConnectorWebhook<IntegrationStateData>, CancellationToken, Task> handler) =>
        OnIntegration(IntegrationActions.Reinstated, handler);

    /// <summary>Runs for every <c>IntegrationDeleted</c>.</summary>
    public ConnectorWebhookOptions OnIntegrationDeleted(Func<ConnectorWebhook<IntegrationDeletedData>, CancellationToken, Task> handler) =>
        OnIntegration(IntegrationActions.Deleted, handler);

    /// <summary>Runs for every <c>IntegrationApiKeyCreated</c>.</summary>
    public ConnectorWebhookOptions OnIntegrationApiKeyCreated(
        Func<ConnectorWebhook<IntegrationApiKeyCreatedData>, CancellationToken, Task> handler) =>
        OnIntegration(IntegrationActions.ApiKeyCreated, handler);

    /// <summary>
    /// Runs for every General event with <paramref name="discriminator"/> (one of <see cref="GeneralDiscriminators.All"/>),
    /// once per event, in the order of the message.
    /// </summary>
    public ConnectorWebhookOptions OnGeneralEvent(string discriminator, Func<ConnectorWebhook<GeneralEventData>, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(discriminator);
        if (!GeneralDiscriminators.IsKnown(discriminator))
        {
            throw new ArgumentException(
                $"'{discriminator}' is not a General discriminator; use one of {string.Join(", ", GeneralDiscriminators.All)} "
                + "(or OnUnknown for others).", nameof(discriminator));
        }
        return Add(GeneralKeyPrefix + discriminator, handler);
    }

    /// <summary>Runs once for every General message, before its per-event handlers.</summary>
    public ConnectorWebhookOptions OnGeneralMessage(Func<ConnectorWebhook<GeneralMessageReading>, CancellationToken, Task> handler) =>
        Add(MessageKey, handler);

    /// <summary>
    /// Runs for an action or discriminator no contract version documents (a newer sender). Without it such events are
    /// logged and acknowledged; either way they never fail the request.
    /// </summary>
    public ConnectorWebhookOptions OnUnknown(Func<ConnectorWebhook<UnknownWebhookData>, CancellationToken, Task> handler) =>
        Add(UnknownKey, handler);

    private ConnectorWebhookOptions OnIntegration<TData>(string action, Func<ConnectorWebhook<TData>, CancellationToken, Task> handler)
        where TData : IntegrationWebhookData =>
        Add(IntegrationKeyPrefix + action, handler);

    private ConnectorWebhookOptions Add<TData>(string key, Func<ConnectorWebhook<TData>, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!Handlers.TryGetValue(key, out var list))
        {
            Handlers[key] = list = [];
        }
        list.Add((delivery, name, data, cancellationToken) =>
            handler(new ConnectorWebhook<TData>(delivery, name, (TData)data), cancellationToken));
        return this;
    }
}

/// <summary>One registered handler, with the typed data boxed.</summary>
internal delegate Task WebhookHandler(WebhookDelivery delivery, string name, object data, CancellationToken cancellationToken);
