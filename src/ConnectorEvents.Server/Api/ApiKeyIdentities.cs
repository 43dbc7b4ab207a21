using System.Security.Cryptography;
using System.Text;
using ConnectorEvents.Core.ApiKeys;
using ConnectorEvents.Core.Security;
using ConnectorEvents.Core.Storage;
using ConnectorEvents.Server.Hosting;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Server.Api;

/// <summary>Who presented a key: the key's id (<see cref="ApiKeyIdentities.ConfiguredAdmin"/> for the bootstrap key), its role, its enterprises.</summary>
public sealed record ApiCaller(string Id, ApiKeyRole Role, IReadOnlyList<Guid>? Enterprises);

/// <summary>
/// Tells which key a request presents: the configured admin key, a configured producer key, or a key made through the API.
/// Keys are compared as SHA-256 digests, so a comparison takes the same time whatever the key's length or content; configured
/// keys are trimmed (a key read from a file often ends in a newline); made keys are found by their digest, never kept. The
/// API (<see cref="ApiKeyAuthentication"/>) and the console's sign-in share it.
/// </summary>
public sealed class ApiKeyIdentities(IOptions<SecurityOptions> options, ApiKeyService apiKeys, IConnectorStore store)
{
    public const string ConfiguredAdmin = "configured-admin";
    public const string ConfiguredProducer = "configured-producer";

    /// <summary>A SHA-256 digest in lower-case hex, as <see cref="TokenDigest.HashOf"/> writes it.</summary>
    private const int DigestLength = 64;

    private static readonly ApiCaller Admin = new(ConfiguredAdmin, ApiKeyRole.Admin, null);
    private static readonly ApiCaller Producer = new(ConfiguredProducer, ApiKeyRole.Producer, null);

    private readonly byte[]? _adminKey = DigestOf(options.Value.AdminApiKey);
    private readonly byte[][] _producerKeys = (options.Value.ProducerApiKeys ?? []).Select(DigestOf).OfType<byte[]>().ToArray();

    private static byte[]? DigestOf(string? configured) =>
        string.IsNullOrWhiteSpace(configured) ? null : Encoding.ASCII.GetBytes(TokenDigest.HashOf(configured.Trim()));

    /// <summary>The caller a presented key names, or null when it names none (a made key's use is noted).</summary>
    public ApiCaller? Identify(string presented)
    {
        ArgumentNullException.ThrowIfNull(presented);
        var hash = TokenDigest.HashOf(presented);
        return Configured(hash) ?? (apiKeys.FindByHash(presented, hash) is { } made ? Of(made) : null);
    }

    /// <summary>
    /// The caller whose key has the digest <paramref name="hash"/>, or null when no key has it any more (a made key deleted,
    /// the configured one changed): a console session keeps the digest, not the key, and is checked with it on each request.
    /// </summary>
    public ApiCaller? IdentifyDigest(string hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        return Configured(hash) ?? (store.FindApiKeyByHash(hash) is { } made ? Of(made) : null);
    }

    private ApiCaller? Configured(string hash)
    {
        if (hash.Length != DigestLength)
        {
            return null; // not a digest TokenDigest made, so no configured key's
        }
        Span<byte> digest = stackalloc byte[DigestLength];
        Encoding.ASCII.GetBytes(hash, digest);
        if (_adminKey is not null && CryptographicOperations.FixedTimeEquals(digest, _adminKey))
        {
            return Admin;
        }
        var isProducer = false;
        foreach (var key in _producerKeys)
        {
            isProducer |= CryptographicOperations.FixedTimeEquals(digest, key);
        }
        return isProducer ? Producer : null;
    }

    private static ApiCaller Of(ApiKeyRecord made) => new(made.Id.ToString(), made.Role, made.EnterpriseIds);
}
