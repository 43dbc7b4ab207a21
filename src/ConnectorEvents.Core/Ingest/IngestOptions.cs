using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Ingest;

/// <summary>Configuration section <c>Ingest</c>.</summary>
public sealed class IngestOptions
{
    public const string Section = "Ingest";

    /// <summary>How long an <c>Idempotency-Key</c> is remembered. Default 24 h.</summary>
    public TimeSpan IdempotencyKeyRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Bytes of request bodies the ingest route reads, parses and writes at once (a body without a Content-Length counts
    /// as the largest allowed, 4 MiB); a request that does not fit is answered 503 with <c>Retry-After</c> before its body
    /// is read. One request is always let in, however large. Default 32 MiB: eight of the largest bodies at once, or
    /// hundreds of ordinary ones. While a body is handled the server holds its bytes (native memory of that size, outside
    /// the collected heap), the events being parsed (up to 32 KiB of them at a time) and the events read (their entity
    /// snapshots: about as many bytes again).
    /// </summary>
    public long MaxBufferedBytes { get; set; } = 32L * 1024 * 1024;
}

public sealed class IngestOptionsValidator : IValidateOptions<IngestOptions>
{
    public ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.IdempotencyKeyRetention < TimeSpan.FromMinutes(1) || options.IdempotencyKeyRetention > TimeSpan.FromDays(30))
        {
            errors.Add("Ingest:IdempotencyKeyRetention must be between 00:01:00 and 30.00:00:00.");
        }
        if (options.MaxBufferedBytes is < 64 * 1024 or > 64L * 1024 * 1024 * 1024)
        {
            errors.Add("Ingest:MaxBufferedBytes must be between 65536 and 68719476736.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
