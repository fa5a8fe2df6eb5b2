"""Reflexion's GPT-4 programs for HumanEval and MBPP, with the authors' own pass/fail (issue 18).

Source: github.com/noahshinn/reflexion at commit 218cf0e (MIT licence, "Copyright (c) 2023 Noah
Shinn"): programming_runs/root/simple_human_eval_py_logging/ (164 HumanEval programs) and
programming_runs/root/simple_mbpp_py/ (397 MBPP programs in MultiPL-E's HumanEval-style form:
``test`` defines ``check(candidate)``), GPT-4 one attempt each ("simple"), every record with the
program as written (``solution``) and ``is_solved``, the authors' verdict.

How they run and score (programming_runs/executors/py_executor.py, ``PyExecutor.evaluate``): the
program, the test and ``check(entry_point)`` are ``exec``'d in one process, in the executor
module's ``globals()``, shared by every sample of the run, under a thread timeout of 10 s; no
exception is a pass. We run each sample alone (prompt-less: their program is the whole function)
as the HumanEval shape, ``test`` + ``check(entry_point)``, in the sandbox's test harness.

Because their namespace is shared, what an earlier sample defined is still there for the later
ones: the converter records, from the programs' text alone (``ast``), which names a sample uses
that an earlier sample of the run defined or imported at its top level, so ``classify`` can tell
that class of disagreement from the others.
"""

from __future__ import annotations

import ast
import builtins
import json
import subprocess
from pathlib import Path

from fidelity_fixtures import MAX_FIXTURE_BYTES, write_fixture

COMMIT = "218cf0e"
CORPORA = {
    "reflexion-humaneval": "programming_runs/root/simple_human_eval_py_logging/"
                           "humaneval-py..gz_simple_1_gpt-4_pass_at_k_1_py.jsonl",
    "reflexion-mbpp": "programming_runs/root/simple_mbpp_py/mbpp-py._simple_1_gpt-4_pass_at_k_1_py.jsonl",
}


def settings(corpus: str) -> dict[str, object]:
    return {}


def _top_level_names(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _used_names(code: str) -> set[str]:
    try:
        return {node.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name)}
    except SyntaxError:
        return set()


def convert(repo: Path) -> None:
    for corpus, path in CORPORA.items():
        text = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{path}"], capture_output=True, text=True,
                              check=True).stdout
        rows, defined_before = [], {}  # name -> the first earlier task that defined it
        for line in filter(str.strip, text.splitlines()):
            record = json.loads(line)
            task = record.get("task_id") or record["name"]
            own = _top_level_names(record["solution"])
            used = _used_names(record["solution"] + "\n" + record["test"])
            leaked = sorted(name for name in used - own if name in defined_before)
            rows.append({"task_id": task, "test": record["test"], "entry_point": record["entry_point"],
                         "completion": record["solution"], "earlier_definitions_used": leaked,
                         "theirs": {"passed": record["is_solved"] in (True, "True")}})
            for name in own:
                defined_before.setdefault(name, task)
        written = write_fixture(corpus, rows, MAX_FIXTURE_BYTES)
        print(f"{corpus}: {written[1]} programs, {written[2]:,} bytes")


def classify(record: dict) -> str:
    ours, theirs = record["verdict"], record["theirs"]["passed"]
    leaked = record.get("earlier_definitions_used") or []
    shadowing = [name for name in leaked if hasattr(builtins, name)]
    if not theirs and ours["passed"] and shadowing:
        return (f"their shared namespace: an earlier sample's def {shadowing[0]} replaced the builtin "
                "(ours: each sample alone, pass)")
    if theirs and not ours["passed"] and "NameError" in ours["detail"] and leaked:
        return (f"their shared namespace: an earlier sample's import {leaked[0]} made a missing import work "
                f"(ours: {ours['status']})")
    return f"they {'pass' if theirs else 'fail'}, ours {ours['status']}: {ours['detail'][:60]}"
