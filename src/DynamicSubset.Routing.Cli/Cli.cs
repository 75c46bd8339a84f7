using System.CommandLine;
using DynamicSubset.Routing.Configuration;

namespace DynamicSubset.Routing.Cli;

/// <summary>The <c>dynsubset</c> command line: parsing, dispatch, and the exit-code contract.</summary>
internal static class Cli
{
    private static Uri ParseHttpUri(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp && uri.IsDefaultPort is false &&
            uri.AbsolutePath == "/" && (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 || uri.IsLoopback))
        {
            return uri;
        }

        // A host name other than localhost would make Kestrel listen on every interface: only addresses are taken.
        result.AddError($"'{text}' is not an address like http://127.0.0.1:8080 (an IP address or localhost, and a port)");
        return null!;
    }

    /// <summary><c>--listen</c>, repeated: <c>http://</c>, <c>h2c://</c> or <c>https://</c>, an address and a port.</summary>
    private static Uri[] ParseListeners(System.CommandLine.Parsing.ArgumentResult result)
    {
        var listeners = new List<Uri>();
        foreach (var token in result.Tokens)
        {
            var text = token.Value;
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && Array.IndexOf(Listeners.Schemes, uri.Scheme) >= 0 && !uri.IsDefaultPort &&
                uri.AbsolutePath == "/" && (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 || uri.IsLoopback))
            {
                listeners.Add(uri);
            }
            else if (uri is not null && uri.IsAbsoluteUri && Array.IndexOf(Listeners.Schemes, uri.Scheme) < 0)
            {
                result.AddError($"'{text}': unknown scheme '{uri.Scheme}' (expected http://, h2c:// or https://)");
            }
            else
            {
                result.AddError($"'{text}' is not an address like http://127.0.0.1:8080, h2c://127.0.0.1:8081 or https://127.0.0.1:8443 (an IP address or localhost, and a port)");
            }
        }

        return [.. listeners];
    }

    /// <summary><c>--locality us-west/zone1</c>: region, region/zone or region/zone/subzone.</summary>
    private static Locality? ParseLocality(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Locality.TryParse(text, out var locality))
        {
            return locality;
        }

        result.AddError($"--locality: '{text}' is not a locality; expected region, region/zone or region/zone/subzone");
        return null;
    }

    /// <summary><c>--source-labels app=gateway,zone=a</c>, repeatable: label keys and values as Kubernetes takes them.</summary>
    private static Dictionary<string, string> ParseLabels(System.CommandLine.Parsing.ArgumentResult result)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in result.Tokens.SelectMany(static t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                result.AddError($"'{pair}' is not a label like app=gateway");
                continue;
            }

            labels[pair[..eq]] = pair[(eq + 1)..];
        }

        return labels;
    }

    private static TimeSpan ParseDuration(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (MeshDurations.TryParse(text, out var duration) && duration >= TimeSpan.FromMilliseconds(1))
        {
            return duration;
        }

        result.AddError($"'{text}' is not a duration like 15s, 500ms or 1m");
        return default;
    }

    private static System.Net.IPNetwork[] ParseNetworks(System.CommandLine.Parsing.ArgumentResult result)
    {
        var networks = new List<System.Net.IPNetwork>();
        foreach (var token in result.Tokens)
        {
            if (System.Net.IPNetwork.TryParse(token.Value, out var network))
            {
                networks.Add(network);
            }
            else
            {
                result.AddError($"'{token.Value}' is not a network like 10.0.0.0/8 or 127.0.0.1/32");
            }
        }

        return [.. networks];
    }

    public static async Task<int> RunAsync(string[] args, CliOutput output, CancellationToken cancellationToken)
    {
        var files = new Option<string[]>("--file", "-f")
        {
            Description = "A mesh YAML or JSON file (DestinationRule, VirtualService, Service, Pods, ServiceEntry...). Repeat for several.",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var format = new Option<string>("--output", "-o") { Description = "Output format: text or json.", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var host = new Option<string?>("--host") { Description = "The service, when the files hold several (short names work: helloworld, helloworld.default)." };

        // The cluster instead of files, for subsets and serve.
        var kubernetes = new Option<bool>("--kubernetes") { Description = "Read the cluster through its API server (kubeconfig or the pod's service account) instead of files." };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "With --kubernetes: the kubeconfig file (default: KUBECONFIG, then ~/.kube/config)." };
        var context = new Option<string?>("--context") { Description = "With --kubernetes: the kubeconfig context (default: its current one)." };
        var namespaces = new Option<string[]>("--namespace") { Description = "With --kubernetes: a namespace to watch; repeat for several (default: all).", Arity = ArgumentArity.ZeroOrMore };
        var optionalFiles = new Option<string[]>("--file", "-f")
        {
            Description = "A mesh YAML or JSON file (DestinationRule, VirtualService, Service, Pods, ServiceEntry...). Repeat for several. Or --kubernetes.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        ClusterSettings? Cluster(ParseResult p) => p.GetValue(kubernetes)
            ? new ClusterSettings(p.GetValue(kubeconfig), p.GetValue(context), p.GetValue(namespaces) ?? [])
            : null;
        void RequireOneSource(Command command, Option<string[]> files, string filesName)
        {
            command.Validators.Add(r =>
            {
                var fromFiles = r.GetValue(files) is { Length: > 0 };
                var fromCluster = r.GetValue(kubernetes);
                if (fromFiles == fromCluster)
                {
                    r.AddError(fromFiles ? $"{filesName} and --kubernetes cannot be used together" : $"Option '{filesName}' is required (or --kubernetes).");
                }
                else if (!fromCluster && (r.GetValue(kubeconfig) is not null || r.GetValue(context) is not null || r.GetValue(namespaces) is { Length: > 0 }))
                {
                    r.AddError("--kubeconfig, --context and --namespace go with --kubernetes");
                }
            });
        }

        var subsets = new Command("subsets", "Print the subsets each DestinationRule forms from the endpoints, like the reference page's table.")
        {
            optionalFiles, kubernetes, kubeconfig, context, namespaces, format, host,
        };
        RequireOneSource(subsets, optionalFiles, "--file");
        subsets.SetAction(async (p, ct) =>
        {
            var json = p.GetRequiredValue(format) == "json";
            if (Cluster(p) is not { } cluster)
            {
                return Commands.Subsets(output, p.GetRequiredValue(optionalFiles), p.GetValue(host), json);
            }

            using var catalog = await cluster.ConnectAsync(output, ct);
            var services = catalog.Current.Services.Where(s => p.GetValue(host) is not { } h || catalog.Current.TryFindByName(h, out var found) && found == s);
            return Commands.Subsets(output, [.. services.Select(static s => (s.Name, s.Resolver.Current))], json);
        });

        var headers = new Option<string[]>("--header", "-H") { Description = "A request header, as 'name: value'. Repeat for several.", Arity = ArgumentArity.ZeroOrMore };
        var count = new Option<int>("--count", "-n") { Description = "Resolve the request this many times, to show the load balancing.", DefaultValueFactory = _ => 1 };
        var requests = new Option<string?>("--requests")
        {
            Description = "A JSON-lines file, one {\"headers\": {...}} per line (optionally with method, path, authority, scheme, port, sourceIp), resolved in order (the batch contract).",
        };
        var method = new Option<string>("--method", "-X") { Description = "The request's method, for VirtualService matches.", DefaultValueFactory = _ => "GET" };
        var path = new Option<string>("--path") { Description = "The request's path with its query, for VirtualService matches: /api/items?id=3.", DefaultValueFactory = _ => "/" };
        var resolve = new Command("resolve", "Route a request (VirtualService matches, weights, subsets, hashing) to an endpoint, and explain the decision.")
        {
            files, headers, method, path, count, requests, host, format,
        };
        resolve.SetAction(p => Commands.Resolve(
            output, p.GetRequiredValue(files), p.GetValue(headers) ?? [], p.GetValue(count), p.GetValue(requests), p.GetValue(host), p.GetRequiredValue(format) == "json",
            p.GetRequiredValue(method), p.GetRequiredValue(path)));

        var beforeFiles = new Option<string[]>("--before") { Description = "The configuration as it is: YAML or JSON files. Or --kubernetes: the live cluster.", Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true };
        var afterFiles = new Option<string[]>("--after") { Description = "The configuration with the edit: YAML or JSON files; with --kubernetes, the objects to apply over the live ones (same kind, namespace and name replace).", Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true, Required = true };
        var replayed = new Option<string?>("--requests")
        {
            Description = "A JSON-lines file of recorded requests (the batch contract's lines; a line may name its \"service\"), routed under both sides.",
        };
        var diff = new Command("diff", "Predict an edit: what changes in each service's subsets and policy, and which recorded requests go somewhere else. Exit 0 if nothing changes, 1 if something does, 2 on invalid input.")
        {
            beforeFiles, afterFiles, replayed, host, format, kubernetes, kubeconfig, context, namespaces,
        };
        RequireOneSource(diff, beforeFiles, "--before");
        diff.SetAction(async (p, ct) =>
        {
            var (after, requestsFile, onlyHost, json) = (p.GetRequiredValue(afterFiles), p.GetValue(replayed), p.GetValue(host), p.GetRequiredValue(format) == "json");
            if (Cluster(p) is not { } cluster)
            {
                return DiffCommand.Run(output, p.GetRequiredValue(beforeFiles), after, requestsFile, onlyHost, json);
            }

            using var catalog = await cluster.ConnectAsync(output, ct);
            return DiffCommand.RunAgainst(output, ((Kubernetes.KubernetesRoutingCatalog)catalog).CopyDocuments(), after, requestsFile, onlyHost, json);
        });

        var validate = new Command("validate", "Check files; print every error and warning with file:line:column. Exit 0 if valid (warnings allowed), 2 on errors.") { files };
        validate.SetAction(p => Commands.Validate(output, p.GetRequiredValue(files)));

        var keep = new Option<bool>("--keep") { Description = "Leave the workloads running afterwards, to try them by hand; stop with Ctrl+C." };
        var demoPort = new Option<int>("--port")
        {
            Description = "The workloads' port; 0 picks a free one.",
            DefaultValueFactory = _ => Demo.DefaultPort,
        };
        demoPort.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 65535)
            {
                r.AddError("--port must be from 0 to 65535");
            }
        });
        var demo = new Command("demo", "Run the reference page's walkthrough here: six helloworld workloads on 127.0.0.11-16:5678, real HTTP through the HttpClient adapter.") { keep, demoPort };
        demo.SetAction((p, ct) => Demo.RunAsync(output, p.GetValue(keep), p.GetValue(demoPort), ct));

        var listen = new Option<Uri[]>("--listen")
        {
            Description = "Where the gateway listens (repeat for several): http://127.0.0.1:8080 (HTTP/1.1), h2c://127.0.0.1:8081 (HTTP/2 without TLS, for gRPC), https://0.0.0.0:8443 (TLS; HTTP/2 and HTTP/1.1 by ALPN; needs --cert).",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
            CustomParser = ParseListeners,
        };
        var sourceLabels = new Option<Dictionary<string, string>>("--source-labels")
        {
            Description = "The gateway's own workload labels, as key=value (repeat, or comma-separate), which VirtualService match[].sourceLabels compare.",
            Arity = ArgumentArity.ZeroOrMore,
            CustomParser = ParseLabels,
        };
        var locality = new Option<Locality?>("--locality")
        {
            Description = "The gateway's own locality, region[/zone[/subzone]], for DestinationRule localityLbSetting (failover and distribute).",
            CustomParser = ParseLocality,
        };
        var cert = new Option<string?>("--cert") { Description = "The https:// listeners' certificate: a PEM file with --key, or a PKCS#12 file alone. Read again when it changes." };
        var key = new Option<string?>("--key") { Description = "The PEM private key of --cert." };
        var admin = new Option<Uri?>("--admin") { Description = "Where the debug view listens (GET /debug/dynamic-subsets), for example http://127.0.0.1:9901.", CustomParser = ParseHttpUri };
        var perTry = new Option<TimeSpan>("--per-try-timeout")
        {
            Description = "How long one try may wait for a backend before it is retried on another endpoint of the subset (idempotent requests) or answered 504.",
            DefaultValueFactory = _ => ServeSettings.Default.PerTryTimeout,
            CustomParser = ParseDuration,
        };
        var timeout = new Option<TimeSpan>("--timeout")
        {
            Description = "How long a request may take in all, retries included.",
            DefaultValueFactory = _ => ServeSettings.Default.Timeout,
            CustomParser = ParseDuration,
        };
        var drainTime = new Option<TimeSpan>("--drain-time")
        {
            Description = "After SIGTERM or Ctrl+C, how long the listeners keep serving (with /readyz answering 503) before they stop accepting; a second signal stops at once.",
            DefaultValueFactory = _ => ServeSettings.Default.DrainTime,
            CustomParser = ParseDuration,
        };
        var logFormat = new Option<string>("--log-format") { Description = "How log and status lines are written: text, or json (one object per line on stdout and stderr, as the JSON console formatter writes).", DefaultValueFactory = _ => "text" };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var accessLog = new Option<string?>("--access-log") { Description = "Write one JSON object per request to this file (reopened on SIGHUP or when moved), or to standard output with -. Off by default." };
        var accessLogQuery = new Option<bool>("--access-log-query") { Description = "With --access-log: keep the query in each line's path." };
        var accessLogHeaders = new Option<bool>("--access-log-routing-headers") { Description = "With --access-log: add the values of the headers the configuration maps, so that lines can be replayed (dynsubset diff --requests)." };
        var maxConnections = new Option<int?>("--max-connections")
        {
            Description = "The most client connections at once; at it a new one first reclaims the oldest idle connection, and is refused only when every connection has a request in flight. Default: half the descriptor limit.",
        };
        var maxPerSource = new Option<int?>("--max-connections-per-source")
        {
            Description = "The most connections one client address may hold at once; past it a new one is closed. Default: no such limit.",
        };
        maxPerSource.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1)
            {
                r.AddError("--max-connections-per-source must be 1 or more");
            }
        });
        maxConnections.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1)
            {
                r.AddError("--max-connections must be 1 or more");
            }
        });
        var trusted = new Option<System.Net.IPNetwork[]>("--trusted-network")
        {
            Description = "A network whose callers may set routing headers (repeat for several). Given at all, routing headers from elsewhere are ignored and removed.",
            Arity = ArgumentArity.ZeroOrMore,
            CustomParser = ParseNetworks,
        };
        var serve = new Command("serve", "Run a gateway that forwards each request to the endpoint its headers choose; the Host header picks the service. Follows the files, or the cluster, live.")
        {
            optionalFiles, kubernetes, kubeconfig, context, namespaces, listen, cert, key, sourceLabels, locality, admin, perTry, timeout, drainTime, logFormat, accessLog, accessLogQuery, accessLogHeaders, maxConnections, maxPerSource, trusted,
        };
        RequireOneSource(serve, optionalFiles, "--file");
        serve.Validators.Add(r =>
        {
            if (r.GetValue(accessLog) is null && (r.GetValue(accessLogQuery) || r.GetValue(accessLogHeaders)))
            {
                r.AddError("--access-log-query and --access-log-routing-headers go with --access-log");
            }

            if (r.GetValue(key) is not null && r.GetValue(cert) is null)
            {
                r.AddError("--key goes with --cert");
            }
        });
        serve.SetAction((p, ct) =>
        {
            var settings = new ServeSettings(p.GetValue(perTry), p.GetValue(timeout), p.GetValue(maxConnections), p.GetValue(trusted) ?? []) {
                DrainTime = p.GetValue(drainTime),
                MaxConnectionsPerSource = p.GetValue(maxPerSource),
                AccessLog = p.GetValue(accessLog) is { } log ? new AccessLogSettings(log, p.GetValue(accessLogQuery), p.GetValue(accessLogHeaders)) : null,
                MoreListeners = p.GetRequiredValue(listen)[1..],
                Certificate = p.GetValue(cert) is { } certificate ? new CertificateFiles(certificate, p.GetValue(key)) : null,
                SourceLabels = p.GetValue(sourceLabels) ?? [],
                Locality = p.GetValue(locality),
            };
            return Cluster(p) is { } cluster
                ? Serve.RunAsync(output, _ => Task.FromResult(cluster.Create(output)), p.GetRequiredValue(listen)[0], p.GetValue(admin), settings, ct, firstSync: ClusterSettings.WaitForSyncAsync)
                : Serve.RunAsync(output, p.GetRequiredValue(optionalFiles), p.GetRequiredValue(listen)[0], p.GetValue(admin), settings, ct);
        });

        var root = new RootCommand(
            "dynsubset: dynamic subset routing from your service mesh YAML.\n" +
            "Exit codes: 0 success; 1 a demo step was not as expected, diff found a change, or an unexpected failure; 2 invalid input.")
        {
            subsets, resolve, diff, validate, demo, serve,
        };

        if (JsonLogsAsked(args))
        {
            output = output.WithJsonLogs(); // every line a JSON object, errors included (the actions see this output too)
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                output.Complain(error.Message);
            }

            if (!output.JsonLogs)
            {
                await output.Error.WriteLineAsync("Run 'dynsubset --help' for usage.");
            }

            return ExitCodes.InvalidInput;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = output.Out, Error = output.Error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, cancellationToken);
        }
        catch (CliException e)
        {
            output.Complain(e.Message);
            return ExitCodes.InvalidInput;
        }
        catch (MeshConfigurationException e)
        {
            foreach (var d in e.Diagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error))
            {
                if (output.JsonLogs)
                {
                    output.Complain(d.ToString());
                }
                else
                {
                    await output.Error.WriteLineAsync(Commands.Describe(d, output));
                }
            }

            return ExitCodes.InvalidInput;
        }
    }

    /// <summary>Whether the command line asks for JSON logs: read before parsing, so that a usage error is JSON too.</summary>
    private static bool JsonLogsAsked(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--log-format=json" || (args[i] == "--log-format" && i + 1 < args.Length && args[i + 1] == "json"))
            {
                return true;
            }
        }

        return false;
    }
}
