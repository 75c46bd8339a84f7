using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading.Channels;
using DynamicSubset.Routing.AspNetCore;
using DynamicSubset.Routing.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace DynamicSubset.Routing.Cli;

/// <summary>What <c>serve --access-log</c> writes, and where.</summary>
/// <param name="Path">The file, or <c>-</c> for standard output.</param>
/// <param name="Query">Whether <c>path</c> keeps the query.</param>
/// <param name="RoutingHeaders">Whether each line carries the values of the headers the configuration maps, so that it can be replayed.</param>
internal sealed record AccessLogSettings(string Path, bool Query, bool RoutingHeaders);

/// <summary>
/// <c>serve --access-log</c>: one JSON object per request, written by one background writer from a bounded queue, so
/// that a request never waits for the disk; when the queue is full a line is dropped and counted
/// (<c>dynamic_subset.access_log.dropped</c>). The file is reopened on SIGHUP and when it is moved or removed (log
/// rotation), and each line is also a batch-contract request line (<c>dynsubset diff --requests</c>).
/// </summary>
internal sealed class AccessLog : IAsyncDisposable
{
    public const int Capacity = 8192;
    private static readonly Meter Meter = new("DynamicSubset.Routing.Cli");
    private static readonly Counter<long> Dropped = Meter.CreateCounter<long>("dynamic_subset.access_log.dropped", "{line}", "Access log lines dropped because the writer's queue was full.");

    private readonly AccessLogSettings _settings;
    private readonly RoutingCatalogRegistry _catalogs;
    private readonly Channel<byte[]> _lines = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Task _writer;
    private readonly FileSystemWatcher? _watcher;
    private readonly PosixSignalRegistration? _hangUp;
    private int _reopen;
    private long _dropped;

    public AccessLog(AccessLogSettings settings, RoutingCatalogRegistry catalogs)
    {
        (_settings, _catalogs) = (settings, catalogs);
        Stream first;
        try
        {
            first = Open(); // now, so that a path that cannot be written is one line and exit 2, before anything listens
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliException($"--access-log: cannot open '{settings.Path}': {e.Message}");
        }

        if (settings.Path != "-")
        {
            var full = System.IO.Path.GetFullPath(settings.Path);
            _watcher = new FileSystemWatcher(System.IO.Path.GetDirectoryName(full)!, System.IO.Path.GetFileName(full)) { NotifyFilter = NotifyFilters.FileName };
            _watcher.Renamed += (_, _) => Interlocked.Exchange(ref _reopen, 1);
            _watcher.Deleted += (_, _) => Interlocked.Exchange(ref _reopen, 1);
            _watcher.EnableRaisingEvents = true;
            _hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                Interlocked.Exchange(ref _reopen, 1);
            });
        }

        _writer = Task.Run(() => WriteAsync(first));
    }

    /// <summary>Gets how many lines were dropped because the queue was full.</summary>
    public long DroppedLines => Interlocked.Read(ref _dropped);

    /// <summary>The middleware: times the request, counts the bytes of its response, and queues its line afterwards.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var started = Stopwatch.GetTimestamp();
        var counted = new CountingBody(context.Features.Get<IHttpResponseBodyFeature>()!);
        context.Features.Set<IHttpResponseBodyFeature>(counted);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Features.Set<IHttpResponseBodyFeature>(counted.Inner);
            if (!_lines.Writer.TryWrite(Line(context, Stopwatch.GetElapsedTime(started), counted.Bytes)))
            {
                Interlocked.Increment(ref _dropped);
                Dropped.Add(1);
            }
        }
    }

    private byte[] Line(HttpContext context, TimeSpan duration, long bytes)
    {
        var request = context.Request;
        var routing = context.Features.Get<IDynamicSubsetRoutingFeature>();
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(384);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("time", DateTimeOffset.UtcNow);
            w.WriteString("method", request.Method);
            w.WriteString("authority", request.Host.Value);
            w.WriteString("path", _settings.Query ? string.Concat(request.Path.Value, request.QueryString.Value) : request.Path.Value);
            w.WriteNumber("status", context.Response.StatusCode);
            w.WriteNumber("durationMs", Math.Round(duration.TotalMilliseconds, 3));
            w.WriteString("upstream", routing?.Endpoint?.Authority);
            var decision = routing?.Decision;
            w.WriteString("subset", decision is { IsNoRoute: false } d && d.Resolution.Subset is { } subset ? subset.ToString() : null);
            w.WriteString("route", decision?.RouteLabel);
            w.WriteString("outcome", decision is not { } made || made.IsNoRoute ? "no route" : made.Resolution.Outcome switch
            {
                ResolutionOutcome.Matched => "matched",
                ResolutionOutcome.Fallback => $"fallback {made.Resolution.FallbackPolicy!.Value.ToMeshName()}",
                _ => "no healthy upstream",
            });
            w.WriteNumber("attempts", routing?.Attempts ?? 0);
            w.WriteNumber("bytesSent", bytes);
            if (_settings.RoutingHeaders)
            {
                w.WriteStartObject("headers");
                foreach (var name in _catalogs.MappedHeaders)
                {
                    if (request.Headers.TryGetValue(name, out var values))
                    {
                        w.WriteString(name, values.ToString());
                    }
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private async Task WriteAsync(Stream output)
    {
        try
        {
            while (await _lines.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                if (Interlocked.Exchange(ref _reopen, 0) == 1)
                {
                    try
                    {
                        var next = Open();
                        await output.DisposeAsync().ConfigureAwait(false);
                        output = next;
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // Not there yet (a rotation halfway): the old file takes the lines, and the next batch tries again.
                        Interlocked.Exchange(ref _reopen, 1);
                    }
                }

                while (_lines.Reader.TryRead(out var line))
                {
                    await output.WriteAsync(line).ConfigureAwait(false);
                }

                await output.FlushAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            if (_settings.Path != "-")
            {
                await output.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private Stream Open() => _settings.Path == "-"
        ? Console.OpenStandardOutput()
        : new FileStream(_settings.Path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 64 * 1024 });

    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _watcher?.Dispose();
        _hangUp?.Dispose();
    }

    /// <summary>The response body, counting the bytes written through it.</summary>
    private sealed class CountingBody(IHttpResponseBodyFeature inner) : Stream, IHttpResponseBodyFeature
    {
        private System.IO.Pipelines.PipeWriter? _writer;

        public IHttpResponseBodyFeature Inner => inner;

        public long Bytes { get; private set; }

        public Stream Stream => this;

        public System.IO.Pipelines.PipeWriter Writer => _writer ??= System.IO.Pipelines.PipeWriter.Create(this, new System.IO.Pipelines.StreamPipeWriterOptions(leaveOpen: true));

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void DisableBuffering() => inner.DisableBuffering();

        public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

        public async Task CompleteAsync()
        {
            if (_writer is not null)
            {
                await _writer.FlushAsync().ConfigureAwait(false);
            }

            await inner.CompleteAsync().ConfigureAwait(false);
        }

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
            inner.SendFileAsync(path, offset, count, cancellationToken);

        public override void Flush() => inner.Stream.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.Stream.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            Bytes += count;
            inner.Stream.Write(buffer, offset, count);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Bytes += buffer.Length;
            return inner.Stream.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
