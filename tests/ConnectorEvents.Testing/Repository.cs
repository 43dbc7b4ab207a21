namespace ConnectorEvents.Testing;

/// <summary>The repository these tests were built from: its files, for tests that read the README or build its projects.</summary>
public static class Repository
{
    /// <summary>The folder holding <c>ConnectorEvents.slnx</c>, above the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration these tests were built in, which the repository's own build output is looked for in.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Release" : "Debug";

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "ConnectorEvents.slnx")))
            {
                return folder.FullName;
            }
        }
        throw new DirectoryNotFoundException("The repository root (ConnectorEvents.slnx) was not found above " + AppContext.BaseDirectory);
    }
}
