using Microsoft.Extensions.Options;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// Checks what the shape check cannot: the routing rules themselves (keys, built-ins, KEYS_SUBSET, enum values,
/// addresses), by building the policy and endpoints. Failures name the configuration section and the field.
/// </summary>
/// <param name="optionsName">The options name this validator checks; <see langword="null"/> for all.</param>
/// <param name="sectionPath">The configuration section's path, for messages.</param>
public sealed class DynamicSubsetRoutingOptionsRulesValidator(string? optionsName, string sectionPath) : IValidateOptions<DynamicSubsetRoutingOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, DynamicSubsetRoutingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (optionsName is not null && optionsName != name)
        {
            return ValidateOptionsResult.Skip;
        }

        try
        {
            foreach (var pool in options.ToPlan().Pools)
            {
                SubsetIndex.Build(pool.Endpoints, pool.Policy);
            }

            return ValidateOptionsResult.Success;
        }
        catch (RoutingValidationException e)
        {
            return ValidateOptionsResult.Fail($"{sectionPath}: {e.Message}");
        }
    }
}
