using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// After every start, encrypts under the current key what storage still holds in the clear (from before encryption
/// existed) or under an older key (after a key rotation), in small batches through the writer so commands never wait
/// long behind it. When it reports that nothing is left, the older key can be removed from every process.
/// </summary>
public sealed partial class SecretProtectionSweeper(GroupCommitWriter writer, SecretProtector secrets, ILogger<SecretProtectionSweeper> logger)
    : BackgroundService
{
    /// <summary>Values rewritten per writer unit.</summary>
    public const int BatchSize = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var total = 0;
        try
        {
            int rewritten;
            do
            {
                stoppingToken.ThrowIfCancellationRequested();
                rewritten = await writer.ExecuteAsync(tx => tx.ReprotectSecrets(BatchSize)).ConfigureAwait(false);
                total += rewritten;
            }
            while (rewritten > 0);
            if (total > 0)
            {
                LogReprotected(logger, total, secrets.CurrentKeyId);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (SecretUnreadableException ex)
        {
            LogUnreadable(logger, total, ex.Message);
        }
#pragma warning disable CA1031 // the next start sweeps again; until then older values stay readable
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogFailed(logger, ex, total);
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Encrypted {Count} stored secrets under key {KeyId}; no stored secret needs an older key any more")]
    private static partial void LogReprotected(ILogger logger, int count, string keyId);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Stopped encrypting stored secrets under the current key after {Count}: {Reason} Configure the missing key in Security:DecryptionKeys.")]
    private static partial void LogUnreadable(ILogger logger, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Encrypting stored secrets under the current key stopped after {Count}; the next start resumes")]
    private static partial void LogFailed(ILogger logger, Exception exception, int count);
}
