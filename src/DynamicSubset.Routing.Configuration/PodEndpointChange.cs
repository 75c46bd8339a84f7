namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// What one pod's change does to one compiled service: the endpoints its previous version gave the service and those its
/// new version gives (<see cref="MeshDocumentSet.SetPod(string, PodFacts?, MeshConfiguration, ICollection{PodEndpointChange})"/>).
/// </summary>
/// <param name="Service">The service's <see cref="MeshService.Host"/> (its pool name).</param>
/// <param name="Pod">The pod's name, which its endpoints carry as <see cref="Endpoint.Name"/>.</param>
/// <param name="Before">The endpoints the pod gave the service before the change.</param>
/// <param name="After">The endpoints it gives after.</param>
public sealed record PodEndpointChange(string Service, string Pod, IReadOnlyList<Endpoint> Before, IReadOnlyList<Endpoint> After)
{
    /// <summary>
    /// Gets a value indicating whether another object has, or had, an endpoint at one of this pod's addresses for the
    /// service (another pod with the same IP, or a ServiceEntry of the same host): which one the service keeps is the
    /// compiler's to decide, so the change is not applied alone.
    /// </summary>
    public bool SharesAnAddress { get; init; }

    /// <summary>
    /// Turns pod changes (of distinct pods) into each service's endpoint changes against its configured snapshot, or says
    /// they cannot be applied alone: a pod takes an address another endpoint holds, a pod's previous endpoint was not the
    /// one kept at its address, a service is unknown, or one would pass the endpoint limit. Then compile instead, as the
    /// compiler decides which of two endpoints at one address is kept, and reports the limit.
    /// </summary>
    /// <param name="changes">The changes, at most one per (service, pod).</param>
    /// <param name="configured">A service's configured snapshot (before outlier ejections), or <see langword="null"/> when it has none.</param>
    /// <param name="maxEndpointsPerService">The most endpoints one service may have (<see cref="MeshConfigurationLimits.MaxEndpointsPerService"/>).</param>
    /// <param name="plan">The endpoint changes per service.</param>
    /// <returns><see langword="true"/> if every change applies alone.</returns>
    public static bool TryPlan(
        IEnumerable<PodEndpointChange> changes, Func<string, SubsetIndex?> configured, int maxEndpointsPerService,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IReadOnlyDictionary<string, List<EndpointChange>>? plan)
    {
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(configured);
        plan = null;
        var result = new Dictionary<string, List<EndpointChange>>(StringComparer.Ordinal);
        foreach (var group in changes.GroupBy(static c => c.Service, StringComparer.Ordinal))
        {
            if (configured(group.Key) is not { } index || group.Any(static c => c.SharesAnAddress))
            {
                return false;
            }

            var list = new List<EndpointChange>();
            var count = index.EndpointCount;
            var taken = new HashSet<EndpointAddress>();
            foreach (var change in group)
            {
                var after = new HashSet<EndpointAddress>();
                foreach (var endpoint in change.After)
                {
                    if (!after.Add(endpoint.AddressKey) || !taken.Add(endpoint.AddressKey) ||
                        (index.TryGetEndpoint(endpoint.AddressKey, out var holder) && holder.Name != change.Pod))
                    {
                        return false; // two endpoints for one address: the compiler decides which is kept
                    }
                }

                foreach (var endpoint in change.Before)
                {
                    if (!index.TryGetEndpoint(endpoint.AddressKey, out var held) || held.Name != change.Pod)
                    {
                        return false; // the compiler had kept another endpoint there, or none
                    }

                    if (!after.Contains(endpoint.AddressKey))
                    {
                        list.Add(EndpointChange.Remove(endpoint.AddressKey));
                        count--;
                    }
                }

                foreach (var endpoint in change.After)
                {
                    count += index.TryGetEndpoint(endpoint.AddressKey, out _) ? 0 : 1;
                    list.Add(EndpointChange.Upsert(endpoint));
                }
            }

            if (count > maxEndpointsPerService)
            {
                return false; // the compiler reports the limit
            }

            result[group.Key] = list;
        }

        plan = result;
        return true;
    }
}
