"""stats on code verdicts: pass@k as for answers, failures grouped by the failing case's cause."""

from __future__ import annotations

import json

from ekt_curate.stats.collect import collect


def verdict(passed: bool, status: str, detail: str = "") -> dict:
    v = {"status": status, "passed": passed, "answer": None, "detail": "", "cases": {"passed": 0, "total": 3}}
    if not passed:
        v["detail"] = f"case 2 of 3: {detail}"
        v["first_failure"] = {"case": 1, "status": status, "detail": detail}
    return v


def test_failures_group_by_cause_whatever_the_case(tmp_path):
    rows = [{"task_id": "a", "completion": "x", "verdict": verdict(True, "pass")},
            {"task_id": "a", "completion": "x", "verdict": verdict(False, "runtime_error", "TypeError: bad")},
            {"task_id": "b", "completion": "y", "verdict": {**verdict(False, "runtime_error", "TypeError: worse"),
                                                            "detail": "case 3 of 3: TypeError: worse"}},
            {"task_id": "b", "completion": "z", "verdict": verdict(False, "wrong_answer", "assertion failed")}]
    path = tmp_path / "v.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    stats = collect(path, ks=(1, 2))
    assert stats.failure_details == {"runtime_error": {"TypeError": 2}, "wrong_answer": {"wrong answer": 1}}
    assert stats.per_task == {"a": [2, 1], "b": [2, 0]}
