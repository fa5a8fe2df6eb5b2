"""dedup and stats end to end, on a file verify really produced."""

from __future__ import annotations

import json
import shutil
import subprocess
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


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed (make install-system)")
def test_html_renders_in_a_real_browser(verified, tmp_path):
    curated = tmp_path / "curated.jsonl"
    assert main(["dedup", "-q", str(verified), "-o", str(curated)]) == 0
    page, shot = tmp_path / "report.html", tmp_path / "report.png"
    assert main(["stats", "-q", str(verified), "--compare", str(curated), "--html", str(page)]) == 0
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600",
                    f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a blank page is a few KB
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 1600)


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
