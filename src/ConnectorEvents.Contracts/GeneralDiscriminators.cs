namespace ConnectorEvents.Contracts;

/// <summary>The <c>Discriminator</c> values of General message events, as the contract spells them.</summary>
public static class GeneralDiscriminators
{
    public const string ServiceOrderUpdated = "ServiceOrderUpdated";
    public const string ResourceUpdated = "ResourceUpdated";
    public const string MessageAdded = "MessageAdded";
    public const string ResourceBlockUpdated = "ResourceBlockUpdated";
    public const string CustomerAdded = "CustomerAdded";
    public const string CustomerUpdated = "CustomerUpdated";
    public const string PaymentUpdated = "PaymentUpdated";

    /// <summary>In the order of the supported-events table of events-wh-general.md.</summary>
    public static IReadOnlyList<string> All { get; } =
        [ServiceOrderUpdated, ResourceUpdated, MessageAdded, ResourceBlockUpdated, CustomerAdded, CustomerUpdated, PaymentUpdated];

    /// <summary>Whether any contract version documents this discriminator (exact spelling, as sent).</summary>
    public static bool IsKnown(string discriminator) => All.Contains(discriminator, StringComparer.Ordinal);
}
