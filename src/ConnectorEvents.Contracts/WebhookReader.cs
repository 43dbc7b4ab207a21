using System.Text.Json;

namespace ConnectorEvents.Contracts;

/// <summary>
/// Reads an Integration Webhook or General message body of any contract version into version-independent typed
/// data. Unknown properties are ignored; unknown actions and discriminators come back as unknown with their raw JSON;
/// anything unreadable throws <see cref="ContractReadException"/> naming the part.
/// </summary>
public static class WebhookReader
{
    public static WebhookReading Read(ReadOnlyMemory<byte> body)
    {
        var root = ContractBody.ParseObject(body);
        var wire = ContractBody.Deserialize(root, ContractJson.Wire.WebhookBodyWire, "The body");
        if (ContractBody.HasProperty(root, "Action"))
        {
            return ReadIntegrationWebhook(wire);
        }
        if (ContractBody.HasProperty(root, "Events") || ContractBody.HasProperty(root, "EnterpriseId")
            || ContractBody.HasProperty(root, "IntegrationId"))
        {
            return ReadGeneralMessage(wire);
        }
        throw new ContractReadException(
            "The body is neither an Integration Webhook (it has no 'Action') nor a General message "
            + "(it has no 'EnterpriseId', 'IntegrationId' or 'Events').");
    }

    private static IntegrationWebhookReading ReadIntegrationWebhook(WebhookBodyWire wire)
    {
        var action = wire.Action;
        if (string.IsNullOrWhiteSpace(action))
        {
            throw new ContractReadException("'Action' must be a non-empty string.");
        }

        // Only 2019-05 puts these beside Action.
        var topLevelCreatedUtc = wire.CreatedUtc;
        var topLevelIsEnabled = ReadTopLevelIsEnabled(wire.IsEnabled);
        var isMay2019Shape = topLevelCreatedUtc is not null || topLevelIsEnabled is not null;

        if (!IntegrationActions.All.Contains(action, StringComparer.Ordinal))
        {
            return new IntegrationWebhookReading(action, new UnknownIntegrationData(wire.Data ?? default),
                isMay2019Shape ? ContractVersionRange.Exactly(ContractVersion.May2019) : ContractVersionRange.Any);
        }

        if (wire.Data is not { ValueKind: JsonValueKind.Object } dataElement)
        {
            throw new ContractReadException(
                $"{action}: 'Data' must be an object; it is {ContractBody.Describe(wire.Data?.ValueKind ?? JsonValueKind.Undefined)}.");
        }
        var data = ContractBody.Deserialize(dataElement, ContractJson.Wire.IntegrationDataWire, $"{action} 'Data'");
        var required = new RequiredParts(action);

        IntegrationWebhookData typed = action switch
        {
            IntegrationActions.Created => new IntegrationCreatedData(
                required.Object(data.Enterprise, "Data.Enterprise"),
                data.Service,
                data.Requestor,
                required.Object(data.AccessToken, "Data.AccessToken"),
                required.Value(data.CreatedUtc ?? topLevelCreatedUtc, "Data.CreatedUtc (in 2019-05: CreatedUtc beside Action)"),
                required.Value(data.IsEnabled ?? topLevelIsEnabled, "Data.IsEnabled (in 2019-05: IsEnabled beside Action)"),
                required.Object(data.Integration, "Data.Integration")),
            IntegrationActions.Deleted => new IntegrationDeletedData(
                required.Value(data.DeletedUtc, "Data.DeletedUtc"),
                required.Object(data.Integration, "Data.Integration")),
            IntegrationActions.ApiKeyCreated => new IntegrationApiKeyCreatedData(
                required.Object(data.Integration, "Data.Integration"),
                required.Object(data.ApiKey, "Data.ApiKey")),
            _ => new IntegrationStateData(required.Object(data.Integration, "Data.Integration")),
        };
        return new IntegrationWebhookReading(action, typed, DetectIntegrationVersions(action, dataElement, isMay2019Shape));
    }

    /// <summary>
    /// Seed 001's table types IsEnabled as a string while its example sends <c>true</c>; accept both spellings.
    /// </summary>
    private static bool? ReadTopLevelIsEnabled(JsonElement? isEnabled) => isEnabled?.ValueKind switch
    {
        null or JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String when bool.TryParse(isEnabled.Value.GetString(), out var parsed) => parsed,
        _ => throw new ContractReadException("'IsEnabled' beside 'Action' must be true or false."),
    };

    private static ContractVersionRange DetectIntegrationVersions(string action, JsonElement data, bool isMay2019Shape)
    {
        if (isMay2019Shape)
        {
            return ContractVersionRange.Exactly(ContractVersion.May2019);
        }
        // Service arrived in 2021-01 and is written even when null, so its presence dates the body.
        if (action == IntegrationActions.Created)
        {
            return ContractVersionRange.FromOnward(ContractBody.HasProperty(data, "Service")
                ? ContractVersion.January2021
                : ContractVersion.December2019);
        }
        // Other bodies look the same in every version that knows the action.
        return ContractVersionRange.FromOnward(ContractVersion.All.First(v => v.KnowsIntegrationAction(action)));
    }

    private static GeneralMessageReading ReadGeneralMessage(WebhookBodyWire wire)
    {
        const string Where = "General message";
        var required = new RequiredParts(Where);
        var enterpriseId = required.Value(wire.EnterpriseId, "EnterpriseId");
        var integrationId = required.Value(wire.IntegrationId, "IntegrationId");
        var events = required.Object(wire.Events, "Events");

        var readings = new List<GeneralEventReading>(events.Count);
        for (var index = 0; index < events.Count; index++)
        {
            readings.Add(ReadGeneralEvent(events[index], $"Events[{index}]"));
        }
        // 2021-01 requires Entities and no other version has them.
        var versions = wire.Entities is null
            ? ContractVersionRange.FromOnward(ContractVersion.August2022)
            : ContractVersionRange.Exactly(ContractVersion.January2021);
        return new GeneralMessageReading(enterpriseId, integrationId, readings, wire.Entities, versions);
    }

    private static GeneralEventReading ReadGeneralEvent(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ContractReadException($"General message: '{path}' must be an object; it is {ContractBody.Describe(element.ValueKind)}.");
        }
        var wire = ContractBody.Deserialize(element, ContractJson.Wire.GeneralEventWire, $"General message '{path}'");
        if (string.IsNullOrWhiteSpace(wire.Discriminator))
        {
            throw new ContractReadException($"General message: '{path}.Discriminator' is missing.");
        }
        if (!GeneralDiscriminators.IsKnown(wire.Discriminator))
        {
            return new GeneralEventReading(wire.Discriminator, null, element);
        }
        if (wire.Value is not { ValueKind: JsonValueKind.Object } value)
        {
            throw new ContractReadException($"General message: '{path}.Value' of {wire.Discriminator} must be an object with an 'Id'.");
        }
        var id = ContractBody.Deserialize(value, ContractJson.Wire.EntityIdWire, $"General message '{path}.Value'").Id;
        return new GeneralEventReading(wire.Discriminator, new RequiredParts("General message").Value(id, $"{path}.Value.Id"), element);
    }

    /// <summary>Turns a missing required part into an error that names it.</summary>
    private readonly struct RequiredParts(string where)
    {
        public T Object<T>(T? part, string name) where T : class =>
            part ?? throw new ContractReadException($"{where}: required '{name}' is missing.");

        public T Value<T>(T? part, string name) where T : struct =>
            part ?? throw new ContractReadException($"{where}: required '{name}' is missing.");
    }
}
