using Microsoft.Extensions.Logging;

namespace DynamicSubset.Routing.Http;

public sealed partial class RoutingPipeline
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 20, EventName = "NoHealthyUpstream", Level = LogLevel.Warning,
            Message = "No healthy upstream for {Service}: {Resolution}. ({Suppressed} more like it in the last second)")]
        public static partial void NoHealthyUpstream(ILogger logger, string service, string resolution, long suppressed);

        [LoggerMessage(EventId = 21, EventName = "Retry", Level = LogLevel.Information,
            Message = "Retrying a request to {Service} on {Next} after {Reason} at {Endpoint}: {Detail} ({Suppressed} more like it in the last second)")]
        public static partial void Retrying(ILogger logger, string service, string endpoint, string next, string reason, string detail, long suppressed);

        [LoggerMessage(EventId = 23, EventName = "UpstreamFailed", Level = LogLevel.Warning,
            Message = "A request to {Endpoint} of {Service} failed: {Error}. ({Suppressed} more like it in the last second)")]
        public static partial void Failed(ILogger logger, string service, string endpoint, string error, long suppressed);

        [LoggerMessage(EventId = 25, EventName = "EndpointEjected", Level = LogLevel.Warning,
            Message = "Ejected {Endpoint} of {Service} after consecutive failures (the last: {Last}); it returns at {Until:o}.")]
        public static partial void Ejected(ILogger logger, string service, string endpoint, string last, DateTimeOffset until);

        [LoggerMessage(EventId = 26, EventName = "NoMatchingRoute", Level = LogLevel.Information,
            Message = "No VirtualService route of {Service} matches {Method} {Path}. ({Suppressed} more like it in the last second)")]
        public static partial void NoMatchingRoute(ILogger logger, string service, string method, string path, long suppressed);

        [LoggerMessage(EventId = 24, EventName = "NoRoute", Level = LogLevel.Information,
            Message = "No routed service for host '{Host}'. ({Suppressed} more like it in the last second)")]
        public static partial void NoRoute(ILogger logger, string host, long suppressed);
    }
}
