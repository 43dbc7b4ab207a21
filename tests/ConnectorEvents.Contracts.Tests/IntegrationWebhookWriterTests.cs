using System.Text;
using System.Text.Json;
using ConnectorEvents.Contracts;
using Xunit;

namespace ConnectorEvents.Contracts.Tests;

public sealed class IntegrationWebhookWriterTests
{
    private const string DocumentedCreatedExample = DocumentedExamples.August2025Created;

    private static readonly IntegrationRef Integration =
        new(Guid.Parse("9e5e84e9-974d-4f16-9662-ab2200f27cb1"), "WebhookTEST");

    private const string IntegrationJson = """{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}""";

    private static IntegrationCreatedData DocumentedCreatedData() => new(
        new EnterpriseRef(Guid.Parse("8865aa96-f62d-4f9b-a912-ab2100f60f42"), "Sample Chain Hotel 1"),
        new ServiceRef(Guid.Parse("9745ce3a-8dbb-4cc0-a550-55f9ff67b242"), "Accommodation"),
        null,
        "9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF",
        new DateTimeOffset(2019, 12, 13, 14, 42, 52, TimeSpan.Zero),
        true,
        Integration);

    /// <summary>The example without insignificant whitespace; names, order and values untouched.</summary>
    private static byte[] Minify(string json)
    {
        using var document = JsonDocument.Parse(json);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            document.WriteTo(writer);
        }
        return buffer.ToArray();
    }

    private static void AssertBytes(string expected, byte[] actual) =>
        Assert.Equal(expected, Encoding.UTF8.GetString(actual));

    [Fact]
    public void Created_writes_the_documented_example_byte_for_byte()
    {
        var expected = Minify(DocumentedCreatedExample);

        var actual = IntegrationWebhookWriter.Created(DocumentedCreatedData());

        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(actual));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void The_minified_documented_example_is_what_receivers_diff_against()
    {
        // Guards the helper above: the golden bytes spelled out by hand.
        const string handMinified =
            """{"Action":"IntegrationCreated","Data":{"Enterprise":{"Id":"8865aa96-f62d-4f9b-a912-ab2100f60f42","Name":"Sample Chain Hotel 1"},"Service":{"Id":"9745ce3a-8dbb-4cc0-a550-55f9ff67b242","Name":"Accommodation"},"Requestor":null,"AccessToken":"9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF","CreatedUtc":"2019-12-13T14:42:52Z","IsEnabled":true,"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}}}""";

        AssertBytes(handMinified, Minify(DocumentedCreatedExample));
    }

    [Fact]
    public void Created_writes_a_known_requestor_as_an_object_in_the_documented_place()
    {
        var data = DocumentedCreatedData() with { Requestor = new Requestor("Jane Doe", "jane.doe@example.com") };

        var actual = IntegrationWebhookWriter.Created(data);

        AssertBytes(
            """{"Action":"IntegrationCreated","Data":{"Enterprise":{"Id":"8865aa96-f62d-4f9b-a912-ab2100f60f42","Name":"Sample Chain Hotel 1"},"Service":{"Id":"9745ce3a-8dbb-4cc0-a550-55f9ff67b242","Name":"Accommodation"},"Requestor":{"Name":"Jane Doe","Email":"jane.doe@example.com"},"AccessToken":"9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF","CreatedUtc":"2019-12-13T14:42:52Z","IsEnabled":true,"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}}}""",
            actual);
    }

    [Fact]
    public void Created_writes_an_absent_service_as_null_and_a_disabled_integration_as_false()
    {
        var data = DocumentedCreatedData() with { Service = null, IsEnabled = false };

        var actual = IntegrationWebhookWriter.Created(data);

        AssertBytes(
            """{"Action":"IntegrationCreated","Data":{"Enterprise":{"Id":"8865aa96-f62d-4f9b-a912-ab2100f60f42","Name":"Sample Chain Hotel 1"},"Service":null,"Requestor":null,"AccessToken":"9E5E84E9974D4F169662AB2200F27CB1-00B343A0DDA725CACAC028E38E3EABF","CreatedUtc":"2019-12-13T14:42:52Z","IsEnabled":false,"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}}}""",
            actual);
    }

    [Fact]
    public void Created_writes_the_creation_time_in_utc_whole_seconds_whatever_the_offset_given()
    {
        var local = new DateTimeOffset(2019, 12, 13, 15, 42, 52, 987, TimeSpan.FromHours(1));
        var data = DocumentedCreatedData() with { CreatedUtc = local };

        var actual = IntegrationWebhookWriter.Created(data);

        Assert.Equal(Minify(DocumentedCreatedExample), actual);
    }

    [Theory]
    [InlineData(IntegrationActions.Enabled)]
    [InlineData(IntegrationActions.Disabled)]
    [InlineData(IntegrationActions.Canceled)]
    [InlineData(IntegrationActions.Reinstated)]
    public void State_changes_carry_the_integration_alone(string action)
    {
        var actual = IntegrationWebhookWriter.StateChanged(action, Integration);

        AssertBytes($$$"""{"Action":"{{{action}}}","Data":{"Integration":{{{IntegrationJson}}}}}""", actual);
    }

    [Fact]
    public void Enabled_is_spelled_as_documented()
    {
        AssertBytes(
            """{"Action":"IntegrationEnabled","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}}}""",
            IntegrationWebhookWriter.StateChanged(IntegrationActions.Enabled, Integration));
    }

    [Fact]
    public void Disabled_is_spelled_as_documented()
    {
        AssertBytes(
            """{"Action":"IntegrationDisabled","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}}}""",
            IntegrationWebhookWriter.StateChanged(IntegrationActions.Disabled, Integration));
    }

    [Fact]
    public void Canceled_is_spelled_as_documented()
    {
        AssertBytes(
            """{"Action":"IntegrationCanceled","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}}}""",
            IntegrationWebhookWriter.StateChanged(IntegrationActions.Canceled, Integration));
    }

    [Fact]
    public void Reinstated_is_spelled_as_documented()
    {
        AssertBytes(
            """{"Action":"IntegrationReinstated","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}}}""",
            IntegrationWebhookWriter.StateChanged(IntegrationActions.Reinstated, Integration));
    }

    [Fact]
    public void Deleted_writes_the_deletion_time_before_the_integration()
    {
        var deleted = new DateTimeOffset(2024, 2, 29, 23, 59, 59, 500, TimeSpan.FromHours(-5));

        var actual = IntegrationWebhookWriter.Deleted(new IntegrationDeletedData(deleted, Integration));

        AssertBytes(
            """{"Action":"IntegrationDeleted","Data":{"DeletedUtc":"2024-03-01T04:59:59Z","Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"}}}""",
            actual);
    }

    [Fact]
    public void ApiKeyCreated_writes_the_integration_then_the_new_key()
    {
        var actual = IntegrationWebhookWriter.ApiKeyCreated(new IntegrationApiKeyCreatedData(
            Integration, "0C4E2F0A8B1D4E6F9A3B5C7D9E1F2A3B-1A2B3C4D5E6F708192A3B4C5D6E7F80"));

        AssertBytes(
            """{"Action":"IntegrationApiKeyCreated","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"WebhookTEST"},"ApiKey":"0C4E2F0A8B1D4E6F9A3B5C7D9E1F2A3B-1A2B3C4D5E6F708192A3B4C5D6E7F80"}}""",
            actual);
    }

    [Theory]
    [InlineData(IntegrationActions.Created)]
    [InlineData(IntegrationActions.Deleted)]
    [InlineData(IntegrationActions.ApiKeyCreated)]
    [InlineData("integrationenabled")]
    [InlineData("SomethingElse")]
    [InlineData("")]
    public void StateChanged_refuses_actions_that_do_not_carry_integration_only_data(string action)
    {
        var error = Assert.Throws<ArgumentException>(() => IntegrationWebhookWriter.StateChanged(action, Integration));

        Assert.Equal("action", error.ParamName);
    }

    [Fact]
    public void Every_documented_action_is_listed_once()
    {
        Assert.Equal(
            ["IntegrationCreated", "IntegrationEnabled", "IntegrationDisabled", "IntegrationCanceled", "IntegrationReinstated",
             "IntegrationDeleted", "IntegrationApiKeyCreated"],
            IntegrationActions.All);
    }

    [Fact]
    public void Names_with_ampersands_accents_and_quotes_are_written_as_plain_text_and_stay_valid_json()
    {
        var actual = IntegrationWebhookWriter.StateChanged(IntegrationActions.Enabled,
            new IntegrationRef(Integration.Id, "Hôtel & Spa <Zürich> \"Lac\""));

        AssertBytes(
            """{"Action":"IntegrationEnabled","Data":{"Integration":{"Id":"9e5e84e9-974d-4f16-9662-ab2200f27cb1","Name":"Hôtel & Spa <Zürich> \"Lac\""}}}""",
            actual);
        Assert.Equal("Hôtel & Spa <Zürich> \"Lac\"",
            System.Text.Json.JsonDocument.Parse(actual).RootElement.GetProperty("Data").GetProperty("Integration").GetProperty("Name").GetString());
    }
}
