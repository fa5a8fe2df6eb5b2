"""A code sample's sandbox results and its tests -> the verdict, with its cases.

The statuses are the answer checks' own: ``pass`` (every case passed), ``wrong_answer`` (a
case's output or assertion was wrong), ``runtime_error``, ``timeout``, ``syntax_error`` and the
sandbox's other failures, the first failing case deciding. The verdict adds
``cases: {passed, total}`` and ``first_failure: {case, status, detail, expected, got}`` (bounded
excerpts). Stopping at the first failure (the default), ``passed`` counts the cases before it;
with every case run, all that passed.
"""

from __future__ import annotations

from typing import Any

from ekt_curate.judge.code_tests import CodeTests
from ekt_curate.judge.output_match import excerpt, output_matches, value_matches
from ekt_curate.judge.verdict import DETAIL_CHARS, stderr_excerpt
from ekt_curate.judgement import clean_text
from ekt_curate.sandbox import Status
from ekt_curate.sandbox.values import NotTransferable, decode


def case_verdict(tests: CodeTests, results: list[Any], compare: str, all_cases: bool) -> dict[str, object]:
    """``results``: the one harness result (asserts, calls), or one per stdin case run, in order."""
    first = results[0]
    if tests.kind != "stdio" and (first.status is not Status.OK or (first.cases is None and first.returns is None)):
        return _program_failed(first, len(tests))
    outcomes = _outcomes(tests, results, compare)
    failures = [i for i, outcome in enumerate(outcomes) if outcome[0] != "pass"]
    run_all = all_cases or not failures
    passed = sum(1 for outcome in (outcomes if run_all else outcomes[:failures[0]]) if outcome[0] == "pass")
    verdict: dict[str, object] = {"passed": not failures and len(outcomes) == len(tests), "answer": None,
                                  "cases": {"passed": passed, "total": len(tests)},
                                  "cpu_ms": round(sum(r.cpu_ms for r in results), 1),
                                  "wall_ms": round(sum(r.wall_ms for r in results), 1)}
    if verdict["passed"]:
        return {"status": "pass", **verdict, "detail": ""}
    if not failures:  # fewer outcomes than cases, none failing: a harness that stopped short
        return {"status": "sandbox_error", **verdict, "detail": "the harness ran fewer cases than the tests hold"}
    index = failures[0]
    status, detail, expected, got, result = outcomes[index]
    failure: dict[str, object] = {"case": index, "status": status, "detail": clean_text(detail, DETAIL_CHARS)}
    if expected is not None:
        failure.update(expected=excerpt(expected), got=excerpt(got))
    return {"status": status, **verdict, "detail": f"case {index + 1} of {len(tests)}: {failure['detail']}",
            "first_failure": failure, "stderr": stderr_excerpt(result.stderr_tail)}


def _outcomes(tests: CodeTests, results: list[Any], compare: str) -> list[tuple[str, str, Any, Any, Any]]:
    """(status, detail, expected, got, result) per case run, in order."""
    if tests.kind == "asserts":
        return [(status, detail, None, None, results[0]) for status, detail in results[0].cases]
    if tests.kind == "calls":
        outcomes = []
        for index, (status, text) in enumerate(results[0].returns):
            expected = tests.cases[index][1]
            if status != "ok":
                outcomes.append((status, text, None, None, results[0]))
                continue
            try:
                got = decode(text, hashed=False)  # never hashed here: see values.Unhashed
            except NotTransferable as exc:
                outcomes.append(("wrong_answer", f"the return value is not plain data: {exc}", None, None, results[0]))
                continue
            right = value_matches(got, expected, apps=tests.source == "apps")
            outcomes.append(("pass" if right else "wrong_answer", "" if right else "returned a different value",
                             None if right else expected, got, results[0]))
        return outcomes
    outcomes = []
    for (stdin, expected), result in zip(tests.cases, results):
        if result.status is not Status.OK:
            outcomes.append((result.status.value, result.detail, None, None, result))
        elif tests.checker:  # the harness ran the dataset's checker on the output
            status, detail = result.cases[0] if result.cases else ("sandbox_error", "no checker verdict")
            outcomes.append((status, detail, None, None, result))
        elif output_matches(result.stdout or "", expected, compare):
            outcomes.append(("pass", "", None, None, result))
        else:
            outcomes.append(("wrong_answer", "printed a different output", expected, result.stdout or "", result))
    return outcomes


def _program_failed(result: Any, total: int) -> dict[str, object]:
    """The program itself failed (it did not compile, its top level raised or timed out)."""
    return {"status": result.status.value if result.status is not Status.OK else "no_answer", "passed": False,
            "answer": None, "cases": {"passed": 0, "total": total},
            "detail": clean_text(result.detail or "", DETAIL_CHARS), "cpu_ms": round(result.cpu_ms, 1),
            "wall_ms": round(result.wall_ms, 1), "stderr": stderr_excerpt(result.stderr_tail)}
