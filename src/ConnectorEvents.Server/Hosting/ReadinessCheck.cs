using System.Globalization;
using System.Text.Json;
using ConnectorEvents.Core.Cluster;
using ConnectorEvents.Core.Delivery;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Server.Api;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// Ready when the writer and the dispatcher run, the last write succeeded (a failing one makes it unready until a write,
/// or the writer's probe, succeeds again) and storage answers. A read alone is no proof: on a full disk it still succeeds.
/// Storage is asked at most once a second, and a probe never waits long for it: under a burst of heavy writes (SQLite
/// restarting its log, a flood of large ingest bodies) a read can take a second, which is slowness, not unreadiness. A
/// probe waits <see cref="PingWait"/> at most; past that, storage that answered within <see cref="Silence"/> still counts.
/// </summary>
public sealed class ReadinessCheck(
    IConnectorStore store, GroupCommitWriter writer, DeliveryDispatcher dispatcher, PartitionLeases leases, IOptions<StorageOptions> storage,
    StartupState startup, TimeProvider time) : IHealthCheck
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PingWait = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private DateTimeOffset _answeredUtc = DateTimeOffset.MinValue;

    // The first look after the start, which reached storage: silence counts from there until storage's first answer, so that
    // a first probe that does not wait (a loaded machine, the ping still under way) is not told "no answer for 5 s".
    private DateTimeOffset? _firstLookUtc;
    private Task<bool>? _ping;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var verdict = await VerdictAsync(PingWait, cancellationToken).ConfigureAwait(false);
        return new HealthCheckResult(verdict.Status, verdict.Description, data: Details());
    }

    /// <summary>
    /// The body of <c>/healthz/ready</c> and its status (200 or 503), taken without waiting for anything: storage's last answer
    /// counts. For <see cref="HealthProbeListener"/>, whose thread must never wait on the thread pool.
    /// </summary>
    public (int StatusCode, byte[] Body) Now()
    {
        var verdict = VerdictAsync(TimeSpan.Zero, CancellationToken.None);
        var result = verdict.IsCompletedSuccessfully ? verdict.Result : HealthCheckResult.Unhealthy("The readiness check did not finish.");
        return (result.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK,
            Body(result.Status, result.Description, Details()));
    }

    /// <summary>What an operator looks at first; no path, host or credential (the endpoint answers anyone).</summary>
    private Dictionary<string, object> Details()
    {
        var health = writer.Health;
        DateTimeOffset answered;
        lock (_gate)
        {
            answered = _answeredUtc;
        }
        return new Dictionary<string, object>
        {
            ["Storage"] = new StorageDetail(store.IsShared ? "Postgres" : "Sqlite", answered == DateTimeOffset.MinValue ? null : answered),
            ["Writer"] = new WriterDetail(writer.IsRunning, writer.Queued, health.LastCommitUtc, health.Failure?.Reason),
            ["Dispatcher"] = new DispatcherDetail(dispatcher.IsRunning, dispatcher.InFlight),
            ["Leases"] = new LeaseDetail(leases.Held.Count, DeliveryPartitions.Count, leases.LiveNodes),
            ["Disk"] = new DiskDetail(FreeBytes()),
        };
    }

    /// <summary>Free bytes where the SQLite file lives; null on PostgreSQL (the database server's disk is its own).</summary>
    private long? FreeBytes()
    {
        if (store.IsShared)
        {
            return null;
        }
        try
        {
            return new DriveInfo(Path.GetFullPath(storage.Value.DataDirectory)).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The verdict; when storage was not asked within the last second, waits up to <paramref name="pingWait"/> for its answer.</summary>
    private async Task<HealthCheckResult> VerdictAsync(TimeSpan pingWait, CancellationToken cancellationToken)
    {
        if (startup.Waiting is { } waiting)
        {
            return HealthCheckResult.Unhealthy($"Starting: waiting for storage, {waiting}.");
        }
        if (!writer.IsRunning)
        {
            return HealthCheckResult.Unhealthy("The storage writer has stopped.");
        }
        if (!dispatcher.IsRunning)
        {
            return HealthCheckResult.Unhealthy("Delivery is not running.");
        }
        if (writer.Health.Failure is { } failure)
        {
            return HealthCheckResult.Unhealthy(string.Create(CultureInfo.InvariantCulture,
                $"Writes fail: {failure.Reason} (since {failure.SinceUtc:yyyy-MM-ddTHH:mm:ssZ}, last {failure.LastUtc:yyyy-MM-ddTHH:mm:ssZ})."));
        }
        if (KeepFresh() is not { } ping)
        {
            return HealthCheckResult.Healthy();
        }
        if (pingWait > TimeSpan.Zero && !ping.IsCompleted)
        {
            await Task.WhenAny(ping, Task.Delay(pingWait, time, cancellationToken)).ConfigureAwait(false);
        }
        if (ping.IsCompletedSuccessfully && !ping.Result)
        {
            return HealthCheckResult.Unhealthy("Storage does not answer.");
        }
        lock (_gate)
        {
            var now = time.GetUtcNow();
            _firstLookUtc ??= now;
            return now - (_answeredUtc == DateTimeOffset.MinValue ? _firstLookUtc.Value : _answeredUtc) < Silence
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("Storage has not answered for 5 s.");
        }
    }

    /// <summary>
    /// Asks storage again when its last answer is more than a second old (one read at a time, on the thread pool); null when
    /// the last answer is fresh, else the read under way.
    /// </summary>
    public Task<bool>? KeepFresh()
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            return now - _answeredUtc < Fresh ? null : _ping ??= Task.Run(Ping, CancellationToken.None);
        }
    }

    /// <summary>One read of storage at a time; its success is remembered for the probes that follow.</summary>
    private bool Ping()
    {
        var answered = store.Ping();
        lock (_gate)
        {
            if (answered)
            {
                _answeredUtc = time.GetUtcNow();
            }
            _ping = null;
        }
        return answered;
    }

    /// <summary>
    /// The body of <c>/healthz/ready</c>: <c>{"Status":"Unhealthy","Reason":"Writes fail: disk full (…).","Storage":{…},
    /// "Writer":{…},"Dispatcher":{…},"Leases":{…},"Disk":{…}}</c>. The
    /// reasons are this class's own sentences, never an exception's message, so no path, host or credential gets out.
    /// </summary>
    public static Task WriteResponseAsync(HttpContext context, HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(report);
        context.Response.ContentType = ContentType;
        var reason = report.Entries.Values.Select(e => e.Description).FirstOrDefault(d => !string.IsNullOrEmpty(d));
        return context.Response.Body.WriteAsync(Body(report.Status, reason, report.Entries.Values.SelectMany(e => e.Data))).AsTask();
    }

    public const string ContentType = "application/json; charset=utf-8";

    private static byte[] Body(HealthStatus status, string? reason, IEnumerable<KeyValuePair<string, object>> details)
    {
        using var body = new MemoryStream();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("Status", status.ToString());
            if (!string.IsNullOrEmpty(reason))
            {
                json.WriteString("Reason", reason);
            }
            foreach (var (name, detail) in details)
            {
                json.WritePropertyName(name);
                JsonSerializer.Serialize(json, detail, detail.GetType(), ApiJsonContext.Default);
            }
            json.WriteEndObject();
        }
        return body.ToArray();
    }
}

/// <param name="LastAnsweredUtc">When storage last answered the readiness probe's read.</param>
public sealed record StorageDetail(string Provider, DateTimeOffset? LastAnsweredUtc);

/// <param name="Queued">Writes waiting for the next group commit.</param>
public sealed record WriterDetail(bool Running, long Queued, DateTimeOffset? LastCommitUtc, string? Failure);

/// <param name="Sending">Requests to receivers under way.</param>
public sealed record DispatcherDetail(bool Running, int Sending);

/// <param name="Held">Delivery partitions this process holds, of <paramref name="Partitions"/>.</param>
/// <param name="LiveNodes">Processes of the cluster seen alive (1 on SQLite).</param>
public sealed record LeaseDetail(int Held, int Partitions, int LiveNodes);

/// <param name="FreeBytes">Free space for the SQLite file; null on PostgreSQL.</param>
public sealed record DiskDetail(long? FreeBytes);
