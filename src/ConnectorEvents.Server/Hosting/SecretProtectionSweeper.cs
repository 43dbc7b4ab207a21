using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// After every start, reads every stored secret once and encrypts again, under the current key, what is in the clear
/// (from before encryption existed) or under an older key (after a key rotation): <see cref="BatchSize"/> rows per writer
/// unit, so commands never wait long behind it. A value it cannot read (its key is not configured) is left and counted.
/// It always ends with one line saying what it did: the older key can go once a sweep that started after the last process
/// took the new key has said that nothing was unreadable (docs/security.md, key rotation).
/// </summary>
public sealed partial class SecretProtectionSweeper(
    GroupCommitWriter writer, SecretProtector secrets, StartupState startup, ILogger<SecretProtectionSweeper> logger) : BackgroundService
{
    /// <summary>Rows read per writer unit.</summary>
    public const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await startup.Started.WaitAsync(stoppingToken).ConfigureAwait(false); // the schema it reads is there
        var rewritten = 0;
        var unreadable = new List<string>();
        try
        {
            for (SecretSweepPosition? position = SecretSweepPosition.Start; position is not null;)
            {
                stoppingToken.ThrowIfCancellationRequested();
                var from = position;
                var batch = await writer.ExecuteAsync(tx => tx.ReprotectSecrets(from, BatchSize)).ConfigureAwait(false);
                rewritten += batch.Rewritten;
                unreadable.AddRange(batch.Unreadable);
                position = batch.Next;
            }
            if (unreadable.Count == 0)
            {
                LogSwept(logger, rewritten, secrets.CurrentKeyId);
            }
            else
            {
                LogUnreadable(logger, rewritten, secrets.CurrentKeyId, unreadable.Count, unreadable[0]);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // the next start sweeps again; until then older values stay readable
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogFailed(logger, ex, rewritten);
        }
    }

    [LoggerMessage(EventId = LogEventIds.SecretsSwept, Level = LogLevel.Information,
        Message = "Stored secrets swept: {Count} encrypted again under key {KeyId}; every stored secret is under it")]
    private static partial void LogSwept(ILogger logger, int count, string keyId);

    [LoggerMessage(EventId = LogEventIds.SecretsUnreadable, Level = LogLevel.Error,
        Message = "Stored secrets swept: {Count} encrypted again under key {KeyId}, but {Unreadable} cannot be read and were left, e.g. {Example} " +
            "Configure the missing key in Security:DecryptionKeys.")]
    private static partial void LogUnreadable(ILogger logger, int count, string keyId, int unreadable, string example);

    [LoggerMessage(EventId = LogEventIds.SecretsSweepFailed, Level = LogLevel.Warning,
        Message = "The sweep of stored secrets stopped after {Count}; the next start sweeps again")]
    private static partial void LogFailed(ILogger logger, Exception exception, int count);
}
