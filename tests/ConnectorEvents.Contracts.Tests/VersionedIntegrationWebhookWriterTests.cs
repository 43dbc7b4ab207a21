using Xunit;
using static ConnectorEvents.Contracts.Tests.JsonText;

namespace ConnectorEvents.Contracts.Tests;

public sealed class VersionedIntegrationWebhookWriterTests
{
    private static readonly IntegrationRef Integration =
        new(Guid.Parse("9e5e84e9-974d-4f16-9662-ab2200f27cb1"), "WebhookTEST");

    private const string IntegrationJson = """{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}""";

    private static IntegrationCreatedData Created() => new(
        new EnterpriseRef(Guid.Parse("8865aa96-f62d-4f9b-a912-ab2100f60f42"), "Sample Chain Hotel 1"),
        new ServiceRef(Guid.Parse("9745ce3a-8dbb-4cc0-a550-55f9ff67b242"), "Accommodation"),
        new Requestor("Jane Doe", "jane.doe@example.com"),
        "9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF",
        new DateTimeOffset(2019, 12, 13, 15, 42, 52, 700, TimeSpan.FromHours(1)),
        false,
        Integration);

    private const string EnterpriseJson = """{"Id":"8865aa96-f62d-4f9b-a912-ab2100f60f42","Name":"Sample Chain Hotel 1"}""";
    private const string ServiceJson = """{"Id":"9745ce3a-8dbb-4cc0-a550-55f9ff67b242","Name":"Accommodation"}""";
    private const string RequestorJson = """{"Name":"Jane Doe","Email":"jane.doe@example.com"}""";
    private const string Token = "9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF";

    [Fact]
    public void May_2019_puts_creation_time_and_state_beside_the_action_and_the_token_first_in_data()
    {
        AssertBytes(
            $$$$"""{"Action":"IntegrationCreated","CreatedUtc":"2019-12-13T14:42:52Z","IsEnabled":false,"Data":{"AccessToken":"{{{{Token}}}}","Enterprise":{{{{EnterpriseJson}}}},"Requestor":{{{{RequestorJson}}}},"Integration":{{{{IntegrationJson}}}}}}""",
            IntegrationWebhookWriter.Created(ContractVersion.May2019, Created()));
    }

    [Fact]
    public void May_2019_writes_an_unknown_requestor_as_null_in_its_place()
    {
        AssertBytes(
            $$$$"""{"Action":"IntegrationCreated","CreatedUtc":"2019-12-13T14:42:52Z","IsEnabled":false,"Data":{"AccessToken":"{{{{Token}}}}","Enterprise":{{{{EnterpriseJson}}}},"Requestor":null,"Integration":{{{{IntegrationJson}}}}}}""",
            IntegrationWebhookWriter.Created(ContractVersion.May2019, Created() with { Requestor = null }));
    }

    [Fact]
    public void December_2019_keeps_everything_in_data_and_leaves_the_service_out()
    {
        AssertBytes(
            $$$$"""{"Action":"IntegrationCreated","Data":{"Enterprise":{{{{EnterpriseJson}}}},"Requestor":{{{{RequestorJson}}}},"AccessToken":"{{{{Token}}}}","CreatedUtc":"2019-12-13T14:42:52Z","IsEnabled":false,"Integration":{{{{IntegrationJson}}}}}}""",
            IntegrationWebhookWriter.Created(ContractVersion.December2019, Created()));
    }

    [Theory]
    [InlineData("2021-01")]
    [InlineData("2022-08")]
    [InlineData("2025-08")]
    public void From_2021_01_the_service_sits_after_the_enterprise_and_an_absent_one_is_null(string versionText)
    {
        var version = ContractVersion.Parse(versionText);

        AssertBytes(
            $$$$"""{"Action":"IntegrationCreated","Data":{"Enterprise":{{{{EnterpriseJson}}}},"Service":{{{{ServiceJson}}}},"Requestor":{{{{RequestorJson}}}},"AccessToken":"{{{{Token}}}}","CreatedUtc":"2019-12-13T14:42:52Z","IsEnabled":false,"Integration":{{{{IntegrationJson}}}}}}""",
            IntegrationWebhookWriter.Created(version, Created()));
        AssertBytes(
            $$$$"""{"Action":"IntegrationCreated","Data":{"Enterprise":{{{{EnterpriseJson}}}},"Service":null,"Requestor":{{{{RequestorJson}}}},"AccessToken":"{{{{Token}}}}","CreatedUtc":"2019-12-13T14:42:52Z","IsEnabled":false,"Integration":{{{{IntegrationJson}}}}}}""",
            IntegrationWebhookWriter.Created(version, Created() with { Service = null }));
    }

    [Fact]
    public void The_2025_08_shape_is_the_unversioned_writers()
    {
        Assert.Equal(IntegrationWebhookWriter.Created(Created()), IntegrationWebhookWriter.Created(ContractVersion.August2025, Created()));
    }

    [Theory]
    [InlineData("2019-05", IntegrationActions.Enabled)]
    [InlineData("2019-05", IntegrationActions.Disabled)]
    [InlineData("2019-12", IntegrationActions.Canceled)]
    [InlineData("2021-01", IntegrationActions.Reinstated)]
    [InlineData("2022-08", IntegrationActions.Enabled)]
    [InlineData("2025-08", IntegrationActions.Disabled)]
    public void State_changes_carry_the_integration_alone_in_every_version_that_knows_them(string versionText, string action)
    {
        AssertBytes($$$"""{"Action":"{{{action}}}","Data":{"Integration":{{{IntegrationJson}}}}}""",
            IntegrationWebhookWriter.StateChanged(ContractVersion.Parse(versionText), action, Integration));
    }

    [Theory]
    [InlineData(IntegrationActions.Canceled)]
    [InlineData(IntegrationActions.Reinstated)]
    public void May_2019_does_not_know_cancel_or_reinstate(string action)
    {
        Assert.Null(IntegrationWebhookWriter.StateChanged(ContractVersion.May2019, action, Integration));
    }

    [Fact]
    public void Versioned_StateChanged_still_refuses_actions_that_are_not_state_changes()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            IntegrationWebhookWriter.StateChanged(ContractVersion.May2019, IntegrationActions.Deleted, Integration));
        Assert.Equal("action", error.ParamName);
    }

    [Theory]
    [InlineData("2019-12")]
    [InlineData("2021-01")]
    [InlineData("2022-08")]
    [InlineData("2025-08")]
    public void Deleted_is_the_same_from_2019_12_on(string versionText)
    {
        var data = new IntegrationDeletedData(new DateTimeOffset(2024, 3, 1, 4, 59, 59, TimeSpan.Zero), Integration);

        AssertBytes(
            $$$$"""{"Action":"IntegrationDeleted","Data":{"DeletedUtc":"2024-03-01T04:59:59Z","Integration":{{{{IntegrationJson}}}}}}""",
            IntegrationWebhookWriter.Deleted(ContractVersion.Parse(versionText), data));
    }

    [Fact]
    public void May_2019_does_not_know_deletion()
    {
        Assert.Null(IntegrationWebhookWriter.Deleted(ContractVersion.May2019,
            new IntegrationDeletedData(DateTimeOffset.UnixEpoch, Integration)));
    }

    [Theory]
    [InlineData("2019-05")]
    [InlineData("2019-12")]
    [InlineData("2021-01")]
    [InlineData("2022-08")]
    public void Api_key_creation_is_unknown_before_2025_08(string versionText)
    {
        Assert.Null(IntegrationWebhookWriter.ApiKeyCreated(ContractVersion.Parse(versionText),
            new IntegrationApiKeyCreatedData(Integration, "KEY")));
    }

    [Fact]
    public void Api_key_creation_in_2025_08_writes_the_integration_then_the_key()
    {
        AssertBytes(
            $$$$"""{"Action":"IntegrationApiKeyCreated","Data":{"Integration":{{{{IntegrationJson}}}},"ApiKey":"KEY"}}""",
            IntegrationWebhookWriter.ApiKeyCreated(ContractVersion.August2025, new IntegrationApiKeyCreatedData(Integration, "KEY")));
    }

    [Fact]
    public void Write_dispatches_on_the_action_and_matches_the_specific_entry_points()
    {
        foreach (var version in ContractVersion.All)
        {
            Assert.Equal(IntegrationWebhookWriter.Created(version, Created()),
                IntegrationWebhookWriter.Write(version, IntegrationActions.Created, Created()));
            Assert.Equal(IntegrationWebhookWriter.StateChanged(version, IntegrationActions.Canceled, Integration),
                IntegrationWebhookWriter.Write(version, IntegrationActions.Canceled, new IntegrationStateData(Integration)));
        }
    }

    [Fact]
    public void Write_returns_null_for_an_action_no_version_documents()
    {
        Assert.Null(IntegrationWebhookWriter.Write(ContractVersion.August2025, "IntegrationFrozen", new IntegrationStateData(Integration)));
        Assert.Null(IntegrationWebhookWriter.Write(ContractVersion.August2025, "IntegrationFrozen",
            new UnknownIntegrationData(default)));
    }

    [Fact]
    public void Write_refuses_data_the_action_does_not_carry()
    {
        Assert.Throws<ArgumentException>(() =>
            IntegrationWebhookWriter.Write(ContractVersion.August2025, IntegrationActions.Created, new IntegrationStateData(Integration)));
        Assert.Throws<ArgumentException>(() =>
            IntegrationWebhookWriter.Write(ContractVersion.August2025, IntegrationActions.Deleted, new IntegrationStateData(Integration)));
        Assert.Throws<ArgumentException>(() =>
            IntegrationWebhookWriter.Write(ContractVersion.August2025, IntegrationActions.Enabled, Created()));
    }

    [Fact]
    public void Every_action_of_every_version_round_trips_through_the_reader()
    {
        foreach (var version in ContractVersion.All)
        {
            foreach (var action in version.KnownIntegrationActions)
            {
                IntegrationWebhookData sent = action switch
                {
                    IntegrationActions.Created => Created(),
                    IntegrationActions.Deleted => new IntegrationDeletedData(new DateTimeOffset(2024, 3, 1, 4, 59, 59, TimeSpan.Zero), Integration),
                    IntegrationActions.ApiKeyCreated => new IntegrationApiKeyCreatedData(Integration, "KEY"),
                    _ => new IntegrationStateData(Integration),
                };
                var body = IntegrationWebhookWriter.Write(version, action, sent)!;

                var reading = Assert.IsType<IntegrationWebhookReading>(WebhookReader.Read(body));

                Assert.Equal(action, reading.Action);
                Assert.True(reading.Versions.Contains(version), $"{action} in {version}: {reading.Versions}");
                Assert.Equal(body, IntegrationWebhookWriter.Write(version, reading.Action, reading.Data));
            }
        }
    }
}
