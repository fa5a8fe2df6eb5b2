"""The stats page's reading sections: failures with example programs, the tasks that never pass,
what dedup dropped, the yield of curation and where each file came from. Everything from the
files is escaped; only what the records and sidecars hold is shown."""

from __future__ import annotations

from html import escape
from typing import Any

from ekt_curate.stats.collect import Stats
from ekt_curate.stats.curation import NOT_RECORDED, dedup_drops, drops_text, provenance, yield_lines
from ekt_curate.stats.html_charts import COLORS, bar_chart

NEVER_PASSED_SHOWN = 25


def panel(title: str, body: str, css: str = "") -> str:
    return f'<section class="panel {css}"><h2>{escape(title)}</h2>{body}</section>'


def _run_label(name: str, runs: int) -> str:
    return f'<h3>{escape(name)}</h3>' if runs > 1 else ""


def failures(runs: list[Stats], names: list[str]) -> str:
    """The most common failure classes (status and cause), each with a few failing programs."""
    rows, blocks = [], []
    for name, run in zip(names, runs):
        classes = run.failure_classes()
        rows += [f"<tr><td>{escape(name)}</td><td>{escape(s)}</td><td>{escape(d)}</td><td class=n>{c:,}</td></tr>"
                 for s, d, c, _ in classes]
        if not classes:
            continue
        blocks.append(_run_label(name, len(runs)))
        for status, detail, count, examples in classes:
            shown = "".join(
                f'<div class="example"><div class="meta"><b>{escape(e["task_id"])}</b> · answer '
                f'<code>{escape(e["answer"])}</code> · gold <code>{escape(e["gold"])}</code></div>'
                + (f'<div class="detail">{escape(e["detail"])}</div>' if e["detail"] else "")
                + f'<pre>{escape(e["program"])}</pre></div>' for e in examples)
            blocks.append(f'<div class="failure-class" data-status="{escape(status)}"><h4>{escape(status)} · '
                          f'{escape(detail)} <small>{count:,} samples, {len(examples)} shown</small></h4>'
                          f'<div class="examples">{shown}</div></div>')
    if not rows:
        return panel("Failures", "<p class=sub>No sample failed.</p>", "wide")
    table = ('<table><tr><th>run</th><th>status</th><th>cause</th><th class=n>samples</th></tr>'
             + "".join(rows) + "</table>")
    return panel("Most common failures", table + '<h2 class="sub2">Example failing programs</h2>' + "".join(blocks),
                 "wide")


def never_passed(runs: list[Stats], names: list[str], limit: int = NEVER_PASSED_SHOWN) -> str:
    parts = []
    for name, run in zip(names, runs):
        tasks = run.never_passed()
        if not tasks:
            continue
        items = "".join(
            f'<tr><td class="task">{escape(task)}</td><td>{escape(info.get("question") or "not recorded")}</td>'
            f'<td>{escape(info.get("gold") or "not recorded")}</td></tr>' for task, info in tasks[:limit])
        more = f'<p class="more">and {len(tasks) - limit:,} more</p>' if len(tasks) > limit else ""
        parts.append(f'{_run_label(name, len(runs))}<p class=sub>{len(tasks):,} of {run.tasks:,} tasks: no sample '
                     f'passed.</p><table class="never"><tr><th>task</th><th>question</th><th>gold</th></tr>{items}'
                     f'</table>{more}')
    return panel("Tasks that never pass", "".join(parts), "wide") if parts else ""


def _pairs(rows: list[tuple[str, str]]) -> str:
    return '<table class="prov">' + "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
                                           for label, value in rows) + "</table>"


def dedup(runs: list[Stats], names: list[str]) -> str:
    """For each run that is a dedup output: read, kept, dropped by kind, as recorded."""
    parts = []
    for name, run in zip(names, runs):
        drops = dedup_drops(run)
        if drops is None:
            continue
        rows = [("records read", f"{drops['read']:,}" if drops["read"] is not None else "not recorded"),
                ("records kept", f"{drops['kept']:,}" if drops["kept"] is not None else "not recorded"),
                ("dropped by kind", drops_text(drops))]
        if run.duplicates_ratio() is not None:
            rows.append(("duplicates merged", f"{100 * run.duplicates_ratio():.1f}% of the samples behind kept records"))
        if drops.get("threshold") is not None:
            rows.append(("near-duplicate threshold", f"{drops['threshold']}"))
        parts.append(_run_label(name, len(runs)) + _pairs(rows))
    return panel("Dedup", "".join(parts), "wide") if parts else ""


def curation(data: dict[str, Any], names: list[str]) -> str:
    """The yield of curating the second file from the first, with kept records per task."""
    by_kept = data["tasks_by_kept"]
    chart = bar_chart(list(by_kept), [(names[1], [float(v) for v in by_kept.values()], COLORS[1])],
                      x_title="records kept for the task", y_title="tasks")
    note = (f'<p class=sub>pass@k of {escape(names[1])} is not shown: it is curated from {escape(names[0])} '
            f'({escape(data["why"])}), so its pass rates say what curation kept, not what the model does.</p>')
    return (f'<section class="panel wide"><h2>Curation: {escape(names[1])} from {escape(names[0])}</h2>{note}'
            f'<div class="split"><div>{_pairs(yield_lines(data))}</div><div><h3>Records kept per task</h3>{chart}'
            f'</div></div></section>')


def provenance_section(runs: list[Stats], names: list[str]) -> str:
    """Each file's sidecar, side by side: stages, command, version, teacher, problems, policy, checker."""
    table = [provenance(run) for run in runs]
    head = "" if len(runs) == 1 else \
        "<tr class=head><th></th>" + "".join(f"<th>{escape(name)}</th>" for name in names) + "</tr>"
    labels = list(dict.fromkeys(label for shown in table for label in shown))
    rows = "".join(f"<tr><th>{escape(label)}</th>" + "".join(f"<td>{escape(shown.get(label, NOT_RECORDED))}</td>"
                                                           for shown in table) + "</tr>" for label in labels)
    missing = [name for name, run in zip(names, runs) if run.meta is None]
    note = f'<p class=sub>No sidecar (.meta.json) next to {escape(", ".join(missing))}.</p>' if missing else ""
    return panel("Provenance", f'{note}<table class="prov">{head}{rows}</table>', "wide")
