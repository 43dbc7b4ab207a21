using System.Security.Cryptography;

namespace ConnectorEvents.Core;

/// <summary>Access and client tokens in the contract's shape: the owner's id in hex, a dash, 128 random bits in hex.</summary>
internal static class Tokens
{
    public static string For(Guid ownerId) =>
        ownerId.ToString("N").ToUpperInvariant() + "-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
}
