using System.Collections.Concurrent;
using System.Security.Cryptography;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using Microsoft.Extensions.Logging;

namespace ConnectorEvents.Core.ApiKeys;

/// <summary>A key just made, with its text: the only time the text exists outside the caller's hands.</summary>
public sealed record IssuedApiKey(ApiKeyRecord Record, string Key);

/// <summary>
/// API keys made through the API. Each request's key is looked up by its hash in storage, not in a cache, so a deleted
/// key stops working at once in every process that shares the database. A key's last use is written at most once a
/// minute per process, through the writer, never on the request's path.
/// </summary>
public sealed partial class ApiKeyService(GroupCommitWriter writer, IConnectorStore store, TimeProvider time, ILogger<ApiKeyService> logger)
{
    public const string KeyPrefix = "cek_";
    public const int MaxEnterpriseIds = 1000;
    private static readonly TimeSpan UseRecordedEvery = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _useRecorded = new();

    public Task<IssuedApiKey> CreateAsync(string name, ApiKeyRole role, IReadOnlyList<Guid>? enterpriseIds)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (enterpriseIds is not null && role != ApiKeyRole.Producer)
        {
            throw new DomainException(DomainErrorKind.Invalid, "Only a Producer key is limited to enterprises; leave it out for an Admin or Reader key.",
                "EnterpriseIds");
        }
        if (enterpriseIds is { Count: 0 or > MaxEnterpriseIds })
        {
            throw new DomainException(DomainErrorKind.Invalid,
                $"Name between 1 and {MaxEnterpriseIds} enterprises, or leave it out for every enterprise.", "EnterpriseIds");
        }
        var key = KeyPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        return writer.ExecuteAsync(tx =>
        {
            for (var i = 0; i < (enterpriseIds?.Count ?? 0); i++)
            {
                if (tx.FindEnterprise(enterpriseIds![i]) is null)
                {
                    throw new DomainException(DomainErrorKind.Invalid, $"No enterprise has the id '{enterpriseIds[i]}'.", $"EnterpriseIds[{i}]");
                }
            }
            var record = new ApiKeyRecord(Guid.NewGuid(), name, role, enterpriseIds?.Distinct().ToArray(), TokenDigest.Of(key),
                time.GetUtcNow(), null);
            tx.InsertApiKey(record);
            return new IssuedApiKey(record, key);
        });
    }

    public async Task DeleteAsync(Guid id)
    {
        if (!await writer.ExecuteAsync(tx => tx.DeleteApiKey(id)).ConfigureAwait(false))
        {
            throw DomainException.NotFound("API key", id);
        }
        _useRecorded.TryRemove(id, out _);
    }

    /// <summary>The key a request presented (<paramref name="hash"/>: its <see cref="TokenDigest.HashOf"/>), or null when no key made through the API has that text.</summary>
    public ApiKeyRecord? FindByHash(string presented, string hash)
    {
        ArgumentNullException.ThrowIfNull(presented);
        if (!presented.StartsWith(KeyPrefix, StringComparison.Ordinal))
        {
            return null; // not one of ours: no lookup
        }
        var key = store.FindApiKeyByHash(hash);
        if (key is not null)
        {
            NoteUse(key.Id);
        }
        return key;
    }

    private void NoteUse(Guid id)
    {
        var now = time.GetUtcNow();
        var recorded = _useRecorded.GetOrAdd(id, DateTimeOffset.MinValue);
        if (now - recorded < UseRecordedEvery || !_useRecorded.TryUpdate(id, now, recorded))
        {
            return;
        }
        writer.ExecuteAsync(tx =>
        {
            tx.RecordApiKeyUse(id, now);
            return true;
        }).ContinueWith(t => LogUseNotRecorded(logger, id, t.Exception!.GetBaseException().GetType().Name),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The last use of API key {ApiKeyId} was not recorded ({Error})")]
    private static partial void LogUseNotRecorded(ILogger logger, Guid apiKeyId, string error);
}
