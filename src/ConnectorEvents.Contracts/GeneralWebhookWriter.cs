using System.Text.Json;

namespace ConnectorEvents.Contracts;

/// <summary>Builds the exact bytes of a General Webhook body for a contract version.</summary>
public static class GeneralWebhookWriter
{
    /// <summary>
    /// The body of <paramref name="message"/> in <paramref name="version"/>, or <c>null</c> when that version cannot
    /// carry it: 2019-05 and 2019-12 have no General message, and a message holding an event the version does not
    /// know is not silently trimmed (choose the events with <see cref="ContractVersion.KnowsGeneralDiscriminator"/>
    /// first, so what is withheld can be shown). <paramref name="entities"/> is written only by 2021-01, where the
    /// block is required; without it 2021-01 writes both lists empty.
    /// </summary>
    public static byte[]? Write(ContractVersion version, GeneralWebhookMessage message, GeneralEntities? entities = null)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(message);
        if (!version.HasGeneralMessage || !message.Events.All(e => version.KnowsGeneralDiscriminator(e.Discriminator)))
        {
            return null;
        }
        if (version.HasGeneralEntities)
        {
            return JsonSerializer.SerializeToUtf8Bytes(
                new January2021GeneralMessage(message.EnterpriseId, message.IntegrationId, message.Events,
                    entities ?? new GeneralEntities([], [])),
                ContractJson.Wire.January2021GeneralMessage);
        }
        return JsonSerializer.SerializeToUtf8Bytes(message, ContractJson.Public.GeneralWebhookMessage);
    }
}
