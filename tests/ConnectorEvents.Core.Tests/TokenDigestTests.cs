using ConnectorEvents.Core.Security;
using Xunit;

namespace ConnectorEvents.Core.Tests;

public sealed class TokenDigestTests
{
    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    public void The_digest_is_sha256_in_lower_case_hex(string token, string expected) =>
        Assert.Equal(expected, TokenDigest.HashOf(token));

    [Theory]
    [InlineData(1)]
    [InlineData(340)] // the longest whose UTF-8 fits the stack buffer at three bytes a character
    [InlineData(341)] // the shortest that does not
    [InlineData(20_000)]
    public void Tokens_of_any_length_and_script_hash_as_their_utf8_bytes(int length)
    {
        // Characters of one, two, three and four (a surrogate pair) UTF-8 bytes, cut to the length asked.
        var token = string.Concat(Enumerable.Repeat("a\u00e9\u20ac\U0001F600", length)).Substring(0, length);
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
        Assert.Equal(expected, TokenDigest.HashOf(token));
    }
}
