using Xunit;

namespace ConnectorEvents.Contracts.Tests;

public sealed class SamplesTests
{
    public static TheoryData<string> VersionTexts => [.. ContractVersion.All.Select(v => v.Text)];

    [Theory]
    [MemberData(nameof(VersionTexts))]
    public void Every_documented_event_of_the_version_has_one_sample(string versionText)
    {
        var version = ContractVersion.Parse(versionText);

        var samples = Samples.All(version);

        Assert.Equal(
            [.. version.KnownIntegrationActions, .. version.KnownGeneralDiscriminators, .. WebSocketEventTypes.All],
            samples.Select(s => s.Name));
        Assert.Equal(samples.Count, samples.Select(s => s.Name).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(VersionTexts))]
    public void Every_sample_reads_back_as_what_it_is_named_and_writes_back_to_the_same_bytes(string versionText)
    {
        var version = ContractVersion.Parse(versionText);

        foreach (var sample in Samples.All(version))
        {
            switch (sample.Kind)
            {
                case PayloadKind.IntegrationWebhook:
                    var integration = Assert.IsType<IntegrationWebhookReading>(WebhookReader.Read(sample.Body));
                    Assert.Equal(sample.Name, integration.Action);
                    Assert.True(integration.Versions.Contains(version));
                    Assert.Equal(sample.Body, IntegrationWebhookWriter.Write(version, integration.Action, integration.Data));
                    break;
                case PayloadKind.GeneralMessage:
                    var general = Assert.IsType<GeneralMessageReading>(WebhookReader.Read(sample.Body));
                    Assert.Equal(sample.Name, general.Discriminators[0]);
                    Assert.All(general.Events, e => Assert.True(e.IsKnown));
                    Assert.Equal(version.HasGeneralEntities, general.Entities is not null);
                    Assert.True(general.Versions.Contains(version));
                    Assert.Equal(sample.Body, GeneralWebhookWriter.Write(version, general.ToMessage(), general.Entities));
                    break;
                case PayloadKind.WebSocketFrame:
                    var frame = WebSocketFrameReader.Read(sample.Body);
                    Assert.Equal(sample.Name, Assert.Single(frame.Events).Type);
                    Assert.Equal(sample.Body, WebSocketFrameWriter.Write(frame));
                    break;
                default:
                    Assert.Fail($"Unexpected kind {sample.Kind}.");
                    break;
            }
        }
    }

    [Fact]
    public void A_customer_added_sample_also_carries_the_update_of_the_same_customer()
    {
        var sample = Samples.Find(ContractVersion.August2025, GeneralDiscriminators.CustomerAdded)!;

        var reading = Assert.IsType<GeneralMessageReading>(WebhookReader.Read(sample.Body));

        Assert.Equal(["CustomerAdded", "CustomerUpdated"], reading.Discriminators);
        Assert.Equal(reading.Events[0].EntityId, reading.Events[1].EntityId);
    }

    [Fact]
    public void Samples_are_the_same_bytes_every_time()
    {
        var first = Samples.All(ContractVersion.January2021);
        var second = Samples.All(ContractVersion.January2021);

        Assert.Equal(first.Select(s => s.Body), second.Select(s => s.Body));
    }

    [Fact]
    public void Find_answers_null_for_what_the_version_does_not_document()
    {
        Assert.Null(Samples.Find(ContractVersion.August2022, IntegrationActions.ApiKeyCreated));
        Assert.Null(Samples.Find(ContractVersion.May2019, IntegrationActions.Deleted));
        Assert.Null(Samples.Find(ContractVersion.December2019, GeneralDiscriminators.ResourceUpdated));
        Assert.Null(Samples.Find(ContractVersion.January2021, GeneralDiscriminators.PaymentUpdated));
        Assert.Null(Samples.Find(ContractVersion.August2025, "integrationcreated"));
        Assert.NotNull(Samples.Find(ContractVersion.May2019, WebSocketEventTypes.PriceUpdate));
    }
}
