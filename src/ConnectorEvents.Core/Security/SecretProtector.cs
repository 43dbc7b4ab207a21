using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace ConnectorEvents.Core.Security;

/// <summary>
/// Encrypts what storage must be able to give back but nobody who reads the database files may read: signing secrets,
/// webhook URLs (they carry <c>?Token=</c>) and message bodies that carry an access token. AES-256-GCM with a random
/// 96-bit nonce per value; the associated data names the column and the row, so a value copied to another row or column
/// does not decrypt. Every value names the key it was encrypted under (its id: the first 4 bytes of the key's SHA-256),
/// so the key can be rotated without downtime: new values use <see cref="CurrentKeyId"/>, older ones decrypt with any
/// key still configured, and <see cref="IsCurrent(string?)"/> tells the sweep which to encrypt again.
/// </summary>
/// <remarks>
/// Text values: <c>ce1.&lt;key id, 8 hex&gt;.&lt;base64url(nonce, ciphertext, tag)&gt;</c>. Byte values: the byte
/// <see cref="BinaryMarker"/>, the key id (4 bytes), nonce, ciphertext and tag. A value without the marker is read as
/// it is: plaintext written before encryption existed, which the sweep encrypts on the next start.
/// </remarks>
public sealed class SecretProtector
{
    public const int KeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int KeyIdSize = 4;
    private const string TextMarker = "ce1.";

    /// <summary>First byte of an encrypted byte value; a JSON body starts with '{', never with this.</summary>
    public const byte BinaryMarker = 0x01;

    // Keys, not AesGcm instances: an instance is not safe to share between threads, and values are few and small.
    private readonly Dictionary<uint, byte[]> _keys = [];

    // Text values read again and again (a client's URLs, read by every integration command) decrypt once: keyed by the
    // stored value, unique per encryption (a random nonce), and by its purpose, so a value moved to another row is still
    // refused. Bounded: emptied when full, the live ones come back on their next read.
    private const int TextsKept = 4096;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Stored, string Purpose), string> _texts = new();
    private readonly uint _current;

    /// <param name="currentKey">Encrypts every new value (32 bytes).</param>
    /// <param name="decryptionKeys">Older (or not yet current) keys that only decrypt.</param>
    public SecretProtector(byte[] currentKey, IEnumerable<byte[]>? decryptionKeys = null)
    {
        _current = Add(currentKey);
        foreach (var key in decryptionKeys ?? [])
        {
            Add(key);
        }
    }

    private uint Add(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"An encryption key is {KeySize} bytes.", nameof(key));
        }
        var id = KeyIdOf(key);
        _keys.TryAdd(id, key.ToArray());
        return id;
    }

    /// <summary>A new random key, base64 (the form <c>Security:EncryptionKey</c> takes).</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeySize));

    /// <summary>The key of a configured base64 text, or null when it is not 32 bytes of base64.</summary>
    public static byte[]? ParseKey(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var buffer = new byte[KeySize + 3];
        return Convert.TryFromBase64String(text.Trim(), buffer, out var written) && written == KeySize ? buffer[..KeySize] : null;
    }

    /// <summary>The id every value encrypted now carries.</summary>
    public string CurrentKeyId => KeyIdText(_current);

    private static uint KeyIdOf(byte[] key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(key, hash);
        return BinaryPrimitives.ReadUInt32BigEndian(hash);
    }

    private static string KeyIdText(uint id) => id.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The associated data of a value: which column of which row it belongs to.</summary>
    public static string Purpose(string column, object rowId) => FormattableString.Invariant($"{column}/{rowId}");

    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(plaintext))]
    public string? Protect(string? plaintext, string purpose)
    {
        if (plaintext is null)
        {
            return null;
        }
        var sealedBytes = Seal(Encoding.UTF8.GetBytes(plaintext), purpose, prefix: 0);
        return TextMarker + CurrentKeyId + "." + Base64Url.EncodeToString(sealedBytes);
    }

    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(stored))]
    public string? Unprotect(string? stored, string purpose)
    {
        if (stored is null || !stored.StartsWith(TextMarker, StringComparison.Ordinal))
        {
            return stored;
        }
        if (_texts.TryGetValue((stored, purpose), out var known))
        {
            return known;
        }
        var idEnd = TextMarker.Length + 8;
        if (stored.Length <= idEnd || stored[idEnd] != '.'
            || !uint.TryParse(stored.AsSpan(TextMarker.Length, 8), System.Globalization.NumberStyles.AllowHexSpecifier,
                System.Globalization.CultureInfo.InvariantCulture, out var keyId))
        {
            throw new SecretUnreadableException("A stored secret is damaged (no key id).");
        }
        byte[] sealedBytes;
        try
        {
            sealedBytes = Base64Url.DecodeFromChars(stored.AsSpan(idEnd + 1));
        }
        catch (FormatException)
        {
            throw new SecretUnreadableException("A stored secret is damaged (not base64url).");
        }
        var text = Encoding.UTF8.GetString(Open(keyId, sealedBytes, purpose));
        if (_texts.Count >= TextsKept)
        {
            _texts.Clear();
        }
        _texts[(stored, purpose)] = text;
        return text;
    }

    /// <summary>Encrypts a byte value (a message body).</summary>
    public byte[] Protect(ReadOnlySpan<byte> plaintext, string purpose)
    {
        var sealedBytes = Seal(plaintext, purpose, prefix: 1 + KeyIdSize);
        sealedBytes[0] = BinaryMarker;
        BinaryPrimitives.WriteUInt32BigEndian(sealedBytes.AsSpan(1), _current);
        return sealedBytes;
    }

    /// <summary>A byte value as written; one without the marker comes back as it is.</summary>
    public byte[] Unprotect(byte[] stored, string purpose)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (!IsProtected(stored))
        {
            return stored;
        }
        if (stored.Length < 1 + KeyIdSize + NonceSize + TagSize)
        {
            throw new SecretUnreadableException("A stored message body is damaged (too short).");
        }
        return Open(BinaryPrimitives.ReadUInt32BigEndian(stored.AsSpan(1)), stored.AsSpan(1 + KeyIdSize), purpose);
    }

    public static bool IsProtected(ReadOnlySpan<byte> stored) => stored.Length > 0 && stored[0] == BinaryMarker;

    /// <summary>Whether a stored text value is encrypted under the current key (null: there is nothing to encrypt).</summary>
    public bool IsCurrent(string? stored) => stored is null || stored.StartsWith(CurrentTextPrefix, StringComparison.Ordinal);

    /// <summary>Whether a stored byte value is encrypted under the current key.</summary>
    public bool IsCurrent(ReadOnlySpan<byte> stored) =>
        IsProtected(stored) && stored.Length >= 1 + KeyIdSize && BinaryPrimitives.ReadUInt32BigEndian(stored[1..]) == _current;

    /// <summary>How every text value encrypted under the current key starts: what a query for older ones compares.</summary>
    public string CurrentTextPrefix => TextMarker + CurrentKeyId + ".";

    /// <summary>How every byte value encrypted under the current key starts (the marker and the key id).</summary>
    public byte[] CurrentBinaryPrefix
    {
        get
        {
            var prefix = new byte[1 + KeyIdSize];
            prefix[0] = BinaryMarker;
            BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), _current);
            return prefix;
        }
    }

    /// <summary>The same value encrypted under the current key (null stays null).</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(stored))]
    public string? Reprotect(string? stored, string purpose) => Protect(Unprotect(stored, purpose), purpose);

    /// <summary>The same byte value encrypted under the current key.</summary>
    public byte[] Reprotect(byte[] stored, string purpose) => Protect(Unprotect(stored, purpose), purpose);

    /// <summary>[prefix bytes left free][nonce][ciphertext][tag].</summary>
    private byte[] Seal(ReadOnlySpan<byte> plaintext, string purpose, int prefix)
    {
        var output = new byte[prefix + NonceSize + plaintext.Length + TagSize];
        var nonce = output.AsSpan(prefix, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_keys[_current], TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(prefix + NonceSize, plaintext.Length),
            output.AsSpan(output.Length - TagSize), Encoding.UTF8.GetBytes(purpose));
        return output;
    }

    private byte[] Open(uint keyId, ReadOnlySpan<byte> sealedBytes, string purpose)
    {
        if (!_keys.TryGetValue(keyId, out var key))
        {
            throw new SecretUnreadableException(
                $"A stored secret was encrypted under key {KeyIdText(keyId)}, which is configured neither as Security:EncryptionKey " +
                "nor among Security:DecryptionKeys.");
        }
        if (sealedBytes.Length < NonceSize + TagSize)
        {
            throw new SecretUnreadableException("A stored secret is damaged (too short).");
        }
        var plaintext = new byte[sealedBytes.Length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(sealedBytes[..NonceSize], sealedBytes.Slice(NonceSize, plaintext.Length), sealedBytes[^TagSize..], plaintext,
                Encoding.UTF8.GetBytes(purpose));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new SecretUnreadableException($"A stored secret does not decrypt under key {KeyIdText(keyId)} for {purpose}: it was altered or moved.");
        }
        return plaintext;
    }
}
