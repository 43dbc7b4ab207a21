namespace ConnectorEvents.Core.ApiKeys;

/// <summary>How a key's enterprise list is stored: ids separated by commas; null for every enterprise.</summary>
public static class ApiKeyEnterprises
{
    public static string? ToStorage(IReadOnlyList<Guid>? enterpriseIds) =>
        enterpriseIds is null ? null : string.Join(',', enterpriseIds.Select(id => id.ToString("D")));

    public static IReadOnlyList<Guid>? FromStorage(string? stored) =>
        stored is null ? null : stored.Length == 0 ? [] : stored.Split(',').Select(Guid.Parse).ToArray();
}
