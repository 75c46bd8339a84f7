using Microsoft.Extensions.Options;

namespace DynamicSubset.Routing.Configuration;

/// <summary>Checks the options' shape at start: required fields, ranges, list lengths. Source-generated.</summary>
[OptionsValidator]
public sealed partial class DynamicSubsetRoutingOptionsValidator : IValidateOptions<DynamicSubsetRoutingOptions>;
