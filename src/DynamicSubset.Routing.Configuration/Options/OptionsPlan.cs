namespace DynamicSubset.Routing.Configuration;

/// <summary>What the options compile to: pools first (the whole service first), then routes.</summary>
internal sealed record OptionsPlan(List<OptionsPool> Pools, List<OptionsRoute> Routes, UpstreamProtocol Protocol = UpstreamProtocol.ClientProtocol);
