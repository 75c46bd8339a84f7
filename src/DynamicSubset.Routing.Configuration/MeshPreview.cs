namespace DynamicSubset.Routing.Configuration;

/// <summary>Builds a <see cref="RoutingCatalogPreview"/> from a configuration as it is and with an edit applied.</summary>
public static class MeshPreview
{
    /// <summary>The name a candidate's text carries in diagnostics: <c>candidate:LINE:COLUMN</c>.</summary>
    public const string CandidateName = "candidate";

    /// <summary>Builds both configurations into snapshots, each as <see cref="MeshConfiguration.CreateCatalog"/> builds one.</summary>
    /// <param name="before">The configuration as it is.</param>
    /// <param name="after">The configuration with the edit applied.</param>
    /// <param name="preview">Both snapshots.</param>
    /// <param name="error">The errors of either side, one per line with its position, when one does not compile.</param>
    /// <returns><see langword="true"/> if both compiled.</returns>
    public static bool TryCreate(MeshConfiguration before, MeshConfiguration after, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RoutingCatalogPreview? preview, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        preview = null;
        var errors = after.Diagnostics.Concat(before.Diagnostics).Where(static d => d.Severity == DiagnosticSeverity.Error).Distinct().ToList();
        if (errors.Count > 0)
        {
            error = string.Join("\n", errors.Take(20).Select(static d => d.ToString()));
            return false;
        }

        using var was = before.CreateCatalog();
        using var @is = after.CreateCatalog();
        (preview, error) = (new RoutingCatalogPreview(was.Current, @is.Current), null);
        return true;
    }
}
