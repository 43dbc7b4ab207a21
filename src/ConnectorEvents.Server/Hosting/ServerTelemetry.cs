using ConnectorEvents.Core.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ConnectorEvents.Server.Hosting;

/// <summary>Configuration section <c>Metrics</c>: the Prometheus scrape endpoint.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";
    public const string ScrapePath = "/metrics";

    /// <summary>Serve <c>/metrics</c> in the Prometheus text format (default on).</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>Serve <c>/metrics</c> without an API key (default off: a Reader or Admin key is needed).</summary>
    public bool AllowAnonymous { get; set; }
}

/// <summary>
/// OpenTelemetry for the server: the <see cref="ConnectorTelemetry"/> meter on <c>/metrics</c> (Prometheus) and, when an
/// OTLP endpoint is configured through the standard variables (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, or the per-signal
/// <c>OTEL_EXPORTER_OTLP_METRICS_ENDPOINT</c> and <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>; protocol, headers and
/// service name by the other <c>OTEL_*</c> variables), metrics and traces pushed there. Nothing is exported unless set.
/// </summary>
public static class ServerTelemetry
{
    private const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The meter .NET itself publishes its runtime metrics on (<c>dotnet.gc.collections</c>, …).</summary>
    private const string RuntimeMeter = "System.Runtime";

    public static void AddConnectorTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MetricsOptions>().Bind(configuration.GetSection(MetricsOptions.Section)).ValidateOnStart();
        services.AddSingleton<ConnectorTelemetry>();
        services.AddSingleton<BacklogMeter>();
        var prometheus = configuration.GetValue($"{MetricsOptions.Section}:{nameof(MetricsOptions.Prometheus)}", true);
        var otlpMetrics = IsSet(configuration, OtlpEndpoint) || IsSet(configuration, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
        var otlpTraces = IsSet(configuration, OtlpEndpoint) || IsSet(configuration, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        if (!prometheus && !otlpMetrics && !otlpTraces)
        {
            return;
        }
        var otel = services.AddOpenTelemetry().ConfigureResource(r => r.AddService("connector-events"));
        if (prometheus || otlpMetrics)
        {
            otel.WithMetrics(metrics =>
            {
                // And the runtime's own (collections by generation, pause time, allocation, working set, thread pool): what an
                // operator reads first when the server stalls or grows. Observed only when read, so they cost nothing between.
                metrics.AddMeter(ConnectorTelemetry.Name, RuntimeMeter);
                if (prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
                if (otlpMetrics)
                {
                    metrics.AddOtlpExporter();
                }
            });
        }
        if (otlpTraces)
        {
            otel.WithTracing(tracing => tracing
                .AddSource(ConnectorTelemetry.Name)
                .AddAspNetCoreInstrumentation(o => o.Filter = c => !c.Request.Path.StartsWithSegments("/healthz", StringComparison.OrdinalIgnoreCase))
                .AddOtlpExporter());
        }
    }

    /// <summary><c>/metrics</c>, when on; <see cref="Api.ApiKeyAuthentication"/> asks for a Reader or Admin key there.</summary>
    public static void MapConnectorMetrics(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Services.GetRequiredService<BacklogMeter>(); // registers the backlog gauges
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MetricsOptions>>().Value.Prometheus)
        {
            // GET (and HEAD) only, as Api/OpenApi/ServerDocument describes it.
            app.MapPrometheusScrapingEndpoint(MetricsOptions.ScrapePath).WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
        }
    }

    private static bool IsSet(IConfiguration configuration, string key) => !string.IsNullOrWhiteSpace(configuration[key]);
}
