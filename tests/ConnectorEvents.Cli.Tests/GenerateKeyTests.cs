using ConnectorEvents.Core.Delivery;
using Xunit;

namespace ConnectorEvents.Cli.Tests;

public sealed class GenerateKeyTests
{
    private static Dictionary<string, string> Lines(CliResult result) =>
        result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', 2))
            .ToDictionary(parts => parts[0], parts => parts[1]);

    [Fact]
    public async Task Generate_key_prints_a_fresh_ed25519_pair_whose_public_key_is_the_secret_keys()
    {
        var first = await CliRun.RunAsync("generate-key");
        var second = await CliRun.RunAsync("generate-key");

        Assert.Equal(0, first.ExitCode);
        Assert.Equal("", first.Error);
        var pair = Lines(first);
        Assert.Equal(["secret-key", "public-key"], pair.Keys);
        Assert.StartsWith("whsk_", pair["secret-key"], StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(pair["secret-key"]["whsk_".Length..]).Length);
        Assert.Equal(WebhookSigner.PublicKeyOf(pair["secret-key"]), pair["public-key"]);
        Assert.NotEqual(pair["secret-key"], Lines(second)["secret-key"]);
    }

    [Fact]
    public async Task Generate_key_with_hmac_prints_one_whsec_secret()
    {
        var result = await CliRun.RunAsync("generate-key", "--hmac");

        Assert.Equal(0, result.ExitCode);
        var secret = Assert.Single(Lines(result));
        Assert.Equal("secret-key", secret.Key);
        Assert.StartsWith("whsec_", secret.Value, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(secret.Value["whsec_".Length..]).Length);
    }
}
