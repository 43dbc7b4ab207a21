using System.Security.Cryptography;

namespace ConnectorEvents.Server.Hosting;

/// <summary>
/// In Development, with no key configured, the server makes one on first start, keeps it in the data folder and
/// prints it once, so a newcomer's first <c>dotnet run</c> just works.
/// </summary>
internal static class AdminKeyFile
{
    public const string FileName = "admin-api-key";

    public static string LoadOrCreate(string dataDirectory, TextWriter announce)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (existing.Length >= 16)
            {
                return existing;
            }
        }
        var key = "ce_admin_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        File.WriteAllText(path, key + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        announce.WriteLine($"Generated a development admin API key (kept in {path}); use it as 'Authorization: Bearer {key}'.");
        return key;
    }
}
