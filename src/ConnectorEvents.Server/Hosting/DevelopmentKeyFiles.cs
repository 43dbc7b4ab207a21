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
        var (key, path, created) = LoadOrCreate(dataDirectory, EncryptionKeyFileName,
            existing => SecretProtector.ParseKey(existing) is not null, SecretProtector.NewKey);
        if (created)
        {
            announce.WriteLine($"Generated a development encryption key (kept in {path}); outside Development set Security:EncryptionKey.");
        }
        return key;
    }

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
        }
        var key = generate();
        if (OperatingSystem.IsWindows())
        {
            File.WriteAllText(path, key + "\n");
        }
        else
        {
            File.Delete(path);
            using var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            using var writer = new StreamWriter(file);
            writer.WriteLine(key);
        }
        return (key, path, true);
    }
}
