"""stats shows the tasks whose gold is not a number while their answers are (issue 11): such
tasks cannot pass under the strict checker, so their failures are the gold's format, not the
programs', and a user must see that in the table, the JSON and the HTML report."""

from __future__ import annotations

import json
from pathlib import Path

from ekt_curate.cli import main
from ekt_curate.stats.collect import collect


def verdict(passed: bool, **flags) -> dict:
    status = "pass" if passed else "wrong_answer"
    return {"status": status, "passed": passed, "answer": 0.75, "detail": "", "cpu_ms": 1.0, "wall_ms": 2.0, **flags}


def write(path: Path) -> Path:
    # Two LaTeX-gold tasks (two samples each, both flagged), one ordinary task with a pass and a miss.
    records = [{"task_id": f"math/{n % 2}", "code": "ans = 0.75", "gold": "\\frac{3}{4}",
                "verdict": verdict(False, gold_not_numeric=True)} for n in range(4)]
    records += [{"task_id": "gsm/0", "code": "ans = 72", "gold": "72", "verdict": verdict(True)},
                {"task_id": "gsm/0", "code": "ans = 7", "gold": "72", "verdict": verdict(False)}]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_collect_counts_tasks_not_samples(tmp_path):
    stats = collect(write(tmp_path / "v.jsonl"))
    assert stats.gold_not_numeric_tasks == 2 and stats.gold_not_numeric_example() == "math/0"


def test_terminal_json_and_html_show_the_count(tmp_path, capsys):
    source = write(tmp_path / "v.jsonl")
    target, page = tmp_path / "s.json", tmp_path / "s.html"
    assert main(["stats", str(source), "--json", str(target), "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "tasks with a non-numeric gold" in out and "math/0" in out and "math-verify" in out
    data = json.loads(target.read_text())
    assert data["gold_not_numeric_tasks"] == 2 and data["gold_not_numeric_example"] == "math/0"
    html = page.read_text()
    assert "tasks with a non-numeric gold" in html and "2 tasks have a gold that is not a number" in html


def test_zero_when_no_verdict_is_flagged(tmp_path, capsys):
    source = tmp_path / "v.jsonl"
    source.write_text(json.dumps({"task_id": "t", "code": "ans = 1", "gold": "1", "verdict": verdict(True)}) + "\n")
    target = tmp_path / "s.json"
    assert main(["stats", "-q", str(source), "--json", str(target), "--compare", str(write(tmp_path / "w.jsonl"))]) == 0
    data = json.loads(target.read_text())
    assert data["gold_not_numeric_tasks"] == 0 and data["gold_not_numeric_example"] is None
    assert data["compare"]["gold_not_numeric_tasks"] == 2
