using ConnectorEvents.Core.Security;

namespace ConnectorEvents.Testing;

/// <summary>The encryption key of every test server and store (Security:EncryptionKey).</summary>
public static class TestSecrets
{
    public const string EncryptionKey = "3m9Yc1n0bq6QjvZk8b5wC2pF7tL4xA1sR0eU9iO3yHg=";

    public static SecretProtector Protector() => new(Convert.FromBase64String(EncryptionKey));
}
