using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace ConnectorEvents.Cli.Tests;

/// <summary>What one in-process run of the tool printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    public string All => Output + Error;
}

internal static class CliRun
{
    /// <summary>Runs the real command tree in-process with captured output; fails the test if it takes over 60 s.</summary>
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var exitCode = await CliApp.RunAsync(args, output, error, timeout.Token).WaitAsync(TimeSpan.FromSeconds(70));
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>The same, reading environment variables from <paramref name="environment"/> only (never the machine's).</summary>
    public static async Task<CliResult> RunWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var exitCode = await CliApp.RunAsync(args, output, error, name => environment.GetValueOrDefault(name), timeout.Token)
            .WaitAsync(TimeSpan.FromSeconds(70));
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>A loopback port nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Standard Webhooks check written independently of the tool: any v1 entry equal to HMAC-SHA256(id.ts.body).</summary>
    public static bool SignatureMatches(string secret, string id, string timestamp, byte[] body, string signatureHeader)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signed = Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body).ToArray();
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
        return signatureHeader.Split(' ').Any(entry => entry == expected);
    }

    /// <summary>The same for Ed25519, on NSec directly: any v1a entry that verifies under the whpk_ public key.</summary>
    public static bool Ed25519SignatureMatches(string publicKey, string id, string timestamp, byte[] body, string signatureHeader)
    {
        var key = NSec.Cryptography.PublicKey.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519,
            Convert.FromBase64String(publicKey["whpk_".Length..]), NSec.Cryptography.KeyBlobFormat.RawPublicKey);
        var signed = Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body).ToArray();
        return signatureHeader.Split(' ').Where(entry => entry.StartsWith("v1a,", StringComparison.Ordinal))
            .Any(entry => NSec.Cryptography.SignatureAlgorithm.Ed25519.Verify(key, signed, Convert.FromBase64String(entry[4..])));
    }
}
