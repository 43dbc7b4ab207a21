using System.CommandLine;
using ConnectorEvents.Core.Delivery;
using Spectre.Console;

namespace ConnectorEvents.Cli;

/// <summary>
/// <c>generate-key [--hmac]</c>: prints a new signing key, one <c>name value</c> pair a line so scripts can pick a line:
/// an Ed25519 pair (<c>secret-key whsk_…</c>, <c>public-key whpk_…</c>) or an HMAC <c>secret-key whsec_…</c>.
/// </summary>
internal static class GenerateKeyCommand
{
    public static Command Create(Func<CliConsoles> consoles)
    {
        var hmac = new Option<bool>("--hmac") { Description = "An HMAC secret (whsec_, v1 signatures) instead of an Ed25519 pair." };
        var command = new Command("generate-key",
            "Print a new signing key: an Ed25519 pair (whsk_ signs v1a and stays with the sender; whpk_ verifies, for receivers "
            + "and 'listen --public-key'), or with --hmac an HMAC secret (whsec_, v1).")
        {
            hmac,
        };
        command.SetAction(parse =>
        {
            var output = consoles().Out;
            if (parse.GetValue(hmac))
            {
                output.WriteLine("secret-key " + WebhookSigner.NewSecret());
                return ExitCodes.Ok;
            }
            var pair = WebhookSigner.NewEd25519Secret();
            output.WriteLine("secret-key " + pair.SecretKey);
            output.WriteLine("public-key " + pair.PublicKey);
            return ExitCodes.Ok;
        });
        return command;
    }
}
