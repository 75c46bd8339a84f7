using System.Diagnostics;
using System.Net;
using System.Text;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace DynamicSubset.Routing.Cli.Tests;

/// <summary>
/// The admin page in a real headless Chromium (Debian's chromium and chromium-driver, through Selenium), against
/// <c>dynsubset serve</c> in front of the walkthrough's six workloads on 127.0.9.11-16.
/// </summary>
public sealed class AdminPageTests : IAsyncLifetime
{
    private static readonly (string Ip, string Stage, string Version)[] Pods =
    [
        ("127.0.9.11", "dev", "v1"), ("127.0.9.12", "dev", "v2"), ("127.0.9.13", "dev", "v3"),
        ("127.0.9.14", "prod", "v2"), ("127.0.9.15", "prod", "v3"), ("127.0.9.16", "prod", "v3"),
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("dsr-admin-").FullName;
    private readonly CancellationTokenSource _stop = new();
    private Backends _backends = null!;
    private Task<int> _serve = null!;
    private Uri _gateway = null!;
    private Uri _admin = null!;

    private string Entry => Path.Combine(_dir, "workloads.yaml");

    public async ValueTask InitializeAsync()
    {
        _backends = await Backends.StartAsync([.. Pods.Select(p => p.Ip)]);
        await File.WriteAllTextAsync(Entry, Workloads(devV1Version: "v1"), TestContext.Current.CancellationToken);
        var started = new TaskCompletionSource<(Uri, Uri?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _serve = Serve.RunAsync(
            new CliOutput(new StringWriter(), new StringWriter(), color: false),
            [Entry, Data("reference/dr-no-fallback.yaml"), Data("reference/vs-step2.yaml")],
            new Uri("http://127.0.9.1:0"),
            new Uri("http://127.0.9.2:0"),
            ServeSettings.Default,
            _stop.Token,
            (gateway, admin) => started.TrySetResult((gateway, admin)));
        var (g, a) = await started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        (_gateway, _admin) = (g, a!);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _serve.WaitAsync(TimeSpan.FromSeconds(30));
        _stop.Dispose();
        await _backends.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);

    private string Workloads(string devV1Version)
    {
        var b = new StringBuilder($$"""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: helloworld-workloads, namespace: default}
            spec:
              hosts: [helloworld.default.svc.cluster.local]
              resolution: STATIC
              ports: [{number: 8000, name: http, targetPort: {{_backends.Port}}}]
              endpoints:

            """);
        foreach (var (ip, stage, version) in Pods)
        {
            b.Append(System.Globalization.CultureInfo.InvariantCulture, $"    - {{address: {ip}, labels: {{app: helloworld, stage: {stage}, version: {(ip == "127.0.9.11" ? devV1Version : version)}}}}}\n");
        }

        return b.ToString();
    }

    [Fact]
    public async Task Page_ShowsTheSubsets_FollowsARelabel_AndExplainsANoHealthyUpstream()
    {
        // Some traffic, for the chart and the recent decisions: matches, and prod/v1 which NO_FALLBACK leaves without an endpoint.
        using (var client = new HttpClient())
        {
            foreach (var (stage, version) in new[] { ("dev", "v1"), ("prod", "v3"), ("prod", "v1"), ("prod", "v3"), ("dev", "v2"), ("prod", "v1") })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, _gateway);
                request.Headers.Add("x-stage", stage);
                request.Headers.Add("x-version", version);
                using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                Assert.Equal(version == "v1" && stage == "prod" ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK, response.StatusCode);
            }
        }

        using var browser = Browser.Start();
        var driver = browser.Driver;
        driver.Navigate().GoToUrl(new Uri(_admin, "/debug/dynamic-subsets/ui"));
        var wait = Wait(driver);

        // The walkthrough's five subsets, each with its pods.
        var titles = wait.Until(d => Texts(d, "[data-testid=subset] .title") is { Count: 5 } t ? t : null);
        Assert.Equal(
            ["stage=dev, version=v1", "stage=dev, version=v2", "stage=dev, version=v3", "stage=prod, version=v2", "stage=prod, version=v3"],
            titles!.Order(StringComparer.Ordinal));
        Assert.Contains(Texts(driver, "[data-testid=subset]"), t => t.StartsWith("stage=prod, version=v3", StringComparison.Ordinal) && t.Contains("127.0.9.15", StringComparison.Ordinal) && t.Contains("127.0.9.16", StringComparison.Ordinal));
        Assert.Contains("synced", Texts(driver, "[data-testid=catalogs]")[0], StringComparison.Ordinal);
        wait.Until(d => Texts(d, "[data-testid=decision-row]").Count(t => t.Contains("no healthy upstream", StringComparison.Ordinal)) >= 2);
        wait.Until(d => Texts(d, "[data-testid=service] .legend").FirstOrDefault()?.Contains("matched: 4", StringComparison.Ordinal) == true);

        // Relabel a workload in the file: the page shows its new subset, with no rule change.
        var relabelled = Stopwatch.StartNew();
        await File.WriteAllTextAsync(Entry, Workloads(devV1Version: "v9"), TestContext.Current.CancellationToken);
        wait.Until(d => Texts(d, "[data-testid=subset] .title").Contains("stage=dev, version=v9"));
        relabelled.Stop();
        TestContext.Current.TestOutputHelper?.WriteLine($"relabel shown after {relabelled.ElapsedMilliseconds} ms");

        // Explain: prod/v1 under NO_FALLBACK.
        driver.FindElement(By.CssSelector("[data-testid=explain-headers]")).SendKeys("x-stage: prod\nx-version: v1");
        driver.FindElement(By.CssSelector("[data-testid=explain-go]")).Click();
        var decision = wait.Until(d => Texts(d, "[data-testid=decision]").FirstOrDefault(t => t.Length > 0));
        Assert.Equal("no healthy upstream (selector fallback NO_FALLBACK found no endpoint)", decision);
        Assert.StartsWith("route\tmatched\twhy\ndefault\tyes\tno match conditions", Texts(driver, "[data-testid=explain-routes] table")[0], StringComparison.Ordinal);
        var criteria = Texts(driver, "[data-testid=explain-result] table")[1];
        Assert.Contains("x-stage\tstage\tprod\theader", criteria, StringComparison.Ordinal);
        Assert.Contains("x-version\tversion\tv1\theader", criteria, StringComparison.Ordinal);

        var shot = Path.Combine(Environment.GetEnvironmentVariable("DSR_SCREENSHOT_DIR") ?? AppContext.BaseDirectory, "dashboard.png");
        ((ITakesScreenshot)driver).GetScreenshot().SaveAsFile(shot);
        Assert.True(new FileInfo(shot).Length > 10_000);
    }

    [Fact]
    public async Task Page_WhatIf_PredictsAnEditOverTheRecentDecisions_AndAppliesNothing()
    {
        // Two requests that NO_FALLBACK leaves without an endpoint, and one match: the ring keeps the two.
        using var client = new HttpClient();
        foreach (var (stage, version) in new[] { ("prod", "v1"), ("dev", "v1"), ("test", "v2") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, _gateway);
            request.Headers.Add("x-stage", stage);
            request.Headers.Add("x-version", version);
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        }

        using var browser = Browser.Start();
        var driver = browser.Driver;
        driver.Navigate().GoToUrl(new Uri(_admin, "/debug/dynamic-subsets/ui"));
        var wait = Wait(driver);
        wait.Until(d => Texts(d, "[data-testid=decision-row]").Count >= 2);

        // A candidate with a mistake: a positioned error, and no report.
        var candidate = driver.FindElement(By.CssSelector("[data-testid=whatif-candidate]"));
        candidate.SendKeys("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: helloworld, namespace: default}\nspec: {host: [1]}\n");
        driver.FindElement(By.CssSelector("[data-testid=whatif-go]")).Click();
        var error = wait.Until(d => Texts(d, "[data-testid=whatif-error]").FirstOrDefault(t => t.Length > 0));
        Assert.StartsWith("candidate:4:", error, StringComparison.Ordinal);

        // The page's rule with ANY_ENDPOINT: both kept requests would now reach an endpoint.
        candidate.Clear();
        candidate.SendKeys(
            "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: helloworld, namespace: default}\n" +
            "spec:\n  host: helloworld.default.svc.cluster.local\n  trafficPolicy: {loadBalancer: {dynamicSubset: {subsetSelectors: [{keys: [stage, version], fallbackPolicy: ANY_ENDPOINT}]}}}\n");
        driver.FindElement(By.CssSelector("[data-testid=whatif-go]")).Click();
        var summary = wait.Until(d => Texts(d, "[data-testid=whatif-summary]").FirstOrDefault(t => t.Length > 0));
        Assert.Equal("2 of 2 recent decisions move", summary);
        Assert.StartsWith("from\tto\tcount\texample\nno healthy upstream\tfallback ANY_ENDPOINT\t2\t#", Texts(driver, "[data-testid=whatif-transitions]")[0], StringComparison.Ordinal);
        Assert.Contains(Texts(driver, "[data-testid=whatif-policy]"), t => t.EndsWith("fallback NO_FALLBACK -> [stage, version] fallback ANY_ENDPOINT", StringComparison.Ordinal));

        // Nothing was applied: the gateway still answers prod/v1 with no healthy upstream.
        using var again = new HttpRequestMessage(HttpMethod.Get, _gateway);
        again.Headers.Add("x-stage", "prod");
        again.Headers.Add("x-version", "v1");
        using var still = await client.SendAsync(again, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, still.StatusCode);
    }

    [Fact]
    public async Task Page_WithAThousandSubsets_ShowsAFilteredFewAndSaysHowManyMore()
    {
        // A thousand subsets: the %ip% selector over a thousand workload entries. The page draws at most 60 cards.
        var file = Path.Combine(_dir, "many.yaml");
        var b = new StringBuilder("""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: many, namespace: default}
            spec:
              host: many.default.svc.cluster.local
              trafficPolicy: {loadBalancer: {dynamicSubset: {subsetSelectors: [{keys: ["%ip%"]}]}}}
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: many, namespace: default}
            spec:
              hosts: [many.default.svc.cluster.local]
              resolution: STATIC
              ports: [{number: 80, name: http, targetPort: 80}]
              endpoints:

            """);
        for (var i = 0; i < 1000; i++)
        {
            b.Append(System.Globalization.CultureInfo.InvariantCulture, $"    - {{address: 10.1.{i / 250}.{i % 250 + 1}}}\n");
        }

        await File.WriteAllTextAsync(file, b.ToString(), TestContext.Current.CancellationToken);
        await _stop.CancelAsync();
        await _serve.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource<(Uri, Uri?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var serve = Serve.RunAsync(new CliOutput(new StringWriter(), new StringWriter(), color: false), [file], new Uri("http://127.0.9.3:0"), new Uri("http://127.0.9.4:0"),
            ServeSettings.Default, stop.Token, (g, a) => started.TrySetResult((g, a)));
        var (_, admin) = await started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        try
        {
            using var browser = Browser.Start();
            var driver = browser.Driver;
            driver.Navigate().GoToUrl(new Uri(admin!, "/debug/dynamic-subsets/ui"));
            var wait = Wait(driver);

            wait.Until(d => Texts(d, "[data-testid=subset]").Count == 60);
            Assert.Equal("940 more: type in the filter to narrow", wait.Until(d => Texts(d, "[data-testid=more]").FirstOrDefault()));

            driver.FindElement(By.CssSelector("[data-testid=filter]")).SendKeys("10.1.3.250");
            Assert.Equal(["%ip%=10.1.3.250"], wait.Until(d => Texts(d, "[data-testid=subset] .title") is { Count: 1 } t ? t : null));
        }
        finally
        {
            await stop.CancelAsync();
            await serve.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Waits up to 10 s; the page redraws every second, so an element read in between may be gone: read again.</summary>
    private static WebDriverWait Wait(IWebDriver driver)
    {
        var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(10));
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException), typeof(NoSuchElementException));
        return wait;
    }

    /// <summary>The texts of the elements a selector finds, read in one go in the page (no stale references).</summary>
    private static List<string> Texts(IWebDriver driver, string selector) =>
        [.. ((IReadOnlyCollection<object>)((IJavaScriptExecutor)driver).ExecuteScript(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText);", selector)!).Cast<string>()];

    /// <summary>Debian's Chromium, headless, driven by its ChromeDriver; no download of either.</summary>
    private sealed class Browser : IDisposable
    {
        private const string Install = "The admin page tests need Chromium and ChromeDriver: on Debian, 'apt-get install chromium chromium-driver' " +
            "(.ci/run does it); elsewhere set DSR_CHROMIUM and DSR_CHROMEDRIVER to the browser and the driver.";

        private readonly string _profile;

        private Browser(ChromeDriver driver, string profile)
        {
            Driver = driver;
            _profile = profile;
        }

        public ChromeDriver Driver { get; }

        public static Browser Start()
        {
            var chromium = Environment.GetEnvironmentVariable("DSR_CHROMIUM") ?? "/usr/bin/chromium";
            var chromedriver = Environment.GetEnvironmentVariable("DSR_CHROMEDRIVER") ?? "/usr/bin/chromedriver";
            Assert.True(File.Exists(chromium) && File.Exists(chromedriver), $"{Install} Looked for {chromium} and {chromedriver}.");
            var profile = Directory.CreateTempSubdirectory("dsr-chromium-").FullName;
            var options = new ChromeOptions { BinaryLocation = chromium };
            options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1000", $"--user-data-dir={profile}");
            var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(chromedriver)!, Path.GetFileName(chromedriver));
            service.SuppressInitialDiagnosticInformation = true;
            try
            {
                return new Browser(new ChromeDriver(service, options, TimeSpan.FromSeconds(60)), profile);
            }
            catch (WebDriverException e)
            {
                throw new InvalidOperationException($"Chromium did not start ({e.Message}). {Install}", e);
            }
        }

        public void Dispose()
        {
            Driver.Quit();
            Driver.Dispose();
            try
            {
                Directory.Delete(_profile, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
