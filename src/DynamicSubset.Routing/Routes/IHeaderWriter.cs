namespace DynamicSubset.Routing;

/// <summary>Where <see cref="HeaderOperations.ApplyTo{TWriter}"/> writes: an outgoing request's headers, a response's.</summary>
public interface IHeaderWriter
{
    /// <summary>Removes every value of a header.</summary>
    /// <param name="name">The header's name.</param>
    void Remove(string name);

    /// <summary>Sets a header to one value, replacing any it had.</summary>
    /// <param name="name">The header's name.</param>
    /// <param name="value">The value.</param>
    void Replace(string name, string value);

    /// <summary>Appends a value to a header.</summary>
    /// <param name="name">The header's name.</param>
    /// <param name="value">The value.</param>
    void Add(string name, string value);
}
