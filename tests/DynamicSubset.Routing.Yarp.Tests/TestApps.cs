using DynamicSubset.Routing.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Yarp.Tests;

/// <summary>The apps the tests start on loopback (pods, shadows, proxies), and a check of the mesh YAML they route by.</summary>
internal static class TestApps
{
    /// <summary>A slim Kestrel app builder on one URL, with no log output.</summary>
    public static WebApplicationBuilder Builder(string url)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        return builder;
    }

    /// <summary>Asserts that a test's mesh YAML is valid and that no field of it is warned as ignored (DSR2001).</summary>
    public static void AssertNoIgnoredField(string yaml)
    {
        var config = MeshConfiguration.Parse([new ConfigurationText("mesh.yaml", yaml)]);
        Assert.False(config.HasErrors, string.Join("\n", config.Diagnostics));
        Assert.DoesNotContain(config.Diagnostics, d => d.Code == "DSR2001");
    }
}
