using Microsoft.Extensions.DependencyInjection;

namespace DynamicSubset.Routing.Http.Tests;

/// <summary>
/// The attempt loop through its public seam, <see cref="IAttemptTransport"/>, as an entry point of one's own uses it:
/// a transport that answers each try as told, and writes its own answer in <see cref="IAttemptTransport.CompleteAsync"/>.
/// </summary>
public sealed class AttemptLoopTests
{
    private static readonly RetryRules TwoRetries = RetryRules.For(null, defaultRetries: 2, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(45));

    private static (RoutingPipeline Pipeline, RouteDecision Decision, ServiceProvider Provider) Pool(int endpoints)
    {
        var index = SubsetIndex.Build(
            Enumerable.Range(1, endpoints).Select(static i => Endpoint.Create($"127.0.250.{i}", 8080)),
            new RoutingPolicy(new DynamicSubsetPolicy([new SubsetSelector("stage")], FallbackPolicy.AnyEndpoint), []));
        var service = new RoutedService("helloworld", new SubsetResolver(index));
        var provider = new ServiceCollection().AddDynamicSubsetRoutingPipeline().BuildServiceProvider();
        var pipeline = provider.GetRequiredService<RoutingPipeline>();
        var decision = pipeline.Decide(service, new RouteRequest("GET", "/"), new DictionaryHeaderSource(new Dictionary<string, string>()), null);
        return (pipeline, decision, provider);
    }

    [Fact]
    public async Task CompleteAsync_IsCalledOnce_WithTheOutcomeTheLoopReturns_AfterEveryTryFailed()
    {
        var (pipeline, decision, provider) = Pool(endpoints: 3);
        using var _ = provider;
        var transport = new ScriptedTransport(_ => AttemptResult.Failed(RetryReason.ConnectFailure, null, "refused"));

        var outcome = await pipeline.SendAsync(decision, TwoRetries, "GET", transport, TestContext.Current.CancellationToken);

        Assert.Equal(AttemptOutcomeKind.Failed, outcome.Kind);
        Assert.Equal(3, outcome.Attempts);
        Assert.Equal(3, transport.Tried.Distinct().Count()); // never the same endpoint twice
        var completed = Assert.Single(transport.Completed);
        Assert.Equal((outcome.Kind, outcome.Attempts, outcome.Endpoint), (completed.Kind, completed.Attempts, completed.Endpoint));
        Assert.Equal(2, transport.Discarded); // each retried try's leftovers dropped before the next
    }

    [Fact]
    public async Task CompleteAsync_IsCalledOnce_WhenARetriedTryResponds()
    {
        var (pipeline, decision, provider) = Pool(endpoints: 3);
        using var _ = provider;
        var transport = new ScriptedTransport(number => number == 0
            ? AttemptResult.Failed(RetryReason.ConnectFailure, null, "refused")
            : AttemptResult.Response(200));

        var outcome = await pipeline.SendAsync(decision, TwoRetries, "GET", transport, TestContext.Current.CancellationToken);

        Assert.Equal((AttemptOutcomeKind.Responded, 2), (outcome.Kind, outcome.Attempts));
        Assert.Equal(AttemptOutcomeKind.Responded, Assert.Single(transport.Completed).Kind);
    }

    [Fact]
    public async Task ATransportWithoutCompleteAsync_GetsTheOutcomeReturned_AndNothingElse()
    {
        // The interface's default: an entry point that builds its answer from the outcome (as the handler does).
        var (pipeline, decision, provider) = Pool(endpoints: 2);
        using var _ = provider;
        IAttemptTransport transport = new PlainTransport();

        var outcome = await pipeline.SendAsync(decision, TwoRetries, "GET", transport, TestContext.Current.CancellationToken);

        Assert.Equal(AttemptOutcomeKind.Responded, outcome.Kind);
        await transport.CompleteAsync(outcome); // completes at once, doing nothing
    }

    private sealed class ScriptedTransport(Func<int, AttemptResult> answer) : IAttemptTransport
    {
        public List<EndpointAddress> Tried { get; } = [];

        public List<AttemptOutcome> Completed { get; } = [];

        public int Discarded { get; private set; }

        public bool CanResend => true;

        public async ValueTask<AttemptResult> SendAsync(Attempt attempt, CancellationToken cancellationToken)
        {
            await Task.Yield(); // a try that completes later, as a real one does
            Tried.Add(attempt.Endpoint.AddressKey);
            return answer(attempt.Number);
        }

        public void Discard() => Discarded++;

        public async ValueTask CompleteAsync(AttemptOutcome outcome)
        {
            await Task.Yield();
            Completed.Add(outcome);
        }
    }

    private sealed class PlainTransport : IAttemptTransport
    {
        public bool CanResend => true;

        public ValueTask<AttemptResult> SendAsync(Attempt attempt, CancellationToken cancellationToken) => new(AttemptResult.Response(200));

        public void Discard()
        {
        }
    }
}
