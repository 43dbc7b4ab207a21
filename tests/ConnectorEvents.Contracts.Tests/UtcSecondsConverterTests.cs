using System.Text.Json;
using ConnectorEvents.Contracts;
using Xunit;

namespace ConnectorEvents.Contracts.Tests;

public sealed class UtcSecondsConverterTests
{
    private static readonly JsonSerializerOptions Options = new() { Converters = { new UtcSecondsConverter() } };

    [Fact]
    public void Writes_utc_whole_seconds_with_a_z_from_another_offset_and_a_fraction()
    {
        var value = new DateTimeOffset(2019, 12, 13, 16, 42, 52, 999, TimeSpan.FromHours(2)).AddTicks(9_999);

        Assert.Equal("\"2019-12-13T14:42:52Z\"", JsonSerializer.Serialize(value, Options));
    }

    [Fact]
    public void Writes_a_negative_offset_across_midnight_into_the_next_utc_day()
    {
        var value = new DateTimeOffset(2019, 12, 31, 22, 30, 0, TimeSpan.FromHours(-3));

        Assert.Equal("\"2020-01-01T01:30:00Z\"", JsonSerializer.Serialize(value, Options));
    }

    [Fact]
    public void ToText_matches_what_is_written()
    {
        var value = new DateTimeOffset(2019, 12, 13, 14, 42, 52, 123, TimeSpan.Zero);

        Assert.Equal("2019-12-13T14:42:52Z", UtcSecondsConverter.ToText(value));
        Assert.Equal($"\"{UtcSecondsConverter.ToText(value)}\"", JsonSerializer.Serialize(value, Options));
    }

    [Fact]
    public void Reads_the_contract_form()
    {
        var value = JsonSerializer.Deserialize<DateTimeOffset>("\"2019-12-13T14:42:52Z\"", Options);

        Assert.Equal(new DateTimeOffset(2019, 12, 13, 14, 42, 52, TimeSpan.Zero), value);
        Assert.Equal(TimeSpan.Zero, value.Offset);
    }

    [Fact]
    public void Reads_a_fraction_and_an_offset_as_the_same_instant_in_utc()
    {
        var value = JsonSerializer.Deserialize<DateTimeOffset>("\"2019-12-13T14:42:52.123+01:00\"", Options);

        Assert.Equal(new DateTimeOffset(2019, 12, 13, 13, 42, 52, 123, TimeSpan.Zero), value);
        Assert.Equal(TimeSpan.Zero, value.Offset);
    }

    [Theory]
    [InlineData("\"yesterday at noon\"")]
    [InlineData("\"\"")]
    [InlineData("\"2019-13-45T14:42:52Z\"")]
    [InlineData("\"2019-12-13T25:42:52Z\"")]
    [InlineData("1576248172")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("{}")]
    public void Refuses_anything_that_is_not_an_instant(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<DateTimeOffset>(json, Options));
    }

    [Fact]
    public void Round_trips_a_whole_second_instant()
    {
        var value = new DateTimeOffset(2025, 8, 1, 0, 0, 1, TimeSpan.Zero);

        var text = JsonSerializer.Serialize(value, Options);

        Assert.Equal(value, JsonSerializer.Deserialize<DateTimeOffset>(text, Options));
    }
}
