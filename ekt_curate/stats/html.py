"""One self-contained HTML page: inline CSS and inline SVG charts, no scripts, no network.

Charts: per-task pass-rate histogram, status breakdown, program length and runtime
histograms; with a second run (``--compare``) each chart shows both side by side.
Hovering a bar shows its exact value (SVG <title>), without JavaScript.
"""

from __future__ import annotations

from html import escape

from ekt_curate.stats.collect import PASS_RATE_BINS, Stats

COLORS = ("#2563eb", "#f59e0b")  # first run, second run
STATUS_COLORS = {"pass": "#16a34a", "wrong_answer": "#f59e0b"}
FAILURE_COLOR = "#dc2626"

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: #f8fafc; color: #0f172a; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 0 0 10px; }
.sub { color: #475569; margin-bottom: 20px; }
.src { word-break: break-all; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 12px; margin-bottom: 20px; }
.card { background: #fff; border: 1px solid #e2e8f0; border-radius: 10px; padding: 12px 14px; }
.card .label { color: #64748b; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 650; margin-top: 2px; }
.card .value small { font-size: 13px; font-weight: 500; color: #64748b; margin-left: 6px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; }
.panel { background: #fff; border: 1px solid #e2e8f0; border-radius: 10px; padding: 16px; }
.legend span { display: inline-block; margin-right: 14px; font-size: 13px; color: #334155; }
.legend i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
td, th { text-align: left; padding: 5px 8px; border-bottom: 1px solid #f1f5f9; } td.n, th.n { text-align: right; }
svg text { font: 11px system-ui, sans-serif; fill: #334155; }
"""


def _fmt(value: float | None, percent: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:.1f}%" if percent else f"{value:,}"


def _metrics(run: Stats) -> list[tuple[str, str, object]]:
    """(label, shown, raw) rows; raw is an int, a float share, or None."""
    rows: list[tuple[str, str, object]] = [("tasks", f"{run.tasks:,}", run.tasks), ("samples", f"{run.samples:,}", run.samples)]
    rows += [(f"pass@{k}", _fmt(v), v) for k, v in run.pass_at_k().items()]
    rows += [("coverage", _fmt(run.coverage), run.coverage), ("per-sample accuracy", _fmt(run.accuracy), run.accuracy)]
    ratio = run.duplicates_ratio()
    rows.append(("duplicates removed", _fmt(ratio), ratio))
    # an int, so --compare shows the difference like the other counts
    rows.append(("tasks with a non-numeric gold", f"{run.gold_not_numeric_tasks:,}", run.gold_not_numeric_tasks))
    return rows


def bar_chart(labels: list[str], series: list[tuple[str, list[float], str]], width: int = 500,
              height: int = 230, rotate: bool = False) -> str:
    """Vertical grouped bars; one series per run."""
    left, bottom, top, right = 40, 58 if rotate else 30, 16, 30 if rotate else 8
    plot_w, plot_h = width - left - right, height - bottom - top
    peak = max([max(values) for _, values, _ in series if values] + [1])
    group = plot_w / max(len(labels), 1)
    bar = min(34.0, (group - 6) / len(series))
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">']
    for step in range(5):  # gridlines
        y = top + plot_h - plot_h * step / 4
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{peak * step / 4:,.0f}</text>')
    for i, label in enumerate(labels):
        x0 = left + i * group + (group - bar * len(series)) / 2
        for j, (name, values, color) in enumerate(series):
            value = values[i] if i < len(values) else 0
            h = plot_h * value / peak
            x, y = x0 + j * bar, top + plot_h - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" fill="{color}" rx="2">'
                         f'<title>{escape(name)} · {escape(label)}: {value:,.0f}</title></rect>')
        cx = left + i * group + group / 2
        if rotate:
            parts.append(f'<text transform="translate({cx:.1f},{top + plot_h + 10}) rotate(40)">{escape(label)}</text>')
        else:
            parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#94a3b8"/>')
    parts.append("</svg>")
    return "".join(parts)


def status_bars(runs: list[Stats], width: int = 500) -> str:
    """Horizontal bars: share of samples per status, one bar per run."""
    statuses = sorted({s for run in runs for s in run.statuses}, key=lambda s: (s != "pass", s != "wrong_answer", s))
    row, label_w = 22 * len(runs) + 10, 120
    height = row * len(statuses) + 10
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">']
    for i, status in enumerate(statuses):
        y0 = 6 + i * row
        parts.append(f'<text x="{label_w - 8}" y="{y0 + 11 * len(runs) + 4}" text-anchor="end">{escape(status)}</text>')
        for j, run in enumerate(runs):
            count = run.statuses.get(status, 0)
            share = count / run.samples if run.samples else 0
            w = (width - label_w - 110) * share
            color = STATUS_COLORS.get(status, FAILURE_COLOR) if len(runs) == 1 else COLORS[j]
            y = y0 + j * 22
            parts.append(f'<rect x="{label_w}" y="{y}" width="{max(w, 1):.1f}" height="18" fill="{color}" rx="2">'
                         f'<title>{escape(status)}: {count:,}</title></rect>')
            parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 13}">{count:,} ({100 * share:.1f}%)</text>')
    parts.append("</svg>")
    return "".join(parts)


def render(runs: list[Stats], names: list[str]) -> str:
    series_of = lambda values_of: [(n, values_of(r), COLORS[i]) for i, (n, r) in enumerate(zip(names, runs))]  # noqa: E731
    legend = "" if len(runs) == 1 else '<div class="legend">' + "".join(
        f'<span><i style="background:{COLORS[i]}"></i>{escape(n)}</span>' for i, n in enumerate(names)) + "</div>"
    metrics = [_metrics(run) for run in runs]
    if len(runs) == 1:
        summary = '<div class="cards">' + "".join(
            f'<div class="card"><div class="label">{label}</div><div class="value">{value}</div></div>'
            for label, value, _ in metrics[0]) + "</div>"
    else:  # side by side, with the difference where both are numbers
        head = "".join(f'<th class=n><i style="display:inline-block;width:10px;height:10px;background:{COLORS[i]};'
                       f'margin-right:5px"></i>{escape(n)}</th>' for i, n in enumerate(names))
        rows = []
        for index, (label, _, _) in enumerate(metrics[0]):
            cells = [metric[index] for metric in metrics]
            numbers = [raw for _, _, raw in cells]
            delta = ""
            if all(isinstance(x, float) for x in numbers):
                delta = f"{100 * (numbers[1] - numbers[0]):+.1f} pts"
            elif all(isinstance(x, int) for x in numbers):
                delta = f"{numbers[1] - numbers[0]:+,}"
            rows.append(f"<tr><td>{label}</td>" + "".join(f"<td class=n>{shown}</td>" for _, shown, _ in cells)
                        + f"<td class=n>{delta}</td></tr>")
        summary = (f'<section class="panel" style="margin-bottom:16px"><table><tr><th>metric</th>{head}'
                   f'<th class=n>difference</th></tr>{"".join(rows)}</table></section>')
    lengths = [run.length_histogram() for run in runs]
    runtimes = [run.runtime_histogram() for run in runs]
    failures = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(status)}</td><td>{escape(detail)}</td><td class=n>{count:,}</td></tr>"
        for name, run in zip(names, runs) for status, detail, count in run.top_failures())
    not_computable = "".join(
        f"<p class=sub>{escape(name)}: n/a means not computable: "
        + "; ".join(f"pass@{k} needs {k} samples per task, {missing:,} tasks have fewer" for k, missing in missing_by_k.items())
        + ".</p>" for name, run in zip(names, runs) if (missing_by_k := run.not_computable()))
    not_numeric = "".join(
        f"<p class=sub>{escape(name)}: {run.gold_not_numeric_tasks:,} tasks have a gold that is not a number while "
        f"their answers are (e.g. {escape(repr(run.gold_not_numeric_example()))}); they cannot pass under "
        f"--checker strict (LaTeX golds: --checker math-verify).</p>"
        for name, run in zip(names, runs) if run.gold_not_numeric_tasks)
    panels = [
        ("Per-task pass rate (tasks per bin)",
         bar_chart(PASS_RATE_BINS, series_of(lambda r: r.pass_rate_histogram()), rotate=True)),
        ("Status of every sample", status_bars(runs)),
        ("Program length (lines)", bar_chart(lengths[0][0], [(n, h[1], COLORS[i]) for i, (n, h) in
                                                             enumerate(zip(names, lengths))], rotate=True)),
        ("CPU time per program (ms)", bar_chart(runtimes[0][0], [(n, h[1], COLORS[i]) for i, (n, h) in
                                                                enumerate(zip(names, runtimes))], rotate=True)),
    ]
    body = "".join(f'<section class="panel"><h2>{title}</h2>{legend}{chart}</section>' for title, chart in panels)
    sources = " vs ".join(escape(run.source) for run in runs)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ekt-curate stats</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f'<body><main><h1>ekt-curate stats</h1><div class="sub src">{sources}</div>'
            f'{summary}{not_computable}{not_numeric}<div class="grid">{body}</div>'
            f'<section class="panel" style="margin-top:16px"><h2>Most common failures</h2><table>'
            f'<tr><th>run</th><th>status</th><th>detail</th><th class=n>samples</th></tr>{failures}</table></section>'
            f'</main></body></html>')
