using Microsoft.Extensions.Options;

namespace DynamicSubset.Routing.Http;

/// <summary>Validates <see cref="DynamicSubsetHttpOptions"/> at start. Source-generated.</summary>
[OptionsValidator]
public sealed partial class DynamicSubsetHttpOptionsValidator : IValidateOptions<DynamicSubsetHttpOptions>;
