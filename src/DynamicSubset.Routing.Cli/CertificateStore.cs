using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Cli;

/// <summary>The certificate files of the <c>https://</c> listeners: <c>--cert</c> (PEM, or PKCS#12 alone) and <c>--key</c> (PEM).</summary>
internal sealed record CertificateFiles(string Certificate, string? Key);

/// <summary>
/// The certificate the <c>https://</c> listeners present, read from its files and read again when they change (a renewed
/// certificate, a Kubernetes secret's swap): new handshakes get the new one, connections already open keep theirs. A
/// change that cannot be read is logged and the last good certificate keeps serving.
/// </summary>
internal sealed partial class CertificateStore : IDisposable
{
    private readonly CertificateFiles _files;
    private readonly ILogger _logger;
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly Timer _debounce;
    private X509Certificate2 _current;

    private CertificateStore(CertificateFiles files, X509Certificate2 first, ILogger logger)
    {
        _files = files;
        _current = first;
        _logger = logger;
        _debounce = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
        foreach (var directory in new[] { files.Certificate, files.Key }.OfType<string>().Select(f => Path.GetDirectoryName(Path.GetFullPath(f))!).Distinct(StringComparer.Ordinal))
        {
            // The directory, not the file: editors and secret mounts replace files by renaming over them.
            var watcher = new FileSystemWatcher(directory) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime | NotifyFilters.DirectoryName };
            watcher.Changed += OnChange;
            watcher.Created += OnChange;
            watcher.Renamed += OnChange;
            watcher.Deleted += OnChange;
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
        }
    }

    /// <summary>Raised after a changed certificate has been read and is presented to new connections.</summary>
    public event Action<X509Certificate2>? Reloaded;

    /// <summary>Gets the certificate new handshakes get.</summary>
    public X509Certificate2 Current => Volatile.Read(ref _current);

    /// <summary>Reads the files now; what cannot be read, or a key that does not match, is one line and exit 2.</summary>
    public static CertificateStore Open(CertificateFiles files, ILogger logger)
    {
        try
        {
            return new CertificateStore(files, Load(files), logger);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new CliException(Describe(files, e));
        }
    }

    public void Dispose()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }

        _debounce.Dispose();
    }

    /// <summary>
    /// A PEM certificate with its PEM key (a key that does not match is refused), or a PKCS#12 file alone. The key must
    /// come with it: a listener cannot present a certificate it holds no key for.
    /// </summary>
    internal static X509Certificate2 Load(CertificateFiles files)
    {
        X509Certificate2 certificate;
        if (files.Key is { } key)
        {
            certificate = X509Certificate2.CreateFromPemFile(files.Certificate, key);
        }
        else
        {
            var bytes = File.ReadAllBytes(files.Certificate);
            certificate = bytes.AsSpan().StartsWith("-----BEGIN"u8)
                ? throw new CryptographicException("a PEM certificate needs its key: give --key")
                : X509CertificateLoader.LoadPkcs12(bytes, password: null);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new CryptographicException("the certificate has no private key");
        }

        return certificate;
    }

    private static string Describe(CertificateFiles files, Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => $"cannot read the certificate: {e.Message}",
        UnauthorizedAccessException => $"cannot read the certificate: {e.Message}",
        CryptographicException or ArgumentException when files.Key is not null && e.Message.Contains("public key", StringComparison.OrdinalIgnoreCase)
            => $"--key '{files.Key}' does not match --cert '{files.Certificate}'",
        _ => $"cannot use --cert '{files.Certificate}'{(files.Key is null ? "" : $" with --key '{files.Key}'")}: {e.Message}",
    };

    private void OnChange(object sender, FileSystemEventArgs e) => _debounce.Change(TimeSpan.FromMilliseconds(200), Timeout.InfiniteTimeSpan);

    private void Reload()
    {
        X509Certificate2 next;
        try
        {
            next = Load(_files);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            // Half-written files (the certificate before its key) settle on the next event; until then the last good one serves.
            KeptCertificate(_logger, Describe(_files, e), _current.Subject, _current.NotAfter);
            return;
        }

        if (next.Thumbprint == _current.Thumbprint)
        {
            next.Dispose();
            return;
        }

        Volatile.Write(ref _current, next); // the old one is not disposed: handshakes in progress may still hold it
        ReloadedCertificate(_logger, next.Subject, next.NotAfter);
        Reloaded?.Invoke(next);
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Certificate reloaded: {Subject}, valid until {NotAfter:u}; new connections get it.")]
    private static partial void ReloadedCertificate(ILogger logger, string subject, DateTime notAfter);

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning, Message = "Certificate change not taken ({Reason}); {Subject}, valid until {NotAfter:u}, keeps serving.")]
    private static partial void KeptCertificate(ILogger logger, string reason, string subject, DateTime notAfter);
}
