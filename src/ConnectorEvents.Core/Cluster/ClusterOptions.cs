using System.Security.Cryptography;
using ConnectorEvents.Core.Delivery;
using Microsoft.Extensions.Options;

namespace ConnectorEvents.Core.Cluster;

/// <summary>Configuration section <c>Cluster</c>: how server processes on one database share the delivery work.</summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>This process's name in the lease table; by default <see cref="NewNodeId"/>.</summary>
    public string? NodeId { get; set; }

    /// <summary>The host name, the process id and a random suffix: unique even for a restart that reuses a process id.</summary>
    public static string NewNodeId() =>
        $"{Environment.MachineName}-{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    /// <summary>
    /// How long a partition lease lasts without renewal. When a process dies, the others take its partitions over after
    /// at most this long (plus one renewal interval). By default 15 s, or longer where a long <c>Delivery:Timeout</c> needs it.
    /// </summary>
    public TimeSpan? LeaseDuration { get; set; }

    public TimeSpan EffectiveLeaseDuration(DeliveryOptions delivery)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var needed = RenewInterval + delivery.Timeout + PartitionLeases.ClockAllowance + TimeSpan.FromSeconds(5);
        return LeaseDuration ?? (needed > TimeSpan.FromSeconds(15) ? needed : TimeSpan.FromSeconds(15));
    }

    /// <summary>How often a process renews its leases, records that it is alive and rebalances partitions.</summary>
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// A process not seen for this long is gone for good (killed, its host replaced) and leaves <c>GET /api/v1/cluster</c>
    /// (default one hour). A process that stops gracefully leaves at the next renewal of another.
    /// </summary>
    public TimeSpan ForgetNodesAfter { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// A lease must outlast a renewal interval plus a whole delivery attempt, or a process could start a send it cannot
/// finish while it still holds the lease.
/// </summary>
public sealed class ClusterOptionsValidator(IOptions<DeliveryOptions> delivery) : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.RenewInterval < TimeSpan.FromMilliseconds(100))
        {
            errors.Add("Cluster:RenewInterval must be at least 100 ms.");
        }
        var minimum = options.RenewInterval + delivery.Value.Timeout + PartitionLeases.ClockAllowance;
        if (options.LeaseDuration is { } lease && lease <= minimum)
        {
            errors.Add($"Cluster:LeaseDuration must be longer than Cluster:RenewInterval + Delivery:Timeout + {PartitionLeases.ClockAllowance.TotalSeconds:0} s ({minimum.TotalSeconds:0.###} s).");
        }
        if (options.ForgetNodesAfter < TimeSpan.FromMinutes(1))
        {
            errors.Add("Cluster:ForgetNodesAfter must be at least 00:01:00 (a process is forgotten only when surely gone).");
        }
        if (options.NodeId is { } node && (node.Length is 0 or > 200 || node.Any(char.IsControl)))
        {
            errors.Add("Cluster:NodeId must be 1 to 200 printable characters.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
