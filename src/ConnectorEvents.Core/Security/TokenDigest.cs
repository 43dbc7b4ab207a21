using System.Security.Cryptography;
using System.Text;

namespace ConnectorEvents.Core.Security;

/// <summary>
/// A bearer token as it is kept: the SHA-256 of its text (what authentication compares) and a short prefix a person
/// can recognise it by. The token itself is shown once, when it is issued. A plain hash suffices: every token holds at
/// least 128 random bits, so there is nothing to guess from it, and a slow hash would cost every authentication.
/// </summary>
public readonly record struct TokenDigest(string Hash, string Prefix)
{
    /// <summary>Characters of the random part kept in the prefix: enough to tell a regenerated token from the one before.</summary>
    private const int RandomCharactersShown = 4;

    public static TokenDigest Of(string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        return new TokenDigest(HashOf(token), PrefixOf(token));
    }

    /// <summary>The lower-case hex SHA-256 of the token's UTF-8 text.</summary>
    public static string HashOf(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        // Every API call and socket hashes the token it presents: its bytes on the stack, not a new array each time.
        var most = Encoding.UTF8.GetMaxByteCount(token.Length);
        var utf8 = most <= 1024 ? stackalloc byte[1024] : new byte[most];
        SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(token, utf8)], hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// The token up to the first characters of its random part (after the dash of a contract token, after the last
    /// underscore of an API key), then an ellipsis: contract tokens start with their owner's id, which alone tells nothing.
    /// </summary>
    public static string PrefixOf(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var randomStart = Math.Max(token.IndexOf('-', StringComparison.Ordinal), token.LastIndexOf('_')) + 1;
        var length = Math.Min(token.Length - 1, randomStart + RandomCharactersShown);
        return token[..Math.Max(length, 0)] + "…";
    }
}
