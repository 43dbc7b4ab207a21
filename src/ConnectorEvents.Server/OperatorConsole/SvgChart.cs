using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Html;

namespace ConnectorEvents.Server.OperatorConsole;

/// <summary>One line of a chart: a value per step (null where there is none), drawn in its CSS class's colour.</summary>
public sealed record ChartLine(string Name, string CssClass, IReadOnlyList<double?> Values);

/// <summary>
/// Line charts drawn on the server as inline SVG: no script, no library, nothing a strict CSP refuses (colours come from the
/// stylesheet by class). Each chart says its last whole step in words too, for a screen reader and for a glance.
/// </summary>
public static class SvgChart
{
    private const int Width = 720;
    private const int Height = 140;

    // Steps the x axis spans (the last hour's); a line's values sit at its right end, the newest last.
    private const int Slots = ConsoleMetrics.Steps + 1;

    public static IHtmlContent Render(string title, IReadOnlyList<ChartLine> lines, Func<double, string> format)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(format);
        var max = lines.SelectMany(l => l.Values).Where(v => v is not null).Select(v => v!.Value).DefaultIfEmpty(0).Max();
        var top = max <= 0 ? 1 : max * 1.1;
        var latest = string.Join(", ", lines.Select(l => $"{l.Name} {(Latest(l.Values) is { } v ? format(v) : "none")}"));
        var html = new StringBuilder();
        html.Append("<figure class=\"chart\"><figcaption><span class=\"chart-title\">").Append(Encode(title))
            .Append("</span> <span class=\"chart-now\">").Append(Encode(latest)).Append("</span></figcaption>");
        html.Append("<div class=\"chart-body\"><span class=\"chart-max\">").Append(Encode(format(max))).Append("</span>");
        html.Append(CultureInfo.InvariantCulture, $"<svg viewBox=\"0 0 {Width} {Height}\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"")
            .Append(Encode($"{title}, last hour: {latest}")).Append("\">");
        html.Append(CultureInfo.InvariantCulture, $"<line class=\"chart-axis\" x1=\"0\" y1=\"{Height - 0.5}\" x2=\"{Width}\" y2=\"{Height - 0.5}\"/>");
        foreach (var line in lines)
        {
            var offset = Math.Max(0, Slots - line.Values.Count);
            foreach (var run in Runs(line.Values))
            {
                html.Append("<polyline class=\"").Append(Encode(line.CssClass)).Append("\" points=\"");
                foreach (var (index, value) in run)
                {
                    var x = (offset + index) * (double)Width / Math.Max(1, Slots - 1);
                    var y = Height - (value / top * (Height - 4)) - 1;
                    html.Append(CultureInfo.InvariantCulture, $"{x:0.#},{y:0.#} ");
                }
                html.Append("\"/>");
            }
        }
        html.Append("</svg><span class=\"chart-span\">last hour</span></div><ul class=\"legend\">");
        foreach (var line in lines)
        {
            html.Append("<li class=\"").Append(Encode(line.CssClass)).Append("\">").Append(Encode(line.Name)).Append("</li>");
        }
        html.Append("</ul></figure>");
        return new HtmlString(html.ToString());
    }

    /// <summary>The last whole step's value (the one under way is only part of a step), or the only one there is.</summary>
    private static double? Latest(IReadOnlyList<double?> values) => values.Count switch
    {
        0 => null,
        1 => values[0],
        _ => values[^2],
    };

    /// <summary>The stretches of a line between gaps (a single point drawn as a dot: a round cap on a line of no length).</summary>
    private static IEnumerable<List<(int Index, double Value)>> Runs(IReadOnlyList<double?> values)
    {
        var run = new List<(int, double)>();
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i] is { } value)
            {
                run.Add((i, value));
                continue;
            }
            if (run.Count > 0)
            {
                yield return Widened(run);
                run = [];
            }
        }
        if (run.Count > 0)
        {
            yield return Widened(run);
        }
    }

    private static List<(int, double)> Widened(List<(int Index, double Value)> run) =>
        run.Count == 1 ? [run[0], (run[0].Index, run[0].Value)] : run;

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
