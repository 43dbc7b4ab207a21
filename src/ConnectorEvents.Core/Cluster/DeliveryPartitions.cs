namespace ConnectorEvents.Core.Cluster;

/// <summary>
/// Integrations are spread over a fixed number of partitions; a server process delivers for the partitions it holds a
/// lease on, so each integration's lanes are worked by one process at a time (FIFO holds across processes).
/// </summary>
public static class DeliveryPartitions
{
    /// <summary>Fixed by the schema (the storage migrations seed one lease row per partition).</summary>
    public const int Count = 64;

    public static int Of(Guid integrationId)
    {
        Span<byte> bytes = stackalloc byte[16];
        integrationId.TryWriteBytes(bytes);
        // The last bytes: random in v4 and v7 ids alike (v7's first bytes are a timestamp).
        return (int)(BitConverter.ToUInt32(bytes[12..]) % Count);
    }
}
