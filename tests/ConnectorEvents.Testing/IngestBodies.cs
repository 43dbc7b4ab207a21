using System.Text.Json;

namespace ConnectorEvents.Testing;

/// <summary>Large ingest bodies for the memory and readiness attacks (the abuse suite and the bench).</summary>
public static class IngestBodies
{
    /// <summary>1,000 ResourceUpdated events with entity snapshots, their descriptions long enough to make the body <paramref name="bytes"/> long.</summary>
    public static byte[] Snapshots(int bytes)
    {
        static byte[] Build(int descriptionLength) => JsonSerializer.SerializeToUtf8Bytes(new
        {
            Events = Enumerable.Range(0, 1000).Select(_ =>
            {
                var id = Guid.NewGuid();
                return new
                {
                    Discriminator = "ResourceUpdated",
                    Value = new { Id = id },
                    Entity = new
                    {
                        Id = id, IsActive = true, Name = "101", State = "Dirty",
                        Descriptions = new Dictionary<string, string> { ["en-US"] = new string('d', descriptionLength) },
                        CreatedUtc = "2020-01-01T00:00:00Z", UpdatedUtc = "2020-11-10T10:00:00Z",
                        Data = new { Discriminator = "Space", Value = new { FloorNumber = "1", LocationNotes = (string?)null } },
                    },
                };
            }).ToArray(),
        });
        var overhead = Build(0).Length;
        var body = Build((bytes - overhead) / 1000);
        // Whitespace fills the last few bytes, so the body is exactly that long.
        var padded = new byte[bytes];
        body.CopyTo(padded, 0);
        padded.AsSpan(body.Length).Fill((byte)' ');
        return padded;
    }
}
