using System.Security.Cryptography;
using ConnectorEvents.Core.Security;
using Microsoft.AspNetCore.DataProtection;

namespace ConnectorEvents.Server.OperatorConsole;

/// <summary>
/// The console's session cookies and antiforgery tokens, sealed (AES-GCM) under the master key (<c>Security:EncryptionKey</c>)
/// with the purpose as associated data: every process of a cluster shares that key, so a session opened on one process is
/// good on all, no key ring is written to disk, and rotating the master key (the old one kept in <c>DecryptionKeys</c>)
/// keeps sessions open. Only sealed input is opened: anything else is refused, never passed through.
/// </summary>
public sealed class MasterKeyDataProtection(SecretProtector secrets, string purpose) : IDataProtector
{
    public IDataProtector CreateProtector(string purpose) => new MasterKeyDataProtection(secrets, $"{Purpose}/{purpose}");

    private string Purpose { get; } = purpose;

    public byte[] Protect(byte[] plaintext) => secrets.Protect(plaintext, Purpose);

    public byte[] Unprotect(byte[] protectedData)
    {
        ArgumentNullException.ThrowIfNull(protectedData);
        if (!SecretProtector.IsProtected(protectedData))
        {
            throw new CryptographicException("The value was not sealed by this server.");
        }
        try
        {
            return secrets.Unprotect(protectedData, Purpose);
        }
        catch (SecretUnreadableException ex)
        {
            throw new CryptographicException("The value was not sealed by this server.", ex);
        }
    }
}
