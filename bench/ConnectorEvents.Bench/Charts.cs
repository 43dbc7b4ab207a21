using System.Globalization;
using ScottPlot;

namespace ConnectorEvents.Bench;

/// <summary>The report's PNG charts, drawn from the same medians as its tables.</summary>
public static class Charts
{
    private static readonly ScottPlot.Palettes.Category10 Palette = new();

    /// <summary>Writes every chart into <paramref name="folder"/>; returns (file name, caption) in report order.</summary>
    public static IReadOnlyList<(string File, string Caption)> Write(
        string folder, BenchSettings settings, IReadOnlyList<StorageRuns> sets, IReadOnlyList<PeerRun> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(sets);
        Directory.CreateDirectory(folder);
        var written = new List<(string, string)>();
        void Save(Plot plot, string file, string caption)
        {
            plot.SavePng(Path.Combine(folder, file), 900, 480);
            written.Add((file, caption));
        }

        Save(Throughput(sets), "throughput.png", "Throughput as a share of the raw `HttpClient` ceiling (medians of the per-run ratios)");
        Save(LatencyByLoad(settings, sets, "Integration Webhooks: command → POST latency by offered load",
            (r, rate) => r.LatencyAt(rate)?.FromSend), "latency-integration.png", "Command → Integration Webhook latency, p50 (solid) and p99 (dashed), log scale");
        Save(LatencyByLoad(settings, sets, "General Webhooks: ingest → POST latency by offered load",
            (r, rate) => r.GeneralLatencyAt(rate)?.FromSend), "latency-general.png", "Ingest → General Webhook latency, p50 (solid) and p99 (dashed), log scale");
        if (peers.Count > 0)
        {
            Save(Peer(sets, peers), "peer.png", "Ours beside Hangfire (one `HttpClient` job per webhook), deliveries per second, log scale");
        }
        return written;
    }

    /// <summary>Drain and sustained rates, ours beside Hangfire's on the matching storage; log10 so 300/s and 30,000/s both show.</summary>
    private static Plot Peer(IReadOnlyList<StorageRuns> sets, IReadOnlyList<PeerRun> peers)
    {
        var plot = new Plot();
        var groups = new (string Label, StorageKind Ours, Func<PeerRun, PeerStorageResult?> Hangfire, Func<RunResult, double?> Mine, Func<PeerStorageResult, double> Theirs)[]
        {
            ("drain: sqlite / InMemory", StorageKind.Sqlite, p => p.InMemory, r => r.Drain?.Rate, h => h.Drain.Rate),
            ("sustained: sqlite / InMemory", StorageKind.Sqlite, p => p.InMemory, r => r.Sustained?.Rate, h => h.Sustained.Rate),
            ("drain: postgres / PostgreSql", StorageKind.Postgres, p => p.Postgres, r => r.Drain?.Rate, h => h.Drain.Rate),
            ("sustained: postgres / PostgreSql", StorageKind.Postgres, p => p.Postgres, r => r.Sustained?.Rate, h => h.Sustained.Rate),
        };
        var bars = new List<Bar>();
        for (var g = 0; g < groups.Length; g++)
        {
            var group = groups[g];
            var ours = sets.FirstOrDefault(x => x.Storage == group.Ours) is { } set ? Report.Median(set.Runs.Select(group.Mine)) : null;
            var theirs = Report.Median(peers.Select(p => group.Hangfire(p) is { } h ? group.Theirs(h) : (double?)null));
            foreach (var (value, offset, color) in new[] { (ours, -0.2, 0), (theirs, 0.2, 1) })
            {
                if (value is > 1)
                {
                    bars.Add(new Bar
                    {
                        Position = g + offset,
                        Value = Math.Log10(value.Value),
                        Size = 0.36,
                        FillColor = Palette.GetColor(color),
                        Label = value.Value.ToString("N0", CultureInfo.InvariantCulture) + "/s",
                    });
                }
            }
        }
        plot.Add.Bars(bars);
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "ConnectorEvents", FillColor = Palette.GetColor(0) });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "Hangfire", FillColor = Palette.GetColor(1) });
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, groups.Length).Select(i => (double)i).ToArray(), groups.Select(x => x.Label).ToArray());
        int[] decades = [0, 1, 2, 3, 4, 5];
        plot.Axes.Left.SetTicks(decades.Select(d => (double)d).ToArray(), decades.Select(d => Math.Pow(10, d).ToString("N0", CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.SetLimitsY(0, 5.2);
        plot.Title("Deliveries per second, ours beside Hangfire (log scale)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    private static Plot Throughput(IReadOnlyList<StorageRuns> sets)
    {
        (string Label, Func<RunResult, double?> Ratio)[] scenarios =
        [
            ("1b. sender alone", r => r.SenderAloneRatio),
            ("1c. two exchanges", r => r.RelayAloneRatio),
            ("2. backlog drain", r => r.DrainRatio),
            ("3. sustained", r => r.SustainedRatio),
            ("10. 1M backlog", r => r.LargeBacklogRatio),
        ];
        var plot = new Plot();
        var bars = new List<Bar>();
        var width = 0.8 / sets.Count;
        for (var s = 0; s < sets.Count; s++)
        {
            for (var i = 0; i < scenarios.Length; i++)
            {
                if (Report.Median(sets[s].Runs.Select(scenarios[i].Ratio)) is not { } ratio)
                {
                    continue;
                }
                bars.Add(new Bar
                {
                    Position = i - 0.4 + (width * (s + 0.5)),
                    Value = ratio * 100,
                    Size = width * 0.9,
                    FillColor = Palette.GetColor(s),
                    Label = (ratio * 100).ToString("0", CultureInfo.InvariantCulture) + " %",
                });
            }
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = sets[s].Name, FillColor = Palette.GetColor(s) });
        }
        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 11;
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, scenarios.Length).Select(i => (double)i).ToArray(), scenarios.Select(x => x.Label).ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.Axes.SetLimitsY(0, Math.Max(100, bars.Count == 0 ? 100 : bars.Max(b => b.Value) * 1.15));
        plot.Title("Throughput ÷ raw ceiling (%)");
        plot.YLabel("% of the ceiling");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>p50 and p99 against the offered load, one colour per storage; log10 milliseconds so queueing does not flatten the rest.</summary>
    private static Plot LatencyByLoad(BenchSettings settings, IReadOnlyList<StorageRuns> sets, string title, Func<RunResult, int, Percentiles?> at)
    {
        var plot = new Plot();
        var rates = settings.LatencyRates;
        var xs = Enumerable.Range(0, rates.Count).Select(i => (double)i).ToArray();
        var lowest = double.MaxValue;
        var highest = double.MinValue;
        for (var s = 0; s < sets.Count; s++)
        {
            foreach (var (name, pick, pattern) in new (string, Func<Percentiles, double>, LinePattern)[]
            {
                ("p50", p => p.P50, LinePattern.Solid),
                ("p99", p => p.P99, LinePattern.Dashed),
            })
            {
                var ys = rates.Select(rate => Report.Median(sets[s].Runs.Select(r => at(r, rate) is { } p ? pick(p) : (double?)null))).ToArray();
                var points = xs.Zip(ys).Where(p => p.Second is > 0).Select(p => (X: p.First, Y: Math.Log10(p.Second!.Value))).ToArray();
                if (points.Length == 0)
                {
                    continue;
                }
                var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray(), Palette.GetColor(s));
                line.LinePattern = pattern;
                line.LineWidth = 2;
                line.MarkerSize = 7;
                line.LegendText = $"{sets[s].Name} {name}";
                lowest = Math.Min(lowest, points.Min(p => p.Y));
                highest = Math.Max(highest, points.Max(p => p.Y));
            }
        }
        plot.Axes.Bottom.SetTicks(xs, rates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture) + "/s").ToArray());
        var decades = lowest > highest ? [0, 1, 2] : Enumerable.Range((int)Math.Floor(lowest), (int)Math.Ceiling(highest) - (int)Math.Floor(lowest) + 1).ToArray();
        plot.Axes.Left.SetTicks(decades.Select(d => (double)d).ToArray(),
            decades.Select(d => Math.Pow(10, d).ToString(d < 0 ? "0.###" : "N0", CultureInfo.InvariantCulture) + " ms").ToArray());
        plot.Axes.SetLimitsY(decades[0] - 0.1, decades[^1] + 0.1);
        plot.Axes.SetLimitsX(-0.3, rates.Count - 0.7);
        plot.Title(title);
        plot.XLabel("offered load (events per second)");
        plot.YLabel("latency (log scale)");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }
}
