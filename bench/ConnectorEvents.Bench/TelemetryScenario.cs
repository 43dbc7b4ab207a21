using ConnectorEvents.Testing;

namespace ConnectorEvents.Bench;

/// <summary>Scenarios 2 and 3 with telemetry off and on, alternated within one run.</summary>
/// <param name="OtlpRequests">Requests the OTLP exporters made to the collector sink while telemetry was on.</param>
public sealed record TelemetryCostResult(
    IReadOnlyList<DrainResult> DrainOff, IReadOnlyList<DrainResult> DrainOn,
    IReadOnlyList<SustainedResult> SustainedOff, IReadOnlyList<SustainedResult> SustainedOn, long OtlpRequests)
{
    /// <summary>Drain rate with telemetry on ÷ off (medians of the pairs).</summary>
    public double DrainRatio => Median(DrainOn.Select(d => d.Rate)) / Median(DrainOff.Select(d => d.Rate));

    public double SustainedRatio => Median(SustainedOn.Select(s => s.Rate)) / Median(SustainedOff.Select(s => s.Rate));

    public double DrainCpuRatio => Median(DrainOn.Select(d => d.CpuMicrosecondsEach)) / Median(DrainOff.Select(d => d.CpuMicrosecondsEach));

    public double SustainedCpuRatio => Median(SustainedOn.Select(s => s.CpuMicrosecondsEach)) / Median(SustainedOff.Select(s => s.CpuMicrosecondsEach));

    private static double Median(IEnumerable<double> values) => Report.Median(values.Select(v => (double?)v)) ?? double.NaN;

    public override string ToString() =>
        $"drain on/off {DrainRatio:P1} (CPU {DrainCpuRatio:P1}), sustained on/off {SustainedRatio:P1} (CPU {SustainedCpuRatio:P1}), {OtlpRequests:N0} OTLP exports";
}

public sealed partial class Scenarios
{
    /// <summary>The share of traces sampled with telemetry on (scenario 11).</summary>
    public const string SampledShare = "0.01";

    // ---- 11. The cost of telemetry --------------------------------------------------------------------------------

    /// <summary>
    /// "Off": no Prometheus endpoint, no OTLP. "On": the Prometheus endpoint scraped every second, metrics exported over
    /// OTLP/HTTP to a second sink, and traces (requests, commits, attempts) sampled as production would sample them, 1 % of
    /// traces (<c>OTEL_TRACES_SAMPLER=parentbased_traceidratio</c>, <c>OTEL_TRACES_SAMPLER_ARG=0.01</c>), exported there too.
    /// Drain and sustained
    /// run <see cref="BenchSettings.TelemetryPairs"/> times each way, off and on alternating (starting with off, then with
    /// on), so load that drifts during the run falls on both sides.
    /// </summary>
    public async Task<TelemetryCostResult> TelemetryCostAsync()
    {
        await using var collector = await WebhookSink.StartAsync().ConfigureAwait(false);
        collector.Record = false;
        var off = new Dictionary<string, string?> { ["Metrics:Prometheus"] = "false" };
        var on = new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseUri.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio",
            ["OTEL_TRACES_SAMPLER_ARG"] = SampledShare,
            ["Metrics:AllowAnonymous"] = "true",
        };
        List<DrainResult> drainOff = [], drainOn = [];
        List<SustainedResult> sustainedOff = [], sustainedOn = [];
        for (var pair = 0; pair < settings.TelemetryPairs; pair++)
        {
            foreach (var telemetryOn in pair % 2 == 0 ? new[] { false, true } : [true, false])
            {
                Progress($"  pair {pair + 1}: telemetry {(telemetryOn ? "on" : "off")}");
                ServerSet.ExtraSettings = telemetryOn ? on : off;
                using var scraping = telemetryOn ? ScrapeEverySecond() : null;
                try
                {
                    (telemetryOn ? drainOn : drainOff).Add(await DrainAsync().ConfigureAwait(false));
                    (telemetryOn ? sustainedOn : sustainedOff).Add(await SustainedAsync().ConfigureAwait(false));
                }
                finally
                {
                    ServerSet.ExtraSettings = null;
                }
            }
        }
        return new TelemetryCostResult(drainOff, drainOn, sustainedOff, sustainedOn, collector.Count);
    }

    /// <summary>Scrapes <c>/metrics</c> of whichever bench server is up, once a second, as Prometheus would (more often).</summary>
    private static CancellationTokenSource ScrapeEverySecond()
    {
        var stop = new CancellationTokenSource();
        _ = Task.Run(async () =>
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            while (!stop.IsCancellationRequested)
            {
                if (ServerSet.Current?.Primary.BaseUri is { } server)
                {
                    try
                    {
                        using var response = await http.GetAsync(new Uri(server, "/metrics"), stop.Token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or ObjectDisposedException)
                    {
                    }
                }
                try
                {
                    await Task.Delay(1000, stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
        return stop;
    }
}
