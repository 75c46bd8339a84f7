using DynamicSubset.Routing.Configuration;
using k8s.Models;

namespace DynamicSubset.Routing.Kubernetes.Tests;

/// <summary>What the catalog keeps of a typed pod: the routing fields, with repeated label strings held once.</summary>
public class PodFactsTests
{
    private static V1Pod Pod(string name, string ip, string version, bool ready) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = new string("shop".AsSpan()),
            Labels = new Dictionary<string, string> { [new string("app".AsSpan())] = new string("cart".AsSpan()), [new string("version".AsSpan())] = version },
        },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Ports = [new V1ContainerPort { Name = "http", ContainerPort = 8080 }] }] },
        Status = new V1PodStatus
        {
            PodIP = ip,
            PodIPs = [new V1PodIP { Ip = ip }, new V1PodIP { Ip = "fd00::" + name.Length }],
            Conditions = [new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False" }],
        },
    };

    [Fact]
    public void Facts_KeepWhatRoutingReads()
    {
        var facts = Assert.IsType<PodFacts>(Pods.Facts(Pod("cart-1", "10.0.0.1", "v1", ready: false)));

        Assert.Equal("cart-1", facts.Name);
        Assert.Equal("shop", facts.Namespace);
        Assert.Equal(["10.0.0.1", "fd00::6"], facts.Ips);
        Assert.False(facts.Ready);
        Assert.Equal([new ContainerPort("http", 8080)], facts.ContainerPorts);
        Assert.Equal("v1", facts.Labels["version"]);
    }

    [Fact]
    public void Facts_OfTwoPods_ShareTheirRepeatedLabelKeysValuesAndNamespace()
    {
        var a = Assert.IsType<PodFacts>(Pods.Facts(Pod("cart-1", "10.0.0.1", new string("v2".AsSpan()), ready: true)));
        var b = Assert.IsType<PodFacts>(Pods.Facts(Pod("cart-2", "10.0.0.2", new string("v2".AsSpan()), ready: true)));

        Assert.Same(a.Namespace, b.Namespace);
        Assert.Same(a.Labels["app"], b.Labels["app"]);
        Assert.Same(a.Labels["version"], b.Labels["version"]);
        Assert.Same(a.Labels.Keys.First(static k => k == "app"), b.Labels.Keys.First(static k => k == "app"));
    }
}
