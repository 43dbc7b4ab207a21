using Xunit;
using static ConnectorEvents.Contracts.Tests.JsonText;

namespace ConnectorEvents.Contracts.Tests;

public sealed class WebSocketFrameTests
{
    [Fact]
    public void The_documented_example_reads_into_the_four_typed_events()
    {
        var frame = WebSocketFrameReader.Read(Utf8(DocumentedExamples.WebSocketMessage));

        Assert.Collection(frame.Events,
            e => Assert.Equal(new DeviceCommandEvent(Guid.Parse("2391a3df-1c61-4131-b6f8-c85b4234adcb"), "Pending"), e),
            e => Assert.Equal(new ReservationEvent(Guid.Parse("bfee2c44-1f84-4326-a862-5289598f6e2d"), "Processed",
                new DateTimeOffset(2016, 2, 20, 13, 0, 0, TimeSpan.Zero), new DateTimeOffset(2016, 2, 22, 11, 0, 0, TimeSpan.Zero)), e),
            e => Assert.Equal(new ResourceEvent(Guid.Parse("5ee074b1-6c86-48e8-915f-c7aa4702086f"), "Dirty"), e),
            e => Assert.Equal(new PriceUpdateEvent(Guid.Parse("bd75f159-f22a-4685-abdb-aac0008e2af3"),
                new DateTimeOffset(2019, 9, 7, 22, 0, 0, TimeSpan.Zero), new DateTimeOffset(2019, 9, 7, 22, 0, 0, TimeSpan.Zero),
                Guid.Parse("9c6c0556-42bb-409a-86ca-6ca430773b99"), null), e));
        Assert.Equal(WebSocketEventTypes.All, frame.Events.Select(e => e.Type));
    }

    [Fact]
    public void Device_command_round_trips()
    {
        const string body = """{"Events":[{"Type":"DeviceCommand","Id":"2391a3df-1c61-4131-b6f8-c85b4234adcb","State":"Processed"}]}""";

        AssertBytes(body, WebSocketFrameWriter.Write(WebSocketFrameReader.Read(Utf8(body))));
    }

    [Fact]
    public void Reservation_writes_an_assigned_resource_after_the_end_and_leaves_an_absent_one_out()
    {
        const string withResource = """{"Events":[{"Type":"Reservation","Id":"bfee2c44-1f84-4326-a862-5289598f6e2d","State":"Started","StartUtc":"2016-02-20T13:00:00Z","EndUtc":"2016-02-22T11:00:00Z","AssignedResourceId":"20e00c32-d561-4008-8609-82d8aa525714"}]}""";
        const string withoutResource = """{"Events":[{"Type":"Reservation","Id":"bfee2c44-1f84-4326-a862-5289598f6e2d","State":"Started","StartUtc":"2016-02-20T13:00:00Z","EndUtc":"2016-02-22T11:00:00Z"}]}""";

        var read = Assert.IsType<ReservationEvent>(Assert.Single(WebSocketFrameReader.Read(Utf8(withResource)).Events));

        Assert.Equal(Guid.Parse("20e00c32-d561-4008-8609-82d8aa525714"), read.AssignedResourceId);
        AssertBytes(withResource, WebSocketFrameWriter.Write(new WebSocketFrame([read])));
        AssertBytes(withoutResource, WebSocketFrameWriter.Write(new WebSocketFrame([read with { AssignedResourceId = null }])));
    }

    [Fact]
    public void Resource_round_trips()
    {
        const string body = """{"Events":[{"Type":"Resource","Id":"5ee074b1-6c86-48e8-915f-c7aa4702086f","State":"Inspected"}]}""";

        AssertBytes(body, WebSocketFrameWriter.Write(WebSocketFrameReader.Read(Utf8(body))));
    }

    [Fact]
    public void Price_update_writes_every_optional_field_even_when_absent()
    {
        const string full = """{"Events":[{"Type":"PriceUpdate","Id":"bd75f159-f22a-4685-abdb-aac0008e2af3","StartUtc":"2019-09-07T22:00:00Z","EndUtc":"2019-09-08T22:00:00Z","RateId":"9c6c0556-42bb-409a-86ca-6ca430773b99","ResourceCategoryId":"773d5e42-de1e-43a0-9ce6-f940faf2303f"}]}""";

        var read = Assert.IsType<PriceUpdateEvent>(Assert.Single(WebSocketFrameReader.Read(Utf8(full)).Events));
        var sparse = WebSocketFrameReader.Read(Utf8("""{"Events":[{"Type":"PriceUpdate","Id":"bd75f159-f22a-4685-abdb-aac0008e2af3"}]}"""));

        AssertBytes(full, WebSocketFrameWriter.Write(new WebSocketFrame([read])));
        AssertBytes(
            """{"Events":[{"Type":"PriceUpdate","Id":"bd75f159-f22a-4685-abdb-aac0008e2af3","StartUtc":null,"EndUtc":null,"RateId":null,"ResourceCategoryId":null}]}""",
            WebSocketFrameWriter.Write(sparse));
    }

    [Fact]
    public void An_unknown_type_is_kept_raw_and_written_back_as_received()
    {
        const string body = """{"Events":[{"Type":"Resource","Id":"5ee074b1-6c86-48e8-915f-c7aa4702086f","State":"Dirty"},{"Type":"GuestArrived","Id":7,"Gate":"North"}]}""";

        var frame = WebSocketFrameReader.Read(Utf8(body));

        var unknown = Assert.IsType<UnknownWebSocketEvent>(frame.Events[1]);
        Assert.Equal("GuestArrived", unknown.Type);
        Assert.Equal("North", unknown.Raw.GetProperty("Gate").GetString());
        AssertBytes(body, WebSocketFrameWriter.Write(frame));
    }

    [Fact]
    public void Unknown_properties_are_ignored()
    {
        var frame = WebSocketFrameReader.Read(Utf8(
            """{"Sequence":9,"Events":[{"Type":"DeviceCommand","Id":"2391a3df-1c61-4131-b6f8-c85b4234adcb","State":"Pending","DeviceId":"d1"}]}"""));

        Assert.Equal(new DeviceCommandEvent(Guid.Parse("2391a3df-1c61-4131-b6f8-c85b4234adcb"), "Pending"), Assert.Single(frame.Events));
    }

    [Fact]
    public void Names_with_accents_and_ampersands_stay_readable()
    {
        var written = WebSocketFrameWriter.Write(new WebSocketFrame([new ResourceEvent(Guid.Empty, "Clean & <ready> für \"VIP\"")]));

        AssertBytes("""{"Events":[{"Type":"Resource","Id":"00000000-0000-0000-0000-000000000000","State":"Clean & <ready> für \"VIP\""}]}""", written);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("{", "not valid JSON")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{}", "required 'Events' is missing")]
    [InlineData("""{"Events":[1]}""", "'Events[0]' must be an object; it is a number")]
    [InlineData("""{"Events":[{"Id":"2391a3df-1c61-4131-b6f8-c85b4234adcb"}]}""", "'Events[0].Type' is missing")]
    [InlineData("""{"Events":[{"Type":"DeviceCommand","Id":"2391a3df-1c61-4131-b6f8-c85b4234adcb"}]}""", "(DeviceCommand)")]
    [InlineData("""{"Events":[{"Type":"Reservation","Id":"bfee2c44-1f84-4326-a862-5289598f6e2d","State":"Started","StartUtc":"2016-02-20T13:00:00Z"}]}""", "EndUtc")]
    [InlineData("""{"Events":[{"Type":"Resource","Id":"room 12","State":"Dirty"}]}""", "$.Id")]
    [InlineData("""{"Events":[{"Type":"Resource","Id":"5ee074b1-6c86-48e8-915f-c7aa4702086f","State":null}]}""", "State")]
    public void Malformed_messages_fail_with_a_reason_naming_the_part(string body, string reason)
    {
        var error = Assert.Throws<ContractReadException>(() => WebSocketFrameReader.Read(Utf8(body)));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
