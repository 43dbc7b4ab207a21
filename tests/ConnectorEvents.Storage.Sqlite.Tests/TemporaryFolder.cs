namespace ConnectorEvents.Storage.Sqlite.Tests;

/// <summary>A folder under the system temp directory, removed with everything in it on dispose.</summary>
public sealed class TemporaryFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("connector-events-tests-").FullName;

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
