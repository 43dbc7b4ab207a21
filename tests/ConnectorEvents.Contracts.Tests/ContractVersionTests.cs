using Xunit;

namespace ConnectorEvents.Contracts.Tests;

public sealed class ContractVersionTests
{
    [Theory]
    [InlineData("2019-05")]
    [InlineData("2019-12")]
    [InlineData("2021-01")]
    [InlineData("2022-08")]
    [InlineData("2025-08")]
    public void Parses_and_formats_each_version_as_written(string text)
    {
        var version = ContractVersion.Parse(text);

        Assert.Equal(text, version.Text);
        Assert.Equal(text, version.ToString());
        Assert.Same(version, ContractVersion.Parse($" {text} "));
    }

    [Theory]
    [InlineData("2020-01")]
    [InlineData("2025-8")]
    [InlineData("2025-08-01")]
    [InlineData("latest")]
    [InlineData("")]
    public void An_unknown_text_names_every_known_version(string text)
    {
        var error = Assert.Throws<FormatException>(() => ContractVersion.Parse(text));

        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("2019-05, 2019-12, 2021-01, 2022-08, 2025-08", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_answers_false_for_null_and_unknown_text()
    {
        Assert.False(ContractVersion.TryParse(null, out var none));
        Assert.Null(none);
        Assert.False(ContractVersion.TryParse("2024-01", out _));
        Assert.True(ContractVersion.TryParse("2021-01", out var known));
        Assert.Same(ContractVersion.January2021, known);
    }

    [Fact]
    public void Parses_through_IParsable_for_generic_binders()
    {
        Assert.Same(ContractVersion.May2019, ParseWith<ContractVersion>("2019-05"));
    }

    private static T ParseWith<T>(string text) where T : IParsable<T> => T.Parse(text, null);

    [Fact]
    public void The_default_is_2025_08_and_all_are_listed_oldest_first()
    {
        Assert.Same(ContractVersion.August2025, ContractVersion.Default);
        Assert.Equal(["2019-05", "2019-12", "2021-01", "2022-08", "2025-08"], ContractVersion.All.Select(v => v.Text));
        Assert.Equal(ContractVersion.All, ContractVersion.All.Order());
    }

    [Fact]
    public void Versions_order_by_age()
    {
        Assert.True(ContractVersion.May2019 < ContractVersion.December2019);
        Assert.True(ContractVersion.August2025 > ContractVersion.August2022);
        Assert.True(ContractVersion.January2021 <= ContractVersion.January2021);
        Assert.True(ContractVersion.January2021 >= ContractVersion.December2019);
        Assert.False(ContractVersion.August2022 < ContractVersion.January2021);
        Assert.Equal(0, ContractVersion.January2021.CompareTo(ContractVersion.Parse("2021-01")));
        Assert.True(ContractVersion.May2019.CompareTo(null) > 0);
        Assert.True(ContractVersion.Parse("2022-08") == ContractVersion.August2022);
    }

    [Fact]
    public void Integration_actions_grow_from_three_to_seven()
    {
        Assert.Equal(["IntegrationCreated", "IntegrationEnabled", "IntegrationDisabled"],
            ContractVersion.May2019.KnownIntegrationActions);
        string[] six = ["IntegrationCreated", "IntegrationEnabled", "IntegrationDisabled", "IntegrationCanceled",
            "IntegrationReinstated", "IntegrationDeleted"];
        Assert.Equal(six, ContractVersion.December2019.KnownIntegrationActions);
        Assert.Equal(six, ContractVersion.January2021.KnownIntegrationActions);
        Assert.Equal(six, ContractVersion.August2022.KnownIntegrationActions);
        Assert.Equal(IntegrationActions.All, ContractVersion.August2025.KnownIntegrationActions);
    }

    [Theory]
    [InlineData("2019-05", false)]
    [InlineData("2019-12", false)]
    [InlineData("2021-01", false)]
    [InlineData("2022-08", false)]
    [InlineData("2025-08", true)]
    public void Only_2025_08_knows_the_api_key_action(string text, bool knows)
    {
        Assert.Equal(knows, ContractVersion.Parse(text).KnowsIntegrationAction(IntegrationActions.ApiKeyCreated));
    }

    [Fact]
    public void Action_names_are_matched_exactly()
    {
        Assert.False(ContractVersion.August2025.KnowsIntegrationAction("integrationcreated"));
        Assert.False(ContractVersion.August2025.KnowsIntegrationAction("IntegrationFrozen"));
    }

    [Theory]
    [InlineData("2019-05", false)]
    [InlineData("2019-12", false)]
    [InlineData("2021-01", true)]
    [InlineData("2022-08", false)]
    [InlineData("2025-08", false)]
    public void Only_2021_01_has_the_entities_block(string text, bool hasEntities)
    {
        Assert.Equal(hasEntities, ContractVersion.Parse(text).HasGeneralEntities);
    }

    [Fact]
    public void General_discriminators_are_none_then_two_then_seven()
    {
        Assert.Empty(ContractVersion.May2019.KnownGeneralDiscriminators);
        Assert.Empty(ContractVersion.December2019.KnownGeneralDiscriminators);
        Assert.False(ContractVersion.December2019.HasGeneralMessage);
        Assert.Equal(["ServiceOrderUpdated", "ResourceUpdated"], ContractVersion.January2021.KnownGeneralDiscriminators);
        string[] seven = ["ServiceOrderUpdated", "ResourceUpdated", "MessageAdded", "ResourceBlockUpdated", "CustomerAdded",
            "CustomerUpdated", "PaymentUpdated"];
        Assert.Equal(seven, ContractVersion.August2022.KnownGeneralDiscriminators);
        Assert.Equal(seven, ContractVersion.August2025.KnownGeneralDiscriminators);
        Assert.False(ContractVersion.January2021.KnowsGeneralDiscriminator(GeneralDiscriminators.CustomerAdded));
        Assert.True(ContractVersion.August2022.KnowsGeneralDiscriminator(GeneralDiscriminators.PaymentUpdated));
    }

    [Fact]
    public void Ranges_describe_themselves()
    {
        Assert.Equal("2019-05", ContractVersionRange.Exactly(ContractVersion.May2019).ToString());
        Assert.Equal("2019-12 or later", ContractVersionRange.FromOnward(ContractVersion.December2019).ToString());
        Assert.Equal("2021-01 to 2022-08", new ContractVersionRange(ContractVersion.January2021, ContractVersion.August2022).ToString());
        Assert.True(ContractVersionRange.Any.Contains(ContractVersion.May2019));
        Assert.False(ContractVersionRange.FromOnward(ContractVersion.January2021).Contains(ContractVersion.December2019));
    }
}
