using ConnectorEvents.Core.Messages;
using Xunit;

namespace ConnectorEvents.Core.Tests;

public sealed class MessageIdsTests
{
    [Fact]
    public void Ids_of_one_millisecond_strictly_increase_and_are_uuid_v7()
    {
        var generator = new MessageIdGenerator();
        var now = DateTimeOffset.UtcNow;
        var ids = Enumerable.Range(0, 5_000).Select(_ => generator.New(now)).ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(ids, id =>
        {
            Assert.Matches("^msg_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$", id);
            // The same layout as a Guid's "N" form: the version and variant where Guid reads them.
            Assert.Equal(7, Guid.ParseExact(id[4..], "N").Version);
        });
        // The first 12 hex digits are the Unix milliseconds; 5,000 ids overflow one millisecond's 4,096 into the next ones.
        var first = Convert.ToInt64(ids[0][4..16], 16);
        Assert.Equal(now.ToUnixTimeMilliseconds(), first);
        Assert.InRange(Convert.ToInt64(ids[^1][4..16], 16), first + 1, first + 3);
    }

    [Fact]
    public void A_clock_that_goes_back_never_makes_an_id_sort_before_the_last_one()
    {
        var generator = new MessageIdGenerator();
        var now = DateTimeOffset.UtcNow;
        var later = generator.New(now);
        var earlier = generator.New(now.AddSeconds(-5));
        Assert.True(string.CompareOrdinal(earlier, later) > 0, $"{earlier} sorts before {later}");
        Assert.True(string.CompareOrdinal(MessageIds.New(), MessageIds.New()) < 0);
    }
}
