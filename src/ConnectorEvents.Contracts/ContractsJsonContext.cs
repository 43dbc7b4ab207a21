using System.Text.Json.Serialization;

namespace ConnectorEvents.Contracts;

/// <summary>Source-generated serializers for webhook bodies: PascalCase names, nulls written, contract timestamps.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.Unspecified,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    PropertyNameCaseInsensitive = true,
    Converters = [typeof(UtcSecondsConverter)])]
[JsonSerializable(typeof(IntegrationWebhook<IntegrationCreatedData>))]
[JsonSerializable(typeof(IntegrationWebhook<IntegrationStateData>))]
[JsonSerializable(typeof(IntegrationWebhook<IntegrationDeletedData>))]
[JsonSerializable(typeof(IntegrationWebhook<IntegrationApiKeyCreatedData>))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;
