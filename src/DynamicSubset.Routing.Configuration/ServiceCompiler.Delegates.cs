using DynamicSubset.Routing.Configuration.Yaml;

namespace DynamicSubset.Routing.Configuration;

/// <summary>
/// Istio's VirtualService delegation: a root's route with <c>delegate</c> is replaced by the delegate's routes, each
/// with the root's match merged into its own (the delegate's conditions must fall within the root's; a pair that
/// conflicts is dropped) and the root's route fields where the delegate's route leaves them unset. One level only.
/// </summary>
internal sealed partial class ServiceCompiler
{
    private List<VirtualServiceDoc> ExpandDelegates()
    {
        // Delegates by name: two of one name and namespace (in two files, or one file twice) keep the first, as Istio
        // keeps one object per name; the other is warned, never a crash of the whole compile.
        var byName = new Dictionary<(string Name, string Namespace), VirtualServiceDoc>();
        foreach (var candidate in docs.VirtualServices.Where(static v => v.Hosts.Count == 0))
        {
            if (!byName.TryAdd((candidate.Info.Name, candidate.Info.Namespace), candidate))
            {
                Reader(candidate.Info).Warning(DiagnosticCodes.Duplicate, new ScalarNode(new(candidate.Info.Line, 1), "", quoted: false), "metadata.name",
                    $"another VirtualService {candidate.Info.Namespace}/{candidate.Info.Name} without hosts is already defined; only the first is used as a delegate");
            }
        }

        var used = new HashSet<(string, string)>();
        var result = new List<VirtualServiceDoc>();
        foreach (var vs in docs.VirtualServices.Where(static v => v.Hosts.Count > 0))
        {
            if (!vs.Http.Exists(static h => h.Delegate is not null))
            {
                result.Add(vs);
                continue;
            }

            var http = new List<HttpRouteDoc>();
            foreach (var route in vs.Http)
            {
                if (route.Delegate is not { } target)
                {
                    http.Add(route);
                    continue;
                }

                if (!byName.TryGetValue(target, out var delegateVs))
                {
                    Reader(vs.Info).Warning(DiagnosticCodes.DelegateNotFound, route.Node, route.Path + ".delegate",
                        $"no VirtualService {target.Namespace}/{target.Name} without hosts to delegate to; the route is skipped");
                    continue;
                }

                used.Add(target);
                foreach (var inner in delegateVs.Http)
                {
                    if (Merge(route.Matches, inner.Matches) is { } matches)
                    {
                        http.Add(inner with
                        {
                            Index = route.Index,
                            Name = inner.Name ?? $"{route.Label}.{inner.Label}",
                            Matches = matches,
                            Mappings = inner.Mappings.Count > 0 ? inner.Mappings : route.Mappings,
                            Retries = inner.Retries ?? route.Retries,
                            Timeout = inner.Timeout ?? route.Timeout,
                            Actions = inner.Actions with
                            {
                                Rewrite = inner.Actions.Rewrite ?? route.Actions.Rewrite,
                                Headers = inner.Actions.Headers ?? route.Actions.Headers,
                                Fault = inner.Actions.Fault ?? route.Actions.Fault,
                                Cors = inner.Actions.Cors ?? route.Actions.Cors,
                                Mirrors = inner.Actions.Mirrors.Count > 0 ? inner.Actions.Mirrors : route.Actions.Mirrors,
                            },
                        });
                    }
                }
            }

            result.Add(vs with { Http = http });
        }

        foreach (var unused in byName.Where(p => !used.Contains(p.Key)))
        {
            Reader(unused.Value.Info).Warning(DiagnosticCodes.UnusedDelegate, new ScalarNode(new(unused.Value.Info.Line, 1), "", quoted: false), "spec.hosts",
                $"VirtualService {unused.Key.Namespace}/{unused.Key.Name} has no hosts and no route delegates to it: it routes nothing");
        }

        return result;
    }

    /// <summary>Every root block with every delegate block, where they agree; <see langword="null"/> when no pair does.</summary>
    private static List<HttpRouteMatch>? Merge(List<HttpRouteMatch> root, List<HttpRouteMatch> inner)
    {
        if (root.Count == 0)
        {
            return inner;
        }

        if (inner.Count == 0)
        {
            return root;
        }

        var merged = new List<HttpRouteMatch>();
        foreach (var r in root)
        {
            foreach (var d in inner)
            {
                if (Merge(r, d) is { } block)
                {
                    merged.Add(block);
                }
            }
        }

        return merged.Count == 0 ? null : merged;
    }

    private static HttpRouteMatch? Merge(HttpRouteMatch root, HttpRouteMatch inner)
    {
        if (!Within(root.Uri, inner.Uri) || !Same(root.Method, inner.Method) || !Same(root.Scheme, inner.Scheme) ||
            !Same(root.Authority, inner.Authority) || (root.Port is { } p && inner.Port is { } q && p != q))
        {
            return null;
        }

        return new HttpRouteMatch
        {
            Name = inner.Name ?? root.Name,
            Uri = inner.Uri ?? root.Uri,
            IgnoreUriCase = inner.Uri is null ? root.IgnoreUriCase : inner.IgnoreUriCase,
            Method = inner.Method ?? root.Method,
            Scheme = inner.Scheme ?? root.Scheme,
            Authority = inner.Authority ?? root.Authority,
            Port = inner.Port ?? root.Port,
            Headers = [.. root.Headers, .. inner.Headers],
            QueryParams = [.. root.QueryParams, .. inner.QueryParams],
            WithoutHeaders = [.. root.WithoutHeaders, .. inner.WithoutHeaders],
            SourceLabels = [.. root.SourceLabels, .. inner.SourceLabels],
        };

        static bool Same(StringMatch? a, StringMatch? b) => a is null || b is null || (a.Kind == b.Kind && a.Value == b.Value);

        // The delegate's path condition must fall within the root's: under its prefix, or the same condition.
        static bool Within(StringMatch? outer, StringMatch? path) => outer is null || path is null || outer.Kind switch
        {
            StringMatchKind.Prefix => path.Kind is StringMatchKind.Prefix or StringMatchKind.Exact && path.Value.StartsWith(outer.Value, StringComparison.Ordinal),
            _ => path.Kind == outer.Kind && path.Value == outer.Value,
        };
    }
}
