using System.Text;
using ConnectorEvents.Core.Delivery;
using Xunit;

namespace ConnectorEvents.Core.Tests;

public sealed class ResponseBodyCutTests
{
    [Theory]
    [InlineData("plain ascii", 0)]
    [InlineData("é", 1)]      // 2-byte character cut after its first byte
    [InlineData("€", 1)]      // 3-byte character cut after 1 byte
    [InlineData("€", 2)]      // ... and after 2 bytes
    [InlineData("😀", 3)]     // 4-byte character cut after 3 bytes
    public void A_character_cut_in_half_at_the_end_is_dropped_whole(string tail, int keptBytesOfTail)
    {
        var prefix = Encoding.UTF8.GetBytes("ok ");
        var tailBytes = Encoding.UTF8.GetBytes(tail);
        var cut = keptBytesOfTail == 0 ? tailBytes : tailBytes[..keptBytesOfTail];
        var text = prefix.Concat(cut).ToArray();

        var length = WebhookSender.CompleteUtf8Length(text);

        Assert.Equal(keptBytesOfTail == 0 ? text.Length : prefix.Length, length);
        Assert.DoesNotContain('\uFFFD', Encoding.UTF8.GetString(text, 0, length));
    }

    [Theory]
    [InlineData("é")]
    [InlineData("€")]
    [InlineData("😀")]
    public void A_whole_character_at_the_end_is_kept(string tail)
    {
        var text = Encoding.UTF8.GetBytes("ok " + tail);
        Assert.Equal(text.Length, WebhookSender.CompleteUtf8Length(text));
    }
}
