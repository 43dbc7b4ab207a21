using Xunit;
using static ConnectorEvents.Contracts.Tests.JsonText;

namespace ConnectorEvents.Contracts.Tests;

public sealed class GeneralWebhookWriterTests
{
    private static readonly Guid EnterpriseId = Guid.Parse("851df8c8-90f2-4c4a-8e01-a4fc46b25178");
    private static readonly Guid IntegrationId = Guid.Parse("c8bee838-7fb1-4f4e-8fac-ac87008b2f90");
    private static readonly Guid ResourceId = Guid.Parse("7cccbdc6-73cf-4cd4-8056-6fd00f4d9699");

    private const string Head = """{"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90","Events":""";

    private static GeneralWebhookMessage Message(params GeneralEvent[] events) => new(EnterpriseId, IntegrationId, events);

    [Theory]
    [InlineData("2019-05")]
    [InlineData("2019-12")]
    public void Versions_before_2021_01_have_no_general_message(string versionText)
    {
        Assert.Null(GeneralWebhookWriter.Write(ContractVersion.Parse(versionText),
            Message(GeneralEvent.For(GeneralDiscriminators.ResourceUpdated, ResourceId))));
    }

    [Fact]
    public void A_message_with_an_event_the_version_does_not_know_is_not_written_rather_than_trimmed()
    {
        var message = Message(GeneralEvent.For(GeneralDiscriminators.ResourceUpdated, ResourceId),
            GeneralEvent.For(GeneralDiscriminators.CustomerAdded, ResourceId));

        Assert.Null(GeneralWebhookWriter.Write(ContractVersion.January2021, message));
        Assert.NotNull(GeneralWebhookWriter.Write(ContractVersion.August2022, message));
        Assert.Null(GeneralWebhookWriter.Write(ContractVersion.August2025, Message(GeneralEvent.For("InvoiceIssued", ResourceId))));
    }

    [Fact]
    public void January_2021_writes_the_entities_block_last_with_empty_lists_when_none_are_given()
    {
        AssertBytes(
            Head + """[{"Discriminator":"ResourceUpdated","Value":{"Id":"7cccbdc6-73cf-4cd4-8056-6fd00f4d9699"}}],"Entities":{"ServiceOrders":[],"Resources":[]}}""",
            GeneralWebhookWriter.Write(ContractVersion.January2021, Message(GeneralEvent.For(GeneralDiscriminators.ResourceUpdated, ResourceId))));
    }

    [Theory]
    [InlineData("2022-08")]
    [InlineData("2025-08")]
    public void Later_versions_never_write_entities(string versionText)
    {
        var written = GeneralWebhookWriter.Write(ContractVersion.Parse(versionText),
            Message(GeneralEvent.For(GeneralDiscriminators.ResourceUpdated, ResourceId)), new GeneralEntities([], []));

        AssertBytes(Head + """[{"Discriminator":"ResourceUpdated","Value":{"Id":"7cccbdc6-73cf-4cd4-8056-6fd00f4d9699"}}]}""", written);
    }

    [Fact]
    public void An_empty_message_is_an_empty_event_list()
    {
        AssertBytes(Head + """[]}""", GeneralWebhookWriter.Write(ContractVersion.August2025, Message()));
    }

    [Fact]
    public void Every_discriminator_of_every_version_round_trips_through_the_reader()
    {
        foreach (var version in ContractVersion.All.Where(v => v.HasGeneralMessage))
        {
            var message = Message([.. version.KnownGeneralDiscriminators.Select((d, i) => GeneralEvent.For(d, new Guid(i + 1, 0, 0, new byte[8])))]);
            var body = GeneralWebhookWriter.Write(version, message)!;

            var reading = Assert.IsType<GeneralMessageReading>(WebhookReader.Read(body));

            Assert.Equal(message.Events, reading.ToMessage().Events);
            Assert.Equal(version.KnownGeneralDiscriminators, reading.Discriminators);
            Assert.True(reading.Versions.Contains(version), $"{version}: {reading.Versions}");
            Assert.Equal(body, GeneralWebhookWriter.Write(version, reading.ToMessage(), reading.Entities));
        }
    }
}
