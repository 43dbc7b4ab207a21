namespace ConnectorEvents.Core.Security;

/// <summary>A stored secret cannot be decrypted: its key is not configured, or the value was altered.</summary>
public sealed class SecretUnreadableException(string message) : Exception(message);
