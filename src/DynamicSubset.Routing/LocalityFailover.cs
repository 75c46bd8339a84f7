namespace DynamicSubset.Routing;

/// <summary>One <c>localityLbSetting.failover</c> entry: callers in region <see cref="From"/> fail over to region <see cref="To"/> first.</summary>
/// <param name="From">The callers' region.</param>
/// <param name="To">The region their requests go to when their own region cannot take them, before any other.</param>
public sealed record LocalityFailover(string From, string To);
