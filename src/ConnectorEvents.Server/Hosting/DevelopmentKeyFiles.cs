using System.Security.Cryptography;
using ConnectorEvents.Core.Security;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// In Development, with no key configured, the server makes its admin API key and its encryption key on first start and
/// keeps each in the data folder (owner-only, 0600), so a newcomer's first <c>dotnet run</c> just works. The admin key is
/// printed once; the encryption key never is.
/// </summary>
internal static class DevelopmentKeyFiles
{
    public const string AdminKeyFileName = "admin-api-key";
    public const string EncryptionKeyFileName = "encryption-key";

    public static string LoadOrCreateAdminKey(string dataDirectory, TextWriter announce)
    {
        var (key, path, created) = LoadOrCreate(dataDirectory, AdminKeyFileName,
            existing => existing.Length >= 16, () => "ce_admin_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)));
        if (created)
        {
            announce.WriteLine($"Generated a development admin API key (kept in {path}); use it as 'Authorization: Bearer {key}'.");
        }
        return key;
    }

    public static string LoadOrCreateEncryptionKey(string dataDirectory, TextWriter announce)
    {
        // Never replaced: the database's secrets are encrypted under it, and a new key would leave them unreadable.
        var (key, path, created) = LoadOrCreate(dataDirectory, EncryptionKeyFileName,
            existing => SecretProtector.ParseKey(existing) is not null
                ? true
                : throw new InvalidOperationException(
                    $"{Path.Combine(dataDirectory, EncryptionKeyFileName)} does not hold an encryption key (32 bytes in base64). It is " +
                    "not replaced, since the database's secrets are encrypted under it: restore it, or delete the data folder to start afresh."),
            SecretProtector.NewKey);
        if (created)
        {
            announce.WriteLine($"Generated a development encryption key (kept in {path}); outside Development set Security:EncryptionKey.");
        }
        return key;
    }

    /// <summary>
    /// The key in the file when <paramref name="isValid"/> takes it (it may refuse by throwing); otherwise a new one, written
    /// only if no file is there (of two processes starting together, the second takes the first one's key).
    /// </summary>
    private static (string Key, string Path, bool Created) LoadOrCreate(
        string dataDirectory, string fileName, Func<string, bool> isValid, Func<string> generate)
    {
        DataFolder.Ensure(dataDirectory);
        var path = Path.Combine(dataDirectory, fileName);
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (isValid(existing))
            {
                return (existing, path, false);
            }
            File.Delete(path); // not a key worth keeping (an admin key too short): a new one below
        }
        var key = generate();
        try
        {
            WriteNew(path, key);
            return (key, path, true);
        }
        catch (IOException) when (File.Exists(path))
        {
            var theirs = File.ReadAllText(path).Trim();
            return isValid(theirs) ? (theirs, path, false) : throw new InvalidOperationException($"{path} was written by another process as it started.");
        }
    }

    /// <summary>Creates the file, readable and writable by its owner only; fails when it exists.</summary>
    private static void WriteNew(string path, string key)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var file = new FileStream(path, options);
        using var writer = new StreamWriter(file);
        writer.WriteLine(key);
    }
}
