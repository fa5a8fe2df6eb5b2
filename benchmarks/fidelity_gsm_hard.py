"""gsm-hard (PAL's programs with their numbers made large) as a fidelity fixture, and PAL's scoring.

Source: github.com/reasoning-machines/pal at commit f81ca2a (Apache License 2.0, "Copyright 2022
PAL Authors"): datasets/gsmhardv2.jsonl, 1,319 GSM8K test problems whose numbers were replaced by
larger ones, each with the PAL program (``def solution(): ...``) and ``target``, the gold. Golds
are floats here (``-9867630.0``, ``2.0107e-06``), so this corpus exercises float golds,
negative and huge results and scientific notation, which GSM8K's integers never do.

How PAL runs and scores (pal/core/interface.py, pal/core/runtime.py, scripts/gsm_eval.py): ``exec``
the program, ``eval("solution()")`` under a 10 s alarm, ``float()`` of the value, and a pass when
``abs(answer - target) < 1e-3``: an **absolute** tolerance, so a gold of 2.0107e-06 is met by any
answer below 0.001 (0 included), and a gold of 1e9 needs nine significant digits.
The authors publish no executed values for these programs, so the converter runs each one the
way PAL's runtime does (``exec`` + ``solution()`` + ``float()``), in a child process with CPU,
memory, file-size and time limits (they are arithmetic on constants, published with the data
set), and records that value and PAL's verdict.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from fidelity_fixtures import MAX_FIXTURE_BYTES, write_fixture

COMMIT = "f81ca2a"
CORPUS = "gsm-hard"

# PAL's runtime, as a child: one program on stdin, its float(solution()) (or the error) on stdout.
_RUNNER = r"""
import json, sys
code = sys.stdin.read()
try:
    scope = {}
    exec(code, scope)
    value = float(eval("solution()", scope))
    print(json.dumps({"executed": value if value == value and abs(value) != float("inf") else repr(value)}))
except BaseException as error:
    print(json.dumps({"executed": None, "error": type(error).__name__}))
"""


def settings(corpus: str) -> dict[str, object]:
    return {"answer": "solution"}


def pal_passed(executed: object, target: float) -> bool:
    return isinstance(executed, float) and abs(executed - target) < 1e-3


def _confine() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (5, 5))
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _execute(code: str) -> dict:
    try:
        done = subprocess.run([sys.executable, "-I", "-c", _RUNNER], input=code, capture_output=True, text=True,
                              timeout=10, preexec_fn=_confine, cwd="/", env={})
        return json.loads(done.stdout) if done.stdout.strip() else {"executed": None, "error": "killed"}
    except subprocess.TimeoutExpired:
        return {"executed": None, "error": "timeout"}


def convert(repo: Path) -> None:
    text = subprocess.run(["git", "-C", str(repo), "show", "HEAD:datasets/gsmhardv2.jsonl"], capture_output=True,
                          text=True, check=True).stdout

    def rows() -> Iterator[dict]:  # lazy: programs past the size limit are never run
        for index, line in enumerate(filter(str.strip, text.splitlines())):
            record = json.loads(line)
            ran = _execute(record["code"])
            yield {"task_id": f"{CORPUS}/{index}", "code": record["code"], "gold": record["target"],
                   "theirs": {**ran, "passed": pal_passed(ran["executed"], record["target"])}}

    path, count, size = write_fixture(CORPUS, rows(), MAX_FIXTURE_BYTES)
    print(f"{path}: {count} samples ({size:,} bytes) from datasets/gsmhardv2.jsonl")


def classify(record: dict) -> str:
    ours, theirs = record["verdict"], record["theirs"]
    executed, gold = theirs["executed"], record["gold"]
    if theirs["passed"]:
        if ours["status"] not in ("pass", "wrong_answer"):
            return f"they pass, ours {ours['status']}: {str(ours.get('detail'))[:60]}"
        if float(gold) != int(float(gold)) or abs(float(gold)) < 1e-3:
            return "their absolute tolerance 1e-3 passes a different non-integral value (ours: wrong_answer)"
        return f"they pass (|answer - gold| < 1e-3), ours wrong_answer: answer {ours.get('answer')!r}"
    if executed is None:
        return f"their run failed ({theirs.get('error')}), ours {ours['status']}"
    return f"they fail, ours pass: executed {executed!r}, gold {gold!r}"
