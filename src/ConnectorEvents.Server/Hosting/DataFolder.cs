namespace ConnectorEvents.Server.Hosting;

/// <summary>The data folder holds the database and the development keys: it is made readable by its owner only (0700).</summary>
internal static class DataFolder
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates the folder (and missing parents) 0700; returns its full path.</summary>
    public static string Ensure(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(full);
            }
            else
            {
                Directory.CreateDirectory(full, OwnerOnly);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"The data folder '{full}' (Storage:DataDirectory) cannot be created: {ex.Message}", ex);
        }
        return full;
    }

    /// <summary>
    /// Whether others than the owner may list or enter an existing folder. Such a folder is left as it is (it may be one an
    /// operator shares on purpose) and the server says so at start; every file in it is 0600 all the same.
    /// </summary>
    public static bool IsOpenToOthers(string path) =>
        !OperatingSystem.IsWindows() && Directory.Exists(path) && (File.GetUnixFileMode(path) & ~OwnerOnly) != 0;
}
