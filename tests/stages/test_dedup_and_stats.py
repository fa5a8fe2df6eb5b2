"""dedup and stats end to end, on a file verify really produced."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from ekt_curate.cli import main
from tests.stages.conftest import write_jsonl


@pytest.fixture(scope="module")
def verified(tmp_path_factory, teacher_samples, fast_policy_file) -> Path:
    folder = tmp_path_factory.mktemp("curation")
    source = write_jsonl(folder / "samples.jsonl", teacher_samples)
    assert main(["verify", "--quiet", str(source), "--policy", str(fast_policy_file)]) == 0
    return folder / "samples.verified.jsonl"


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_dedup_accounts_for_every_record(verified, tmp_path):
    out = tmp_path / "curated.jsonl"
    assert main(["dedup", "-q", str(verified), "-o", str(out)]) == 0
    kept, dropped, source = lines(out), lines(tmp_path / "curated.dropped.jsonl"), lines(verified)
    assert len(kept) + len(dropped) == len(source)
    assert all(r["verdict"]["passed"] for r in kept)
    assert all(set(r["dedup"]) == {"cluster_size", "canonical_hash"} for r in kept)
    reasons = {r["dedup_dropped"]["reason"] for r in dropped}
    assert {"not_passed", "exact_duplicate"} <= reasons
    kept_lines = {r["verdict"]["line"] for r in kept}
    for record in dropped:
        if record["dedup_dropped"]["reason"] == "exact_duplicate":
            assert record["dedup_dropped"]["duplicate_of"] in kept_lines
    # within a task, no two kept records share a canonical form
    pairs = [(r["task_id"], r["dedup"]["canonical_hash"]) for r in kept]
    assert len(pairs) == len(set(pairs))
    # cluster sizes account for every passing sample
    assert sum(r["dedup"]["cluster_size"] for r in kept) == sum(r["verdict"]["passed"] for r in source)


def test_dedup_is_deterministic_and_overwrite_replaces(verified, tmp_path):
    out = tmp_path / "c.jsonl"
    assert main(["dedup", "-q", str(verified), "-o", str(out), "--max-per-task", "1"]) == 0
    first = out.read_bytes()
    assert main(["dedup", "-q", str(verified), "-o", str(out), "--max-per-task", "1"]) == 2  # exists
    assert main(["dedup", "-q", str(verified), "-o", str(out), "--max-per-task", "1", "--overwrite"]) == 0
    assert out.read_bytes() == first
    tasks = [r["task_id"] for r in lines(out)]
    assert len(tasks) == len(set(tasks))


def test_keep_failed_keeps_failures(verified, tmp_path):
    out = tmp_path / "all.jsonl"
    assert main(["dedup", "-q", str(verified), "-o", str(out), "--keep-failed"]) == 0
    assert any(not r["verdict"]["passed"] for r in lines(out))


def test_stats_json_has_the_documented_keys(verified, tmp_path):
    target = tmp_path / "stats.json"
    assert main(["stats", "-q", str(verified), "--k", "1,2,3,5", "--json", str(target)]) == 0
    data = json.loads(target.read_text())
    assert {"tasks", "samples", "pass_at_k", "coverage", "status_counts"} <= set(data)
    assert set(data["pass_at_k"]) == {"1", "2", "3", "5"}
    assert data["pass_at_k"]["5"] is None and data["pass_at_k_not_computable"]["5"] == data["tasks"]
    source = lines(verified)
    assert data["samples"] == len(source) and data["tasks"] == len({r["task_id"] for r in source})
    assert data["pass_at_k"]["1"] == pytest.approx(sum(r["verdict"]["passed"] for r in source) / len(source))
    assert sum(data["status_counts"].values()) == len(source)


def test_stats_compare_and_duplicates_ratio(verified, tmp_path, capsys):
    curated = tmp_path / "curated.jsonl"
    assert main(["dedup", "-q", str(verified), "-o", str(curated)]) == 0
    capsys.readouterr()
    target = tmp_path / "s.json"
    assert main(["stats", str(verified), "--compare", str(curated), "--json", str(target)]) == 0
    out = capsys.readouterr().out
    assert "samples.verified.jsonl" in out and "curated.jsonl" in out and "pass@1" in out
    data = json.loads(target.read_text())
    assert data["compare"]["duplicates_ratio"] > 0 and data["duplicates_ratio"] is None


def test_html_is_self_contained(verified, tmp_path):
    page = tmp_path / "report.html"
    assert main(["stats", "-q", str(verified), "--html", str(page)]) == 0
    html = page.read_text()
    assert html.startswith("<!doctype html>") and html.count("<svg") == 4
    assert "<script" not in html and "http://" not in html and "https://" not in html and "<link" not in html


def test_stats_compare_a_curated_file_shows_the_yield(verified, tmp_path, capsys):
    curated = tmp_path / "curated.jsonl"
    assert main(["dedup", "-q", str(verified), "-o", str(curated)]) == 0
    capsys.readouterr()
    target, page = tmp_path / "s.json", tmp_path / "r.html"
    assert main(["stats", str(verified), "--compare", str(curated), "--json", str(target), "--html", str(page)]) == 0
    said = capsys.readouterr()
    source, kept, dropped = lines(verified), lines(curated), lines(tmp_path / "curated.dropped.jsonl")
    passing = sum(r["verdict"]["passed"] for r in source)
    data = json.loads(target.read_text())
    assert data["compare_kind"] == "curated" and "pass_at_k" not in data["compare"]
    made = data["yield"]
    assert (made["kept"], made["verified_passing"]) == (len(kept), passing)
    assert made["share"] == pytest.approx(len(kept) / passing)
    assert made["tasks_kept"] == len({r["task_id"] for r in kept})
    assert made["tasks"] - made["tasks_with_a_pass"] == len({r["task_id"] for r in source}
                                                            - {r["task_id"] for r in source if r["verdict"]["passed"]})
    assert made["dedup"]["dropped"] == dict(Counter(r["dedup_dropped"]["reason"] for r in dropped))
    assert sum(int(count) * tasks for count, tasks in made["tasks_by_kept"].items()) == len(kept)
    out = " ".join(said.out.split())
    assert re.search(rf"records kept │ {len(kept)} of {passing} passing samples", out)
    assert "pass@k of curated.jsonl not shown" in out and "pts" not in out
    assert "cover different tasks" not in said.out + said.err  # the yield says which tasks had nothing to keep
    html = page.read_text()
    assert "pts" not in html and f"{len(kept)} of {passing} passing samples" in html
    assert "exact duplicate " + str(made["dedup"]["dropped"]["exact_duplicate"]) in html


def test_stats_of_a_dedup_output_shows_its_drops_as_recorded(verified, tmp_path):
    curated = tmp_path / "curated.jsonl"
    assert main(["dedup", "-q", str(verified), "-o", str(curated)]) == 0
    reasons = dict(Counter(r["dedup_dropped"]["reason"] for r in lines(tmp_path / "curated.dropped.jsonl")))
    target, page = tmp_path / "s.json", tmp_path / "r.html"

    def shown() -> tuple[dict, str]:
        assert main(["stats", "-q", str(curated), "--json", str(target), "--html", str(page)]) == 0
        return json.loads(target.read_text())["dedup"], " ".join(page.read_text().split())

    drops, html = shown()
    assert drops["dropped"] == reasons and drops["from"] == "sidecar" and drops["read"] == len(lines(verified))
    assert f"exact duplicate {reasons['exact_duplicate']:,}" in html and "(from the sidecar)" in html
    curated.with_name(curated.name + ".meta.json").unlink()  # no sidecar: the dropped file says it
    drops, html = shown()
    assert drops["dropped"] == reasons and drops["from"] == "dropped file" and "(from the dropped file)" in html
    assert "No sidecar (.meta.json) next to curated.jsonl" in html
    (tmp_path / "curated.dropped.jsonl").unlink()  # neither: said so, nothing made up
    drops, html = shown()
    assert drops["dropped"] is None and "not recorded (no sidecar, no dropped file)" in html


def test_compare_note_is_said_once_and_only_with_the_tables(verified, tmp_path, capsys):
    source = lines(verified)
    other = write_jsonl(tmp_path / "half.jsonl", source[: len(source) // 2])  # failures kept: not curated
    assert main(["stats", "-q", str(verified), "--compare", str(other), "--html", str(tmp_path / "r.html")]) == 0
    assert "cover different tasks" not in capsys.readouterr().err
    assert "cover different tasks" in (tmp_path / "r.html").read_text()
    assert main(["stats", str(verified), "--compare", str(other)]) == 0
    said = capsys.readouterr()
    assert (said.out + said.err).count("cover different tasks") == 1 and "curation" not in said.out


def browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600", *args],
                          capture_output=True, text=True, timeout=120, check=True)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed (make install-system)")
def test_html_renders_in_a_real_browser(verified, tmp_path):
    from tests.stats.page_parts import assert_count_axis, read_page

    curated = tmp_path / "curated.jsonl"
    assert main(["dedup", "-q", str(verified), "-o", str(curated)]) == 0
    page, shot = tmp_path / "report.html", tmp_path / "report.png"
    assert main(["stats", "-q", str(verified), "--compare", str(curated), "--html", str(page)]) == 0
    browser(tmp_path, f"--screenshot={shot}", page.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a blank page is a few KB
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 1600)

    # what the browser built from the page, read as a reader would
    charts, text = read_page(browser(tmp_path, "--dump-dom", page.as_uri()).stdout)
    assert len(charts) == 5  # kept per task, pass rate, status, program length, CPU time
    for chart in charts:
        assert chart.titles.get("x") and chart.titles.get("y"), chart.label
        if chart.titles["y"] in ("tasks", "samples"):
            assert_count_axis(chart)
    cpu = next(chart for chart in charts if chart.titles["x"] == "CPU time (ms)")
    assert "log scale" in cpu.titles["y"] and cpu.y_ticks()[:3] == [0, 1, 10]
    status = next(chart for chart in charts if chart.titles["y"] == "status")
    assert all(value > 0 for _, value, _ in status.bars) and "0 (0.0%)" not in text

    source = lines(verified)
    failing = [r for r in source if not r["verdict"]["passed"]]
    first_wrong = next(r for r in failing if r["verdict"]["status"] == "wrong_answer")
    assert (f"{first_wrong['task_id']} · answer {first_wrong['verdict']['answer']} · gold {first_wrong['gold']}"
            in text)
    for status_name, _ in Counter(r["verdict"]["status"] for r in failing).most_common(3):
        assert f"{status_name} · " in text, status_name
    never = [t for t in dict.fromkeys(r["task_id"] for r in source)
             if not any(r["verdict"]["passed"] for r in source if r["task_id"] == t)]
    section = text.split("Tasks that never pass")[1]
    assert never and f"{len(never)} of " in section and all(task in section for task in never[:25])
    meta = json.loads(verified.with_name(verified.name + ".meta.json").read_text())
    provenance = text.split("Provenance")[1]
    assert f"sandbox policy {meta['policy']} {meta['policy']}" in provenance and "checker strict strict" in provenance
    assert "stages verify verify → dedup" in provenance


@pytest.mark.parametrize(("args", "message"), [
    (["dedup", "--threshold", "1.5"], "--threshold"),
    (["dedup", "--max-per-task", "0"], "--max-per-task"),
    (["stats", "--k", "1,x"], "--k takes"),
    (["stats", "--k", "0"], "positive"),
])
def test_bad_options_are_one_line(verified, tmp_path, capsys, args, message):
    command = [args[0], str(verified), *args[1:]]
    if args[0] == "dedup":
        command += ["-o", str(tmp_path / "x.jsonl")]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_file_without_verdicts_is_refused_unless_unverified(tmp_path, teacher_samples, capsys):
    source = write_jsonl(tmp_path / "raw.jsonl", teacher_samples[:12])
    assert main(["dedup", "-q", str(source)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no record has a verdict" in err and "--unverified" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw.jsonl"]  # nothing written
    assert main(["dedup", "-q", str(source), "--unverified"]) == 0
    kept = lines(tmp_path / "raw.curated.jsonl")
    dropped = lines(tmp_path / "raw.curated.dropped.jsonl") if (tmp_path / "raw.curated.dropped.jsonl").exists() else []
    assert kept and len(kept) + len(dropped) == 12


def test_dedup_progress_counts_each_line_once(tmp_path):
    import sys

    records = [{"task_id": f"t/{i % 3}", "completion": f"answer = {i}", "gold": i,
                "verdict": {"status": "pass", "passed": True}} for i in range(8)]
    done = subprocess.run([sys.executable, "-m", "ekt_curate", "dedup", str(write_jsonl(tmp_path / "v.jsonl", records))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if line.startswith("dedup: ")]
    assert progress and progress[-1].startswith("dedup: 8/8 lines"), progress
