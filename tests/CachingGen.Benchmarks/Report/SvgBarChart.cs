using System.Globalization;
using System.Net;
using System.Text;

namespace CachingGen.Benchmarks.Report;

/// <summary>One bar: a label, its length (a ratio to the group's baseline) and the text printed after it.</summary>
public sealed record Bar(string Label, double Value, string Text, bool IsBaseline, bool IsOurs);

/// <summary>A titled group of bars (one parameter combination).</summary>
public sealed record BarGroup(string Title, IReadOnlyList<Bar> Bars);

/// <summary>
/// A horizontal bar chart as plain SVG: one block of bars per group, lengths on one shared linear scale, a solid line
/// at 1.0 (the baseline) and, when given, a dashed line at the goal. No script, no external font or style.
/// </summary>
public static class SvgBarChart
{
    private const int Width = 820;
    private const int LabelWidth = 330;
    private const int BarArea = 380;
    private const int RowHeight = 22;
    private const int GroupGap = 10;
    private const int Top = 46;

    public static string Render(string title, string axisLabel, IReadOnlyList<BarGroup> groups, double? goal, string? goalLabel)
    {
        var max = Math.Max(groups.SelectMany(g => g.Bars).Select(b => b.Value).DefaultIfEmpty(1).Max(), Math.Max(goal ?? 0, 1)) * 1.08;
        var rows = groups.Sum(g => g.Bars.Count + 1);
        var height = Top + rows * RowHeight + groups.Count * GroupGap + 40;
        double X(double value) => LabelWidth + value / max * BarArea;

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"));
        svg.Append(Invariant($"<rect width=\"{Width}\" height=\"{height}\" fill=\"#ffffff\"/>\n"));
        svg.Append(Invariant($"<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>\n"));
        svg.Append(Invariant($"<text x=\"10\" y=\"37\" fill=\"#555555\">{Escape(axisLabel)}</text>\n"));

        var y = Top;
        foreach (var group in groups)
        {
            svg.Append(Invariant($"<text x=\"10\" y=\"{y + 15}\" font-weight=\"bold\">{Escape(group.Title)}</text>\n"));
            y += RowHeight;
            foreach (var bar in group.Bars)
            {
                var colour = bar.IsOurs ? "#2b6cb0" : bar.IsBaseline ? "#718096" : "#ed8936";
                svg.Append(Invariant($"<text x=\"{LabelWidth - 8}\" y=\"{y + 15}\" text-anchor=\"end\">{Escape(bar.Label)}</text>\n"));
                svg.Append(Invariant($"<rect x=\"{LabelWidth}\" y=\"{y + 4}\" width=\"{Math.Max(1, X(bar.Value) - LabelWidth):0.0}\" height=\"{RowHeight - 8}\" fill=\"{colour}\"/>\n"));
                svg.Append(Invariant($"<text x=\"{X(bar.Value) + 6:0.0}\" y=\"{y + 15}\">{Escape(bar.Text)}</text>\n"));
                y += RowHeight;
            }

            y += GroupGap;
        }

        var bottom = y;
        svg.Append(Invariant($"<line x1=\"{X(1):0.0}\" y1=\"{Top}\" x2=\"{X(1):0.0}\" y2=\"{bottom}\" stroke=\"#000000\" stroke-width=\"1\"/>\n"));
        svg.Append(Invariant($"<text x=\"{X(1):0.0}\" y=\"{bottom + 14}\" text-anchor=\"middle\">1.0 = baseline</text>\n"));
        if (goal is { } g)
        {
            svg.Append(Invariant($"<line x1=\"{X(g):0.0}\" y1=\"{Top}\" x2=\"{X(g):0.0}\" y2=\"{bottom}\" stroke=\"#c53030\" stroke-width=\"1\" stroke-dasharray=\"5,4\"/>\n"));
            svg.Append(Invariant($"<text x=\"{X(g):0.0}\" y=\"{bottom + 28}\" text-anchor=\"middle\" fill=\"#c53030\">{Escape(goalLabel ?? "goal")}</text>\n"));
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Escape(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
