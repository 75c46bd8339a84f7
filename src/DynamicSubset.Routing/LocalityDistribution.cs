using System.Collections.Immutable;

namespace DynamicSubset.Routing;

/// <summary>
/// One <c>localityLbSetting.distribute</c> entry: callers within <see cref="From"/> send each share of their requests to
/// the endpoints within a locality pattern of <see cref="To"/>.
/// </summary>
/// <param name="From">The callers' locality pattern, for example <c>us-west/zone1/*</c>.</param>
/// <param name="To">Locality patterns and their weights, which add up to 100; an endpoint takes the first pattern it is within.</param>
public sealed record LocalityDistribution(string From, ImmutableArray<KeyValuePair<string, int>> To);
