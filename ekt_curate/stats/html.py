"""One self-contained HTML page: inline CSS and inline SVG charts, no scripts, no network.

Charts (titled axes, integer ticks; CPU time on a log scale): per-task pass-rate histogram, status
breakdown, program length and runtime histograms; then the most common failures with example
programs, the tasks that never pass, what dedup dropped and each file's provenance. With a second
run (``--compare``) the charts show both side by side, or, when the second is curated from the
first (dedup's output), the page shows the yield of curation instead of a second pass@k.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ekt_curate.stats import html_sections as sections
from ekt_curate.stats.collect import PASS_RATE_BINS, Stats
from ekt_curate.stats.html_charts import COLORS, bar_chart, status_bars

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
svg text.axis-title { font-size: 12px; font-weight: 600; fill: #0f172a; } svg text.value { font-size: 10px; fill: #475569; }
.wide { margin: 16px 0; } h3 { font-size: 15px; margin: 12px 0 6px; } h4 { font-size: 14px; margin: 14px 0 6px; }
h4 small { font-weight: 400; color: #64748b; margin-left: 6px; } h2.sub2 { margin-top: 18px; }
.examples { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 10px; }
.example { border: 1px solid #e2e8f0; border-radius: 8px; padding: 8px 10px; background: #fcfcfd; min-width: 0; }
.example .meta { font-size: 13px; word-break: break-word; }
.example .detail { font-size: 12px; color: #b91c1c; margin-top: 2px; }
pre { margin: 6px 0 0; padding: 8px; background: #0f172a; color: #e2e8f0; border-radius: 6px; font-size: 12px;
      overflow: auto; max-height: 260px; white-space: pre-wrap; overflow-wrap: anywhere; }
code { background: #f1f5f9; padding: 0 4px; border-radius: 4px; }
table.never td.task, table.prov th { white-space: nowrap; }
table.prov th { color: #475569; font-weight: 500; }
table.prov tr.head th { color: #0f172a; font-weight: 600; }
.more { color: #475569; font-style: italic; }
.split { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; align-items: start; }
"""


def _fmt(value: float | None, percent: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:.1f}%" if percent else f"{value:,}"


def _metrics(run: Stats, duplicates: bool) -> list[tuple[str, str, object]]:
    """(label, shown, raw) rows; raw is an int, a float share, or None."""
    rows: list[tuple[str, str, object]] = [("tasks", f"{run.tasks:,}", run.tasks), ("samples", f"{run.samples:,}", run.samples)]
    rows += [(f"pass@{k}", _fmt(v), v) for k, v in run.pass_at_k().items()]
    rows += [("coverage", _fmt(run.coverage), run.coverage), ("per-sample accuracy", _fmt(run.accuracy), run.accuracy)]
    if duplicates:
        ratio = run.duplicates_ratio()
        rows.append(("duplicates removed", _fmt(ratio), ratio))
    # an int, so --compare shows the difference like the other counts
    rows.append(("tasks with a non-numeric gold", f"{run.gold_not_numeric_tasks:,}", run.gold_not_numeric_tasks))
    return rows


def _summary(runs: list[Stats], names: list[str]) -> str:
    metrics = [_metrics(run, any(r.duplicates_ratio() is not None for r in runs)) for run in runs]
    if len(runs) == 1:
        return '<div class="cards">' + "".join(
            f'<div class="card"><div class="label">{label}</div><div class="value">{value}</div></div>'
            for label, value, _ in metrics[0]) + "</div>"
    head = "".join(f'<th class=n><i style="display:inline-block;width:10px;height:10px;background:{COLORS[i]};'
                   f'margin-right:5px"></i>{escape(n)}</th>' for i, n in enumerate(names))
    rows = []
    for index, (label, _, _) in enumerate(metrics[0]):  # side by side, with the difference where both are numbers
        cells = [metric[index] for metric in metrics]
        numbers = [raw for _, _, raw in cells]
        delta = ""
        if all(isinstance(x, float) for x in numbers):
            delta = f"{100 * (numbers[1] - numbers[0]):+.1f} pts"
        elif all(isinstance(x, int) for x in numbers):
            delta = f"{numbers[1] - numbers[0]:+,}"
        rows.append(f"<tr><td>{label}</td>" + "".join(f"<td class=n>{shown}</td>" for _, shown, _ in cells)
                    + f"<td class=n>{delta}</td></tr>")
    return (f'<section class="panel" style="margin-bottom:16px"><table><tr><th>metric</th>{head}'
            f'<th class=n>difference</th></tr>{"".join(rows)}</table></section>')


def _notes(runs: list[Stats], names: list[str], note: str | None) -> str:
    not_computable = "".join(
        f"<p class=sub>{escape(name)}: n/a means not computable: "
        + "; ".join(f"pass@{k} needs {k} samples per task, {missing:,} tasks have fewer" for k, missing in missing_by_k.items())
        + ".</p>" for name, run in zip(names, runs) if (missing_by_k := run.not_computable()))
    not_numeric = "".join(
        f"<p class=sub>{escape(name)}: {run.gold_not_numeric_tasks:,} tasks have a gold that is not a number while "
        f"their answers are (e.g. {escape(repr(run.gold_not_numeric_example()))}); they cannot pass under "
        f"--checker strict (LaTeX golds: --checker math-verify).</p>"
        for name, run in zip(names, runs) if run.gold_not_numeric_tasks)
    return (f"<p class=sub>note: {escape(note)}.</p>" if note else "") + not_computable + not_numeric


def render(runs: list[Stats], names: list[str], curation: dict[str, Any] | None = None,
           note: str | None = None) -> str:
    """``curation``: the yield when the second run is curated from the first (its pass@k, statuses and
    pass rates are then not charted: they are what curation kept); ``note``: a line on the runs' tasks."""
    shown, shown_names = (runs[:1], names[:1]) if curation else (runs, names)
    legend_of = lambda rs, ns: "" if len(rs) == 1 else '<div class="legend">' + "".join(  # noqa: E731
        f'<span><i style="background:{COLORS[i]}"></i>{escape(n)}</span>' for i, n in enumerate(ns)) + "</div>"
    histograms = lambda of: [(n, of(r)[1], COLORS[i]) for i, (n, r) in enumerate(zip(names, runs))]  # noqa: E731
    panels = [
        ("Per-task pass rate", shown, bar_chart(PASS_RATE_BINS, [(n, r.pass_rate_histogram(), COLORS[i]) for i, (n, r)
                                                                  in enumerate(zip(shown_names, shown))],
                                                 x_title="share of the task's samples that pass", y_title="tasks",
                                                 rotate=True)),
        ("Status of every sample", shown, status_bars(shown, shown_names)),
        ("Program length", runs, bar_chart(runs[0].length_histogram()[0], histograms(Stats.length_histogram),
                                           x_title="lines of the program", y_title="samples", rotate=True)),
        ("CPU time per program", runs, bar_chart(runs[0].runtime_histogram()[0], histograms(Stats.runtime_histogram),
                                                 x_title="CPU time (ms)", y_title="samples (log scale)", log=True,
                                                 rotate=True)),
    ]
    body = "".join(f'<section class="panel"><h2>{title}</h2>{legend_of(rs, names[:len(rs)])}{chart}</section>'
                   for title, rs, chart in panels)
    sources = " vs ".join(escape(run.source) for run in runs)
    extra = sections.failures(runs, names) + sections.never_passed(shown, shown_names) \
        + sections.dedup(shown, shown_names) + sections.provenance_section(runs, names)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ekt-curate stats</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f'<body><main><h1>ekt-curate stats</h1><div class="sub src">{sources}</div>'
            f'{_summary(shown, shown_names)}{_notes(shown, shown_names, note)}'
            f'{sections.curation(curation, names) if curation else ""}<div class="grid">{body}</div>{extra}'
            f'</main></body></html>')
