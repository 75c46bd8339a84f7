using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DynamicSubset.Routing.Grpc.Tests;

/// <summary>A self-signed certificate made in the test, written as PEM files (and as PKCS#12) for <c>--cert</c> and <c>--key</c>.</summary>
internal static class TestCertificate
{
    public static X509Certificate2 Create(string subject, IPAddress address)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(address);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>Writes the certificate and its key as PEM; each file replaced whole.</summary>
    public static void WritePem(X509Certificate2 certificate, string certPath, string keyPath)
    {
        using var key = certificate.GetECDsaPrivateKey()!;
        WriteByRename(keyPath, key.ExportPkcs8PrivateKeyPem());
        WriteByRename(certPath, certificate.ExportCertificatePem());
    }

    /// <summary>Replaces a file whole, as a secret mount or an editor does: the watcher never reads half of it.</summary>
    public static void WriteByRename(string path, string text)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }
}
