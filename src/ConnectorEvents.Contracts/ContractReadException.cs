namespace ConnectorEvents.Contracts;

/// <summary>
/// A body that cannot be read as any version of the contract: not JSON, not an object, or a required part missing
/// or of the wrong type. The message says which part and why, so a receiver can log it and answer 400.
/// </summary>
public sealed class ContractReadException : Exception
{
    public ContractReadException()
    {
    }

    public ContractReadException(string message) : base(message)
    {
    }

    public ContractReadException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
