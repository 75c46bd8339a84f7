using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace DynamicSubset.Routing;

/// <summary>
/// One workload instance behind a service: an IP address and port, labels, a health state and a weight.
/// </summary>
/// <remarks>
/// Endpoints are immutable values. Two endpoints are equal when every property is equal; an endpoint is
/// identified within a service by its address and port (<see cref="AddressKey"/>).
/// </remarks>
public sealed class Endpoint : IEquatable<Endpoint>
{
    /// <summary>The largest weight: Istio and Envoy carry weights as uint32.</summary>
    public const long MaxWeight = uint.MaxValue;

    private readonly LabelSet _labels;

    /// <summary>Initializes a new instance of the <see cref="Endpoint"/> class.</summary>
    /// <param name="address">The IP address.</param>
    /// <param name="port">The port, from 1 to 65535.</param>
    /// <param name="labels">The endpoint's labels; <see langword="null"/> for none.</param>
    /// <param name="isHealthy">Whether the endpoint may receive requests.</param>
    /// <param name="weight">The load-balancing weight, from 1 to 4294967295 (Istio's and Envoy's uint32 range).</param>
    /// <param name="name">An optional display name, such as the pod name.</param>
    /// <exception cref="RoutingValidationException">An argument is invalid.</exception>
    public Endpoint(
        IPAddress address,
        int port,
        IEnumerable<KeyValuePair<string, string>>? labels = null,
        bool isHealthy = true,
        long weight = 1,
        string? name = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new RoutingValidationException("address", $"'{address}' is not an IPv4 or IPv6 address", nameof(address));
        }

        if (port is < 1 or > 65535)
        {
            throw new RoutingValidationException("port", $"{port.ToString(CultureInfo.InvariantCulture)} is not a port (expected 1 to 65535)", nameof(port));
        }

        if (weight is < 1 or > MaxWeight)
        {
            throw new RoutingValidationException("weight", $"{weight.ToString(CultureInfo.InvariantCulture)} is not a weight (expected 1 to {MaxWeight.ToString(CultureInfo.InvariantCulture)})", nameof(weight));
        }

        Address = address;
        Port = port;
        _labels = LabelSet.Create(labels, nameof(labels));
        IsHealthy = isHealthy;
        Weight = weight;
        Name = string.IsNullOrEmpty(name) ? null : name;
        AddressText = address.ToString();
        AddressKey = new EndpointAddress(address, port);
        Authority = address.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{AddressText}]:{port.ToString(CultureInfo.InvariantCulture)}"
            : $"{AddressText}:{port.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>Creates an endpoint from an address in text form.</summary>
    /// <param name="address">The IP address, in canonical text form (IPv4 dotted quad, or IPv6).</param>
    /// <param name="port">The port, from 1 to 65535.</param>
    /// <param name="labels">The endpoint's labels; <see langword="null"/> for none.</param>
    /// <param name="isHealthy">Whether the endpoint may receive requests.</param>
    /// <param name="weight">The load-balancing weight, from 1 to 4294967295 (Istio's and Envoy's uint32 range).</param>
    /// <param name="name">An optional display name, such as the pod name.</param>
    /// <returns>The endpoint.</returns>
    /// <exception cref="RoutingValidationException">An argument is invalid; for example, the address is not an IP address.</exception>
    public static Endpoint Create(
        string address,
        int port,
        IEnumerable<KeyValuePair<string, string>>? labels = null,
        bool isHealthy = true,
        long weight = 1,
        string? name = null) =>
        new(ParseAddress(address), port, labels, isHealthy, weight, name);

    /// <summary>Gets the IP address.</summary>
    public IPAddress Address { get; }

    /// <summary>Gets the port.</summary>
    public int Port { get; }

    /// <summary>Gets the IP address in canonical text form: the value of the <c>%ip%</c> built-in.</summary>
    public string AddressText { get; }

    /// <summary>Gets the address and port as an URI authority: <c>10.0.0.1:80</c> or <c>[fd00::1]:80</c>.</summary>
    public string Authority { get; }

    /// <summary>Gets the identity of this endpoint within a service: its address and port.</summary>
    public EndpointAddress AddressKey { get; }

    /// <summary>Gets the labels, compared ordinally and case-sensitively.</summary>
    public IReadOnlyDictionary<string, string> Labels => _labels;

    /// <summary>Gets a value indicating whether the endpoint is healthy; only healthy endpoints are routable.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool IsHealthy { get; }

    /// <summary>Gets the load-balancing weight.</summary>
    /// <value>Defaults to 1; at most <see cref="MaxWeight"/>.</value>
    public long Weight { get; }

    /// <summary>Gets the display name, such as the pod name, or <see langword="null"/>.</summary>
    public string? Name { get; }

    internal LabelSet LabelSet => _labels;

    /// <summary>Returns a copy with other labels.</summary>
    /// <param name="labels">The new labels.</param>
    /// <returns>The new endpoint.</returns>
    public Endpoint WithLabels(IEnumerable<KeyValuePair<string, string>>? labels) =>
        new(Address, Port, labels, IsHealthy, Weight, Name);

    /// <summary>Returns a copy with another health state.</summary>
    /// <param name="isHealthy">The new health state.</param>
    /// <returns>The new endpoint, or this one if nothing changes.</returns>
    public Endpoint WithHealth(bool isHealthy) =>
        isHealthy == IsHealthy ? this : new(Address, Port, _labels, isHealthy, Weight, Name);

    /// <summary>Gets the value of <paramref name="key"/> for this endpoint: a label, or a built-in such as <c>%ip%</c>.</summary>
    /// <param name="key">A label key or a built-in key.</param>
    /// <param name="value">The value, when found.</param>
    /// <returns><see langword="true"/> if the endpoint has a value for the key.</returns>
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (string.Equals(key, BuiltInKeys.IP, StringComparison.Ordinal))
        {
            value = AddressText;
            return true;
        }

        return _labels.TryGetValue(key, out value);
    }

    /// <inheritdoc />
    public bool Equals(Endpoint? other) =>
        ReferenceEquals(this, other) ||
        (other is not null &&
         AddressKey.Equals(other.AddressKey) &&
         IsHealthy == other.IsHealthy &&
         Weight == other.Weight &&
         string.Equals(Name, other.Name, StringComparison.Ordinal) &&
         _labels.Equals(other._labels));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Endpoint);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(AddressKey, IsHealthy, Weight, _labels);

    /// <summary>Returns the address and port, as <see cref="Authority"/>.</summary>
    /// <returns>The authority.</returns>
    public override string ToString() => Authority;

    private static IPAddress ParseAddress(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!IPAddress.TryParse(address, out var ip) ||
            ip.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) ||
            (ip.AddressFamily == AddressFamily.InterNetwork && !string.Equals(ip.ToString(), address, StringComparison.Ordinal)))
        {
            // IPAddress.TryParse accepts "10.1" and "010.0.0.1"; pod IPs are always canonical, so anything else is a typo.
            throw new RoutingValidationException("address", $"'{address}' is not an IP address", nameof(address));
        }

        return ip;
    }
}
