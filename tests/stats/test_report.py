"""The stats page as a new user reads it (issue 20): titled axes and round integer ticks on every
chart, CPU time on a log scale, failing programs shown with their answer and gold, the tasks that
never pass, provenance where recorded, no "0 (0.0%)" bars; and --k fitted to the samples."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ekt_curate.cli import main
from ekt_curate.stats.html_charts import log_ticks, nice_ticks
from tests.stats.page_parts import assert_count_axis, read_page


def record(task: str, passed: bool, status: str | None = None, cpu_ms: float = 3.0, code: str = "answer = 72",
           answer: object = 72, gold: str = "72", detail: str = "") -> dict:
    status = status or ("pass" if passed else "wrong_answer")
    return {"task_id": task, "question": f"How many for {task}?", "gold": gold, "completion": code,
            "verdict": {"status": status, "passed": passed, "answer": answer, "detail": detail, "cpu_ms": cpu_ms,
                        "wall_ms": cpu_ms + 1}}


def write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def realistic(tasks: int = 48, per_task: int = 4) -> list[dict]:
    """Mostly fast passes; a few wrong answers, runtime errors and timeouts at the 2 s limit."""
    rows = []
    for t in range(tasks):
        for s in range(per_task):
            task = f"t/{t}"
            if t < 5 and s == 0:
                rows.append(record(task, False, "timeout", cpu_ms=1999.0, code="while True:\n    pass", answer=None,
                                   detail="time limit reached (2 s CPU or 5 s wall)"))
            elif t % 7 == 0:
                rows.append(record(task, False, code=f"answer = {t} - 1", answer=t - 1, gold=str(t),
                                   detail=f"expected {t}, got {t - 1}"))
            elif t % 11 == 1 and s == 1:
                rows.append(record(task, False, "runtime_error", code="answer = 1 / 0", answer=None,
                                   detail="ZeroDivisionError: division by zero"))
            else:
                rows.append(record(task, True, cpu_ms=2.0 + s / 10))
    return rows


@pytest.mark.parametrize("peak", [0, 1, 2, 3, 4, 5, 7, 9, 14, 27, 40, 54, 99, 100, 101, 187, 231, 999, 12345])
def test_count_ticks_are_round_distinct_integers_up_to_the_peak(peak):
    ticks = nice_ticks(peak)
    assert all(isinstance(t, int) for t in ticks) and len(set(ticks)) == len(ticks)
    step = ticks[1] - ticks[0]
    assert str(step).rstrip("0") in ("1", "2", "5") and ticks == list(range(0, ticks[-1] + 1, step))
    assert ticks[-1] >= peak and ticks[-1] - step < max(peak, 1) and len(ticks) <= 5


def test_log_ticks_are_decades_up_to_the_peak():
    for peak in (1, 5, 10, 11, 187, 1000, 1001):
        ticks = log_ticks(peak)
        assert ticks[0] == 0 and ticks[1:] == [10 ** d for d in range(len(ticks) - 1)] and ticks[-1] >= peak
        assert ticks[-2] < peak or peak <= 10


def test_every_chart_has_axis_titles_and_count_axes_round_ticks(tmp_path):
    source = write(tmp_path / "v.jsonl", realistic())
    page = tmp_path / "r.html"
    assert main(["stats", "-q", str(source), "--html", str(page)]) == 0
    charts, text = read_page(page.read_text())
    assert len(charts) == 4
    for chart in charts:
        assert chart.titles.get("x") and chart.titles.get("y"), chart.label
    by_title = {chart.titles["y"]: chart for chart in charts}
    assert_count_axis(by_title["tasks"])  # per-task pass rate
    assert_count_axis(next(c for c in charts if c.titles["x"] == "lines of the program"))
    assert set(by_title["status"].ticks["y"]) == {"pass", "wrong_answer", "runtime_error", "timeout"}


def test_cpu_time_is_on_a_log_scale_so_a_few_timeouts_show(tmp_path):
    source = write(tmp_path / "v.jsonl", realistic())
    page = tmp_path / "r.html"
    assert main(["stats", "-q", str(source), "--html", str(page)]) == 0
    charts, _ = read_page(page.read_text())
    cpu = next(c for c in charts if c.titles["x"] == "CPU time (ms)")
    assert "log" in cpu.titles["y"] and cpu.y_ticks() == [0, 1, 10, 100, 1000]
    fast, slow = cpu.height_of("2-5:"), cpu.height_of("1000-2000:")
    counts = {title.split(" · ")[1].split(":")[0]: value for title, value, _ in cpu.bars if value}
    assert counts["1000-2000"] == 5 and counts["2-5"] > 150
    # on a linear axis 5 beside ~180 is under 3% of the height; a decade band each, it is half of it
    assert slow / fast == pytest.approx((math.log10(5) + 1) / (math.log10(counts["2-5"]) + 1), rel=0.01)
    assert slow / fast > 0.5


def test_failures_show_programs_with_answer_and_gold_escaped(tmp_path):
    rows = [record("t/evil", False, code="answer = '<script>alert(1)</script>'", answer="<b>x</b>",
                   gold="72", detail="expected 72, got '<b>x</b>'"), *realistic()]
    source = write(tmp_path / "v.jsonl", rows)
    page = tmp_path / "r.html"
    assert main(["stats", "-q", str(source), "--html", str(page)]) == 0
    html = page.read_text()
    assert "<script" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "answer <code>&lt;b&gt;x&lt;/b&gt;</code>" in html
    _, text = read_page(html)
    for status in ("wrong_answer", "runtime_error", "timeout"):
        assert f"{status} ·" in text
    wrong = next(r for r in rows[1:] if r["verdict"]["status"] == "wrong_answer")
    assert f"{wrong['task_id']} · answer {wrong['verdict']['answer']} · gold {wrong['gold']}" in text
    assert "answer = 1 / 0" in text and "ZeroDivisionError: division by zero" in text
    assert "while True: pass" in text and "no answer" in text


def test_long_programs_are_cut_and_say_how_much(tmp_path):
    program = "\n".join(f"step{i} = {i}" for i in range(40)) + "\nanswer = 0"
    source = write(tmp_path / "v.jsonl", [record("a", False, code=program, answer=0), record("a", True)])
    page = tmp_path / "r.html"
    assert main(["stats", "-q", str(source), "--html", str(page)]) == 0
    _, text = read_page(page.read_text())
    assert "step15 = 15" in text and "step16 = 16" not in text and "… (25 more lines)" in text


def test_tasks_that_never_pass_are_listed_and_bounded(tmp_path):
    rows = [record(f"hard/{i}", False, answer=1, gold=str(100 + i)) for i in range(30)]
    rows += [record("easy/0", True), record("late/0", False), record("late/0", True)]
    source = write(tmp_path / "v.jsonl", rows)
    page, target = tmp_path / "r.html", tmp_path / "s.json"
    assert main(["stats", "-q", str(source), "--html", str(page), "--json", str(target)]) == 0
    _, text = read_page(page.read_text())
    assert "30 of 32 tasks: no sample passed" in text and "and 5 more" in text
    assert "hard/0 How many for hard/0? 100" in text and "hard/24" in text and "hard/25 " not in text
    assert "late/0" not in text.split("Tasks that never pass")[1]
    data = json.loads(target.read_text())["tasks_never_passed"]
    assert data["count"] == 30 and data["tasks"][:2] == ["hard/0", "hard/1"]


def test_no_zero_bars_in_the_status_breakdown(tmp_path):
    first = write(tmp_path / "a.jsonl", realistic())
    second = write(tmp_path / "b.jsonl", [r for r in realistic() if r["verdict"]["status"] != "timeout"]
                   + [record("t/0", False, "syntax_error", answer=None)])
    page = tmp_path / "r.html"
    assert main(["stats", "-q", str(first), "--compare", str(second), "--html", str(page)]) == 0
    html = page.read_text()
    assert "0 (0.0%)" not in html
    charts, _ = read_page(html)
    status = next(c for c in charts if c.titles["y"] == "status")
    assert all(value > 0 for _, value, _ in status.bars)
    assert {t.split(": ")[0] for t, _, _ in status.bars} >= {"a.jsonl · timeout", "b.jsonl · syntax_error"}
    assert not any(t.startswith(("b.jsonl · timeout", "a.jsonl · syntax_error")) for t, _, _ in status.bars)


def test_provenance_is_not_recorded_without_a_sidecar(tmp_path):
    source = write(tmp_path / "v.jsonl", realistic(6))
    page = tmp_path / "r.html"
    assert main(["stats", "-q", str(source), "--html", str(page)]) == 0
    _, text = read_page(page.read_text())
    section = text.split("Provenance")[1]
    assert "No sidecar (.meta.json) next to v.jsonl" in section
    for label in ("command", "ekt-curate version", "sandbox policy", "checker", "written"):
        assert f"{label} not recorded" in section


def test_default_k_fits_the_samples_per_task(tmp_path, capsys):
    source = write(tmp_path / "v.jsonl", realistic(per_task=4))
    target = tmp_path / "s.json"
    assert main(["stats", str(source), "--json", str(target)]) == 0
    out = capsys.readouterr().out
    assert set(json.loads(target.read_text())["pass_at_k"]) == {"1"}
    assert "not computable" not in out and "n/a" not in out
    twelve = write(tmp_path / "w.jsonl", realistic(tasks=6, per_task=12))
    assert main(["stats", "-q", str(twelve), "--json", str(target)]) == 0
    assert set(json.loads(target.read_text())["pass_at_k"]) == {"1", "10"}
    # an explicit --k is kept as asked, n/a and its explanation included
    assert main(["stats", str(source), "--k", "1,10", "--json", str(target)]) == 0
    out = capsys.readouterr().out
    assert json.loads(target.read_text())["pass_at_k"]["10"] is None
    assert "pass@10 not computable: 48 tasks have fewer than 10 samples" in " ".join(out.split())


def test_code_failures_show_the_case_got_and_expected(tmp_path):
    failing = {"task_id": "code/0", "code": "def add(a, b):\n    return a - b",
               "verdict": {"status": "wrong_answer", "passed": False, "answer": None,
                           "detail": "case 1 of 2: add(1, 2) returned -1",
                           "cases": {"passed": 0, "total": 2},
                           "first_failure": {"case": 0, "status": "wrong_answer", "detail": "add(1, 2) returned -1",
                                             "expected": "3", "got": "-1"}}}
    passing = {"task_id": "code/0", "code": "def add(a, b):\n    return a + b",
               "verdict": {"status": "pass", "passed": True, "answer": None, "detail": "",
                           "cases": {"passed": 2, "total": 2}}}
    source = write(tmp_path / "v.jsonl", [failing, passing])
    page = tmp_path / "r.html"
    assert main(["stats", "-q", str(source), "--html", str(page)]) == 0
    _, text = read_page(page.read_text())
    assert "code/0 · answer -1 · gold 3" in text and "return a - b" in text and "add(1, 2) returned -1" in text
