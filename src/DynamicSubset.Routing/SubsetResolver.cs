using System.Net.Http.Headers;

namespace DynamicSubset.Routing;

/// <summary>
/// Holds a service's current <see cref="SubsetIndex"/> and resolves requests against it, without locks.
/// </summary>
/// <remarks>
/// <para>
/// Each resolution reads the current snapshot once and works on it alone, so it sees exactly one snapshot
/// even while updates are published. Updates build the next snapshot to the side and publish it with a
/// single reference write; writers are serialized among themselves, readers never wait.
/// </para>
/// <para>Resolving allocates nothing for the built-in header sources.</para>
/// </remarks>
public sealed class SubsetResolver
{
    private readonly Lock _writeLock = new();
    private readonly Random? _random;
    private SubsetIndex _current;

    /// <summary>Initializes a new instance of the <see cref="SubsetResolver"/> class.</summary>
    /// <param name="index">The first snapshot.</param>
    /// <param name="random">
    /// The random source for RANDOM and LEAST_REQUEST, for reproducible picks in tests; it must be safe to call
    /// from many threads. <see langword="null"/> (the default) for a fast per-thread generator.
    /// </param>
    public SubsetResolver(SubsetIndex index, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(index);
        _current = index;
        _random = random;
    }

    /// <summary>Raised after a new snapshot is published, on the publishing thread.</summary>
    public event EventHandler<SubsetIndexChangedEventArgs>? Changed;

    /// <summary>Gets the current snapshot.</summary>
    public SubsetIndex Current => Volatile.Read(ref _current);

    /// <summary>Resolves a request's headers to one endpoint.</summary>
    /// <typeparam name="THeaders">The header source; a struct, so that nothing is boxed.</typeparam>
    /// <param name="headers">The request's headers.</param>
    /// <returns>What was decided.</returns>
    public Resolution Resolve<THeaders>(THeaders headers)
        where THeaders : IHeaderSource, allows ref struct
    {
        // One snapshot reference per call: everything below sees that snapshot only.
        return Volatile.Read(ref _current).Resolve(headers, _random);
    }

    /// <summary>Resolves a request whose headers are in a dictionary.</summary>
    /// <param name="headers">The request's headers; names match case-insensitively.</param>
    /// <returns>What was decided.</returns>
    public Resolution Resolve(IReadOnlyDictionary<string, string> headers) => Resolve(new DictionaryHeaderSource(headers));

    /// <summary>Resolves an outgoing request's headers.</summary>
    /// <param name="headers">The request's headers.</param>
    /// <returns>What was decided.</returns>
    public Resolution Resolve(HttpRequestHeaders headers) => Resolve(new HttpRequestHeadersSource(headers));

    /// <summary>Publishes a snapshot built elsewhere.</summary>
    /// <param name="index">The new snapshot.</param>
    public void Publish(SubsetIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        Update(_ => index);
    }

    /// <summary>Replaces every endpoint, keeping the policy; publishes and returns the new snapshot.</summary>
    /// <param name="endpoints">The service's endpoints.</param>
    /// <returns>The published snapshot.</returns>
    /// <exception cref="RoutingValidationException">The endpoints are invalid; the current snapshot keeps serving.</exception>
    public SubsetIndex ReplaceEndpoints(IEnumerable<Endpoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return Update(current => current.Rebuild(endpoints));
    }

    /// <summary>Applies endpoint changes incrementally; publishes and returns the new snapshot.</summary>
    /// <param name="changes">The changes, in order.</param>
    /// <returns>The published snapshot (the current one when nothing changed).</returns>
    /// <exception cref="RoutingValidationException">A change is invalid; the current snapshot keeps serving.</exception>
    public SubsetIndex ApplyChanges(IEnumerable<EndpointChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return Update(current => current.Apply(changes));
    }

    /// <summary>Replaces the endpoints and the policy in one snapshot; publishes and returns it.</summary>
    /// <param name="endpoints">The service's endpoints.</param>
    /// <param name="policy">The new policy.</param>
    /// <returns>The published snapshot.</returns>
    /// <exception cref="RoutingValidationException">The endpoints are invalid; the current snapshot keeps serving.</exception>
    public SubsetIndex Replace(IEnumerable<Endpoint> endpoints, RoutingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(policy);
        return Update(current => current.Rebuild(endpoints, policy));
    }

    /// <summary>Replaces the routing policy, keeping the endpoints; publishes and returns the new snapshot.</summary>
    /// <param name="policy">The new policy.</param>
    /// <returns>The published snapshot.</returns>
    public SubsetIndex UpdatePolicy(RoutingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return Update(current => current.WithPolicy(policy));
    }

    private SubsetIndex Update(Func<SubsetIndex, SubsetIndex> next)
    {
        SubsetIndex previous, published;
        lock (_writeLock)
        {
            previous = _current;
            published = next(previous); // Throws before anything is published: the last good snapshot stays.
            if (ReferenceEquals(published, previous))
            {
                return previous;
            }

            // Publish by swap: readers that already hold the previous snapshot finish on it.
            Volatile.Write(ref _current, published);
        }

        // Then signal, outside the lock, so a handler may publish again without deadlock.
        Changed?.Invoke(this, new SubsetIndexChangedEventArgs(previous, published));
        return published;
    }
}

/// <summary>Describes a published snapshot change.</summary>
/// <param name="previous">The snapshot that was replaced.</param>
/// <param name="current">The snapshot that was published.</param>
public sealed class SubsetIndexChangedEventArgs(SubsetIndex previous, SubsetIndex current) : EventArgs
{
    /// <summary>Gets the snapshot that was replaced.</summary>
    public SubsetIndex Previous { get; } = previous;

    /// <summary>Gets the snapshot that was published.</summary>
    public SubsetIndex Current { get; } = current;
}
