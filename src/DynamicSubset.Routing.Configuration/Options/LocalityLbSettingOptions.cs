namespace DynamicSubset.Routing.Configuration;

/// <summary>The DestinationRule's <c>trafficPolicy.loadBalancer.localityLbSetting</c>.</summary>
public sealed class LocalityLbSettingOptions
{
    /// <summary>Gets or sets <c>enabled</c>; <see langword="null"/> is enabled, as in the mesh.</summary>
    public bool? Enabled { get; set; }

    /// <summary>Gets <c>distribute</c>: each caller locality's shares per endpoint locality.</summary>
    public IList<LocalityDistributeOptions> Distribute { get; } = [];

    /// <summary>Gets <c>failover</c>: the region each region's callers fail over to first.</summary>
    public IList<LocalityFailoverOptions> Failover { get; } = [];

    /// <summary>Gets <c>failoverPriority</c>: labels, in order, that rank endpoints by how many of them they share with the caller.</summary>
    public IList<string> FailoverPriority { get; } = [];

    /// <summary>Converts to the core setting; <paramref name="path"/> names the field in errors.</summary>
    internal LocalityLoadBalancing ToLocality(string path)
    {
        var distribute = new List<LocalityDistribution>();
        for (var i = 0; i < Distribute.Count; i++)
        {
            var item = $"{path}.distribute[{i}]";
            var entry = Distribute[i] ?? throw new RoutingValidationException(item, "must not be null");
            if (string.IsNullOrWhiteSpace(entry.From))
            {
                throw new RoutingValidationException(item + ".from", "is required");
            }

            if (entry.To.Values.Any(static w => w is < 0 or > 100) || entry.To.Values.Sum() != 100)
            {
                throw new RoutingValidationException(item + ".to", $"the weights add up to {entry.To.Values.Sum()}; each is 0 to 100 and they must add up to 100");
            }

            distribute.Add(new LocalityDistribution(entry.From, [.. entry.To]));
        }

        var failover = new List<LocalityFailover>();
        for (var i = 0; i < Failover.Count; i++)
        {
            var item = $"{path}.failover[{i}]";
            var entry = Failover[i] ?? throw new RoutingValidationException(item, "must not be null");
            if (string.IsNullOrWhiteSpace(entry.From) || string.IsNullOrWhiteSpace(entry.To))
            {
                throw new RoutingValidationException(item + (string.IsNullOrWhiteSpace(entry.From) ? ".from" : ".to"), "is required");
            }

            if (entry.From == entry.To)
            {
                throw new RoutingValidationException(item + ".to", $"a region cannot fail over to itself ('{entry.From}')");
            }

            failover.Add(new LocalityFailover(entry.From, entry.To));
        }

        if (distribute.Count > 0 && failover.Count > 0)
        {
            throw new RoutingValidationException(path + ".failover", "distribute and failover cannot both be set");
        }

        return new LocalityLoadBalancing { Enabled = Enabled ?? true, Distribute = [.. distribute], Failover = [.. failover], FailoverPriority = [.. FailoverPriority] };
    }
}
