namespace DynamicSubset.Routing.Configuration;

/// <summary>Istio host names: a name without dots is short for <c>name.namespace.svc.cluster.local</c>.</summary>
public static class HostNames
{
    /// <summary>The cluster's DNS suffix.</summary>
    public const string ClusterSuffix = "svc.cluster.local";

    /// <summary>Expands a short host name as Istio does; a name with a dot is taken as written.</summary>
    /// <param name="host">The host as written, for example <c>helloworld</c>.</param>
    /// <param name="namespace">The namespace of the document that names it.</param>
    /// <returns>The fully qualified name, for example <c>helloworld.default.svc.cluster.local</c>.</returns>
    public static string ToFqdn(string host, string @namespace)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(@namespace);
        host = host.Trim().TrimEnd('.').ToLowerInvariant();
        return host.Contains('.', StringComparison.Ordinal) ? host : $"{host}.{@namespace}.{ClusterSuffix}";
    }

    /// <summary>
    /// Whether a request's host (a Host header without its port) names the service <paramref name="fqdn"/>,
    /// as a pod's DNS search path resolves it: <c>helloworld</c>, <c>helloworld.default</c>,
    /// <c>helloworld.default.svc</c> and the full name all name <c>helloworld.default.svc.cluster.local</c>.
    /// </summary>
    /// <param name="requestHost">The host the request names.</param>
    /// <param name="fqdn">The service's fully qualified name.</param>
    /// <returns><see langword="true"/> if they name the same service.</returns>
    public static bool Matches(string requestHost, string fqdn)
    {
        ArgumentNullException.ThrowIfNull(requestHost);
        ArgumentNullException.ThrowIfNull(fqdn);
        var host = requestHost.Trim().TrimEnd('.');
        if (string.Equals(host, fqdn, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        const string suffix = "." + ClusterSuffix;
        if (!fqdn.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var parts = fqdn[..^suffix.Length].Split('.'); // name.namespace
        return parts.Length == 2 &&
            (string.Equals(host, parts[0], StringComparison.OrdinalIgnoreCase) ||
             string.Equals(host, $"{parts[0]}.{parts[1]}", StringComparison.OrdinalIgnoreCase) ||
             string.Equals(host, $"{parts[0]}.{parts[1]}.svc", StringComparison.OrdinalIgnoreCase));
    }
}
