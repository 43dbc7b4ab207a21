using System.Text.Json;
using Xunit;
using static ConnectorEvents.Contracts.Tests.JsonText;

namespace ConnectorEvents.Contracts.Tests;

public sealed class WebhookReaderTests
{
    private static readonly IntegrationRef Integration =
        new(Guid.Parse("9e5e84e9-974d-4f16-9662-ab2200f27cb1"), "WebhookTEST");

    private static IntegrationCreatedData ReadCreated(string body) =>
        Assert.IsType<IntegrationCreatedData>(Assert.IsType<IntegrationWebhookReading>(WebhookReader.Read(Utf8(body))).Data);

    private static ContractReadException ReadFails(string body) =>
        Assert.Throws<ContractReadException>(() => WebhookReader.Read(Utf8(body)));

    [Fact]
    public void All_five_versions_of_IntegrationCreated_read_into_the_same_typed_data()
    {
        var may2019 = ReadCreated(DocumentedExamples.May2019Created);
        var december2019 = ReadCreated(DocumentedExamples.December2019Created);
        var january2021 = ReadCreated(DocumentedExamples.January2021Created);
        var august2022 = ReadCreated(DocumentedExamples.August2022Created);
        var august2025 = ReadCreated(DocumentedExamples.August2025Created);

        var expected = new IntegrationCreatedData(
            new EnterpriseRef(Guid.Parse("8865aa96-f62d-4f9b-a912-ab2100f60f42"), "Sample Chain Hotel 1"),
            new ServiceRef(Guid.Parse("9745ce3a-8dbb-4cc0-a550-55f9ff67b242"), "Accommodation"),
            null,
            "9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF",
            new DateTimeOffset(2019, 12, 13, 14, 42, 52, TimeSpan.Zero),
            true,
            Integration);
        Assert.Equal(expected, august2025);
        Assert.Equal(expected, august2022);
        Assert.Equal(expected, january2021);
        Assert.Equal(expected with { Service = null }, december2019);
        // 2019-05: creation time and state come from beside the action.
        Assert.Equal(new IntegrationCreatedData(
            new EnterpriseRef(Guid.Parse("851df8c8-90f2-4c4a-8e01-a4fc46b25178"), "Connector API Hotel"),
            null,
            new Requestor("Mews Integrations", "integrations@mewssystems.com"),
            "C66EF7B239D24632943D115EDE9CB810-EA00F8FD8294692C940F6B5A8F9453D",
            new DateTimeOffset(2019, 5, 24, 7, 35, 35, TimeSpan.Zero),
            true,
            new IntegrationRef(Guid.Parse("c66ef7b2-39d2-4632-943d-115ede9cb810"), "Example")), may2019);
    }

    [Theory]
    [InlineData(DocumentedExamples.May2019Created, "2019-05")]
    [InlineData(DocumentedExamples.December2019Created, "2019-12 or later")]
    [InlineData(DocumentedExamples.January2021Created, "2021-01 or later")]
    // Seed 002's example (2022-08) is character for character seed 003's integration example, so it is not repeated.
    [InlineData(DocumentedExamples.August2025Created, "2021-01 or later")]
    [InlineData(DocumentedExamples.January2021General, "2021-01")]
    [InlineData(DocumentedExamples.GeneralMessage, "2022-08 or later")]
    public void Detects_the_version_as_far_as_the_body_tells(string body, string versions)
    {
        Assert.Equal(versions, WebhookReader.Read(Utf8(body)).Versions.ToString());
    }

    [Theory]
    [InlineData("IntegrationEnabled", "2019-05 or later")]
    [InlineData("IntegrationDisabled", "2019-05 or later")]
    [InlineData("IntegrationCanceled", "2019-12 or later")]
    [InlineData("IntegrationReinstated", "2019-12 or later")]
    public void State_changes_are_dated_by_the_first_version_that_knows_the_action(string action, string versions)
    {
        var reading = Assert.IsType<IntegrationWebhookReading>(WebhookReader.Read(
            Utf8($$$$"""{"Action":"{{{{action}}}}","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}}}""")));

        Assert.Equal(PayloadKind.IntegrationWebhook, reading.Kind);
        Assert.True(reading.IsKnownAction);
        Assert.Equal(new IntegrationStateData(Integration), reading.Data);
        Assert.Equal(versions, reading.Versions.ToString());
    }

    [Fact]
    public void Deleted_and_api_key_created_read_their_data()
    {
        var deleted = Assert.IsType<IntegrationWebhookReading>(WebhookReader.Read(Utf8(
            """{"Action":"IntegrationDeleted","Data":{"DeletedUtc":"2024-03-01T04:59:59Z","Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}}}""")));
        var apiKey = Assert.IsType<IntegrationWebhookReading>(WebhookReader.Read(Utf8(
            """{"Action":"IntegrationApiKeyCreated","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"},"ApiKey":"KEY"}}""")));

        Assert.Equal(new IntegrationDeletedData(new DateTimeOffset(2024, 3, 1, 4, 59, 59, TimeSpan.Zero), Integration), deleted.Data);
        Assert.Equal(new IntegrationApiKeyCreatedData(Integration, "KEY"), apiKey.Data);
        Assert.Equal(ContractVersionRange.Exactly(ContractVersion.August2025), apiKey.Versions);
    }

    [Fact]
    public void Unknown_properties_are_ignored_at_every_level()
    {
        var data = ReadCreated("""
            {
              "Action": "IntegrationCreated", "DeliveredUtc": "2030-01-01T00:00:00Z",
              "Data": {
                "Enterprise": { "Id": "8865aa96-f62d-4f9b-a912-ab2100f60f42", "Name": "Sample Chain Hotel 1", "Chain": { "Id": 7 } },
                "Service": null, "Requestor": null, "Partner": [1, 2, 3],
                "AccessToken": "T", "CreatedUtc": "2019-12-13T14:42:52Z", "IsEnabled": true,
                "Integration": { "Id": "9e5e84e9-974d-4f16-9662-ab2200f27cb1", "Name": "WebhookTEST", "Tier": "Gold" }
              }
            }
            """);

        Assert.Equal("T", data.AccessToken);
        Assert.Equal(Integration, data.Integration);
    }

    [Fact]
    public void An_absent_requestor_and_service_read_as_null()
    {
        var data = ReadCreated("""
            {"Action":"IntegrationCreated","Data":{"Enterprise":{"Id":"8865aa96-f62d-4f9b-a912-ab2100f60f42","Name":"E"},
             "AccessToken":"T","CreatedUtc":"2019-12-13T14:42:52Z","IsEnabled":false,"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}}}
            """);

        Assert.Null(data.Service);
        Assert.Null(data.Requestor);
        Assert.False(data.IsEnabled);
    }

    [Theory]
    [InlineData("\"false\"", false)]
    [InlineData("\"True\"", true)]
    [InlineData("false", false)]
    public void May_2019_is_enabled_may_be_a_string_as_its_table_says_or_a_boolean_as_its_example_shows(string isEnabled, bool expected)
    {
        var data = ReadCreated($$$$"""
            {"Action":"IntegrationCreated","CreatedUtc":"2019-05-24T07:35:35Z","IsEnabled":{{{{isEnabled}}}},
             "Data":{"AccessToken":"T","Enterprise":{"Id":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","Name":"E"},"Requestor":null,
                     "Integration":{"Id":"c66ef7b2-39d2-4632-943d-115ede9cb810","Name":"Example"}}}
            """);

        Assert.Equal(expected, data.IsEnabled);
    }

    [Fact]
    public void An_unknown_action_is_returned_as_unknown_with_its_raw_data()
    {
        var reading = Assert.IsType<IntegrationWebhookReading>(WebhookReader.Read(Utf8(
            """{"Action":"IntegrationFrozen","Data":{"Integration":{"Id":"x"},"Until":"2030-01-01"}}""")));

        Assert.Equal("IntegrationFrozen", reading.Action);
        Assert.False(reading.IsKnownAction);
        var unknown = Assert.IsType<UnknownIntegrationData>(reading.Data);
        Assert.Equal("2030-01-01", unknown.Raw.GetProperty("Until").GetString());
        Assert.Equal(ContractVersionRange.Any, reading.Versions);
    }

    [Fact]
    public void An_unknown_action_without_data_is_still_read()
    {
        var reading = Assert.IsType<IntegrationWebhookReading>(WebhookReader.Read(Utf8("""{"Action":"IntegrationPinged"}""")));

        Assert.Equal(JsonValueKind.Undefined, Assert.IsType<UnknownIntegrationData>(reading.Data).Raw.ValueKind);
    }

    [Fact]
    public void Action_names_are_exact_so_another_spelling_is_unknown()
    {
        var reading = Assert.IsType<IntegrationWebhookReading>(WebhookReader.Read(Utf8(
            """{"Action":"integrationenabled","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}}}""")));

        Assert.False(reading.IsKnownAction);
    }

    [Fact]
    public void General_messages_read_their_events_in_order_with_unknown_ones_kept_raw()
    {
        var reading = Assert.IsType<GeneralMessageReading>(WebhookReader.Read(Utf8("""
            {
              "EnterpriseId": "851df8c8-90f2-4c4a-8e01-a4fc46b25178",
              "IntegrationId": "c8bee838-7fb1-4f4e-8fac-ac87008b2f90",
              "Events": [
                { "Discriminator": "CustomerAdded", "Value": { "Id": "c2f1d888-232e-49eb-87ac-5f75363af13b" } },
                { "Discriminator": "InvoiceIssued", "Value": { "Number": 17 } },
                { "Discriminator": "CustomerUpdated", "Value": { "Id": "c2f1d888-232e-49eb-87ac-5f75363af13b", "Extra": true } }
              ],
              "Signature": "ignored"
            }
            """)));

        Assert.Equal(PayloadKind.GeneralMessage, reading.Kind);
        Assert.Equal(Guid.Parse("851df8c8-90f2-4c4a-8e01-a4fc46b25178"), reading.EnterpriseId);
        Assert.Equal(["CustomerAdded", "InvoiceIssued", "CustomerUpdated"], reading.Discriminators);
        Assert.Equal([true, false, true], reading.Events.Select(e => e.IsKnown));
        Assert.Null(reading.Events[1].EntityId);
        Assert.Equal(17, reading.Events[1].Raw.GetProperty("Value").GetProperty("Number").GetInt32());
        Assert.Null(reading.Entities);
        Assert.Equal(
            [GeneralEvent.For("CustomerAdded", Guid.Parse("c2f1d888-232e-49eb-87ac-5f75363af13b")),
             GeneralEvent.For("CustomerUpdated", Guid.Parse("c2f1d888-232e-49eb-87ac-5f75363af13b"))],
            reading.ToMessage().Events);
    }

    [Fact]
    public void Discriminators_lists_each_once()
    {
        var reading = Assert.IsType<GeneralMessageReading>(WebhookReader.Read(Utf8("""
            {"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90","Events":[
              {"Discriminator":"ResourceUpdated","Value":{"Id":"7cccbdc6-73cf-4cd4-8056-6fd00f4d9699"}},
              {"Discriminator":"ResourceUpdated","Value":{"Id":"5ee074b1-6c86-48e8-915f-c7aa4702086f"}}]}
            """)));

        Assert.Equal(["ResourceUpdated"], reading.Discriminators);
        Assert.Equal(2, reading.Events.Count);
    }

    [Fact]
    public void Entities_keep_fields_the_seed_does_not_show_and_write_them_back()
    {
        const string body = """
            {"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90",
             "Events":[{"Discriminator":"ResourceUpdated","Value":{"Id":"7cccbdc6-73cf-4cd4-8056-6fd00f4d9699"}}],
             "Entities":{"Resources":[{"Id":"7cccbdc6-73cf-4cd4-8056-6fd00f4d9699","IsActive":true,"ParentResourceId":null,"Name":"210",
               "State":"Clean","Descriptions":{"en-US":"Sea view"},"CreatedUtc":"2018-09-24T07:56:56Z","UpdatedUtc":"2021-03-26T03:56:37Z",
               "Data":{"Discriminator":"Space","Value":{"FloorNumber":"2","LocationNotes":"Wing B","Elevator":"East"}},
               "EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","ExternalNames":{"en-US":"Room 210"}}],
               "Customers":[{"Id":"c2f1d888-232e-49eb-87ac-5f75363af13b"}]}}
            """;

        var reading = Assert.IsType<GeneralMessageReading>(WebhookReader.Read(Utf8(body)));
        var resource = Assert.Single(reading.Entities!.Resources!);
        var written = GeneralWebhookWriter.Write(ContractVersion.January2021, reading.ToMessage(), reading.Entities);

        Assert.Equal("Sea view", resource.Descriptions["en-US"]);
        Assert.Equal("East", resource.Data.Value!.AdditionalProperties!["Elevator"].GetString());
        Assert.Null(reading.Entities.ServiceOrders);
        // Typed fields in the seed's order, then the kept ones; an absent list stays absent as null.
        AssertBytes(
            """{"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90","Events":[{"Discriminator":"ResourceUpdated","Value":{"Id":"7cccbdc6-73cf-4cd4-8056-6fd00f4d9699"}}],"Entities":{"ServiceOrders":null,"Resources":[{"Id":"7cccbdc6-73cf-4cd4-8056-6fd00f4d9699","IsActive":true,"ParentResourceId":null,"Name":"210","State":"Clean","Descriptions":{"en-US":"Sea view"},"CreatedUtc":"2018-09-24T07:56:56Z","UpdatedUtc":"2021-03-26T03:56:37Z","Data":{"Discriminator":"Space","Value":{"FloorNumber":"2","LocationNotes":"Wing B","Elevator":"East"}},"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","ExternalNames":{"en-US":"Room 210"}}],"Customers":[{"Id":"c2f1d888-232e-49eb-87ac-5f75363af13b"}]}}""",
            written);
    }

    [Fact]
    public void A_non_space_resource_has_no_value()
    {
        var reading = Assert.IsType<GeneralMessageReading>(WebhookReader.Read(Utf8("""
            {"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90","Events":[],
             "Entities":{"Resources":[{"Id":"7cccbdc6-73cf-4cd4-8056-6fd00f4d9699","IsActive":true,"Name":"Bike 3","State":"Clean",
               "Descriptions":{},"CreatedUtc":"2018-09-24T07:56:56Z","UpdatedUtc":"2021-03-26T03:56:37Z","Data":{"Discriminator":"Object","Value":null}}]}}
            """)));

        var resource = Assert.Single(reading.Entities!.Resources!);
        Assert.Equal("Object", resource.Data.Discriminator);
        Assert.Null(resource.Data.Value);
        Assert.Null(resource.ParentResourceId);
    }

    [Fact]
    public void A_byte_order_mark_before_the_json_is_accepted()
    {
        byte[] body = [0xEF, 0xBB, 0xBF, .. Utf8(DocumentedExamples.August2025Created)];

        Assert.IsType<IntegrationWebhookReading>(WebhookReader.Read(body));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "not valid JSON")]
    [InlineData("Action=IntegrationCreated", "not valid JSON")]
    [InlineData("""{"Action":"IntegrationCreated","Data":{""", "not valid JSON")]
    [InlineData("""{"Action":"IntegrationEnabled"}{}""", "not valid JSON")]
    [InlineData("""[{"Action":"IntegrationEnabled"}]""", "must be a JSON object; it is an array")]
    [InlineData("\"IntegrationEnabled\"", "must be a JSON object; it is a string")]
    [InlineData("null", "must be a JSON object; it is null")]
    [InlineData("{}", "neither an Integration Webhook")]
    [InlineData("""{"Type":"DeviceCommand"}""", "neither an Integration Webhook")]
    [InlineData("""{"Action":null,"Data":{}}""", "'Action' must be a non-empty string")]
    [InlineData("""{"Action":"","Data":{}}""", "'Action' must be a non-empty string")]
    [InlineData("""{"Action":42,"Data":{}}""", "The body is not as the contract describes it")]
    [InlineData("""{"Action":"IntegrationEnabled"}""", "IntegrationEnabled: 'Data' must be an object; it is missing")]
    [InlineData("""{"Action":"IntegrationEnabled","Data":null}""", "'Data' must be an object")]
    [InlineData("""{"Action":"IntegrationEnabled","Data":[]}""", "'Data' must be an object; it is an array")]
    [InlineData("""{"Action":"IntegrationEnabled","Data":{}}""", "required 'Data.Integration' is missing")]
    [InlineData("""{"Action":"IntegrationEnabled","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1"}}}""", "Name")]
    [InlineData("""{"Action":"IntegrationEnabled","Data":{"Integration":{"Id":"room 12","Name":"X"}}}""", "$.Integration.Id")]
    [InlineData("""{"Action":"IntegrationEnabled","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":null}}}""", "Name")]
    [InlineData("""{"Action":"IntegrationDeleted","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"X"}}}""", "'Data.DeletedUtc' is missing")]
    [InlineData("""{"Action":"IntegrationDeleted","Data":{"DeletedUtc":"yesterday","Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"X"}}}""", "ISO 8601")]
    [InlineData("""{"Action":"IntegrationApiKeyCreated","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"X"}}}""", "'Data.ApiKey' is missing")]
    [InlineData("""{"Action":"IntegrationCreated","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"X"}}}""", "'Data.Enterprise' is missing")]
    [InlineData("""{"Action":"IntegrationCreated","Data":{"Enterprise":{"Id":"8865aa96-f62d-4f9b-a912-ab2100f60f42","Name":"E"},"AccessToken":"T","IsEnabled":true,"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"X"}}}""", "'Data.CreatedUtc (in 2019-05: CreatedUtc beside Action)' is missing")]
    [InlineData("""{"Action":"IntegrationCreated","IsEnabled":"maybe","Data":{}}""", "'IsEnabled' beside 'Action' must be true or false")]
    [InlineData("""{"Action":"IntegrationCreated","Data":{"Enterprise":{"Id":"8865aa96-f62d-4f9b-a912-ab2100f60f42","Name":"E"},"AccessToken":"T","CreatedUtc":"2019-12-13T14:42:52Z","IsEnabled":"yes","Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"X"}}}""", "$.IsEnabled")]
    [InlineData("""{"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","Events":[]}""", "General message: required 'IntegrationId' is missing")]
    [InlineData("""{"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90"}""", "required 'Events' is missing")]
    [InlineData("""{"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90","Events":{}}""", "$.Events")]
    [InlineData("""{"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90","Events":[7]}""", "'Events[0]' must be an object; it is a number")]
    [InlineData("""{"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90","Events":[{"Value":{"Id":"7cccbdc6-73cf-4cd4-8056-6fd00f4d9699"}}]}""", "'Events[0].Discriminator' is missing")]
    [InlineData("""{"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90","Events":[{"Discriminator":"ResourceUpdated"}]}""", "'Events[0].Value' of ResourceUpdated must be an object with an 'Id'")]
    [InlineData("""{"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90","Events":[{"Discriminator":"ResourceUpdated","Value":{}}]}""", "'Events[0].Value.Id' is missing")]
    [InlineData("""{"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90","Events":[{"Discriminator":"ResourceUpdated","Value":{"Id":"210"}}]}""", "'Events[0].Value'")]
    [InlineData("""{"EnterpriseId":"Hotel","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90","Events":[]}""", "$.EnterpriseId")]
    [InlineData("""{"EnterpriseId":"851df8c8-90f2-4c4a-8e01-a4fc46b25178","IntegrationId":"c8bee838-7fb1-4f4e-8fac-ac87008b2f90","Events":[],"Entities":{"ServiceOrders":[{"Id":"bfee2c44-1f84-4326-a862-5289598f6e2d"}]}}""", "ServiceId")]
    public void Malformed_bodies_fail_with_a_reason_naming_the_part(string body, string reason)
    {
        var error = ReadFails(body);

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
