"""Faithful-COT's published programs as fidelity fixtures, and the authors' own scoring.

Source: github.com/veronica320/Faithful-COT at commit 3017843 (MIT licence, "Copyright (c) 2023
Qing Lyu"): output_dir/<dataset>/test/code002_NL+SL/predictions.jsonl, the Faithful CoT programs
Codex (code-davinci-002) wrote, greedy, one per problem, with ``answer``: the value their solver
got by executing the program; golds from data/<dataset>/test.jsonl.

How they ran and scored (source/model/codex.py, source/model/solver/MWP/math_solver.py,
source/dataset/utils.py, source/evaluate/evaluate_answer_acc.py):
- math word problems: ``exec(prefix + program)`` where the prefix (solver/MWP/prefix.txt, kept
  here as faithful-cot-prelude.py) imports sympy and ``from math import *``; the answer is the
  global ``answer``, as ``str()``, its last line; any exception is ``[invalid]``;
- their score takes the first number in that text, **truncates it with int() and takes abs()**,
  and compares it with the gold read as an int (``3.9`` passes gold 3, ``-4`` passes gold 4);
- date understanding: ``exec(program)`` capturing stdout; the last line, trailing ``Y`` stripped,
  compared as a string with the gold (``05/01/2021``).
Our side runs the same program with the same prelude (``--answer var:answer``; ``stdout`` for
dates) and judges by our rules; ``theirs.executed`` is their solver's value as they stored it.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

from fidelity_fixtures import FIXTURES, MAX_FIXTURE_BYTES, write_fixture

COMMIT = "3017843"
MODEL = "code002_NL+SL"
CORPORA = {  # corpus -> their dataset folder
    "fcot-gsm8k": "GSM8K",
    "fcot-svamp": "SVAMP",
    "fcot-multiarith": "MultiArith",
    "fcot-asdiv": "ASDiv",
    "fcot-date": "date",
}
PRELUDE = FIXTURES / "faithful-cot-prelude.py"
INVALID = "[invalid]"


def settings(corpus: str) -> dict[str, object]:
    """The verify options that run their programs as their solver did."""
    if corpus == "fcot-date":
        return {"answer": "stdout"}
    return {"answer": "var:answer", "prelude": PRELUDE}


# --- their scoring (source/dataset/utils.py), reimplemented to record their verdict --------------
def _str2num(text: str) -> int:
    if "/" in text:
        text = str(float(sum(Fraction(part) for part in text.split())))
    return abs(int(float(text)))  # their rounding="int", abs_val=True


def _pred_mwp(answer: str, dataset: str) -> object:
    if INVALID in answer:
        return INVALID
    if dataset == "ASDiv":  # a tuple answer counts its values; one value is that value
        values = []
        for part in answer.lstrip("{([").rstrip("]})").split(","):
            try:
                values.append(_str2num(part.strip().split(":")[-1].strip("'\"")))
            except (ValueError, ZeroDivisionError):
                continue
        return dict(Counter(values)) if len(values) > 1 else (values[0] if values else INVALID)
    match = re.search(r"(\-?[0-9\.\,]+)", answer)
    if not match:
        return INVALID
    try:
        return _str2num(match.group(1).strip().replace(",", ""))
    except (ValueError, ZeroDivisionError, OverflowError):
        return INVALID


def their_passed(dataset: str, answer: str, gold: str) -> bool:
    if dataset == "date":
        return answer == gold
    return _pred_mwp(answer, dataset) == int(gold)


def _gold(dataset: str, text: object) -> str | None:
    """The gold as they read it; None for ASDiv's multi-value golds (a tuple: not one answer)."""
    if isinstance(text, list):
        return None
    if dataset in ("GSM8K", "SVAMP", "MultiArith"):
        match = re.search(r"#### (\-?[0-9\.\,]+)", text)
        return str(int(match.group(1).strip().replace(",", ""))) if match else None
    if dataset == "date":
        return text.split("#### ")[-1]
    return str(int(text))


def _postprocess(answer: object, dataset: str) -> str:
    """codex.py postprocess_answer: str(), strip, last line (and date's trailing Ys)."""
    text = str(answer).strip().split("\n")[-1]
    return text.rstrip("Y") if dataset == "date" else text


def convert(repo: Path) -> None:
    def show(path: str) -> str:
        return subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{path}"], capture_output=True, text=True,
                              check=True).stdout

    for corpus, dataset in CORPORA.items():
        golds = {int(r["id"]): r["answer"] for r in map(json.loads, filter(str.strip, show(
            f"data/{dataset}/test.jsonl").splitlines()))}
        skipped = []  # tasks whose gold has several values, among the records read

        def rows(dataset: str = dataset, corpus: str = corpus, golds: dict = golds) -> Iterator[dict]:
            for line in filter(str.strip, show(f"output_dir/{dataset}/test/{MODEL}/predictions.jsonl").splitlines()):
                record = json.loads(line)
                gold = _gold(dataset, golds[int(record["id"])])
                if gold is None:
                    skipped.append(record["id"])
                    continue
                answer = _postprocess(record["answer"], dataset)
                yield {"task_id": f"{corpus}/{record['id']}", "code": record["completion"].rstrip("#"), "gold": gold,
                       "theirs": {"executed": answer, "passed": their_passed(dataset, answer, gold)}}

        path, count, size = write_fixture(corpus, rows(), MAX_FIXTURE_BYTES)
        print(f"{path}: {count} samples ({size:,} bytes) from output_dir/{dataset}/test/{MODEL}"
              + (f"; {len(skipped)} multi-value golds left out" if skipped else ""))
    PRELUDE.write_text("# Faithful-COT's solver prefix (source/model/solver/MWP/prefix.txt, commit "
                       f"{COMMIT}, MIT licence,\n# Copyright (c) 2023 Qing Lyu): run before each of their "
                       "math word problem programs.\n" + show("source/model/solver/MWP/prefix.txt"))


def classify(record: dict) -> str:
    """The class of one disagreement between their verdict and ours."""
    ours, theirs = record["verdict"], record["theirs"]
    executed, gold = theirs["executed"], record["gold"]
    if theirs["passed"]:
        if ours["status"] not in ("pass", "wrong_answer"):
            return f"they pass, ours {ours['status']}: {str(ours.get('detail'))[:60]}"
        answer = ours.get("answer")
        if isinstance(answer, str) and answer.rstrip("Y") == executed != answer:
            return "they strip trailing 'Y's from the printed date (ours: wrong_answer)"
        try:
            value = float(executed)
        except ValueError:
            return "they pass, ours wrong_answer: other"
        if value < 0 and math.isclose(-value, float(gold)):
            return "they take abs() of a negative result (ours: wrong_answer)"
        if value != float(gold):
            # ASDiv's "how many full bags" questions: the gold is the floor, the program returns the quotient
            return "they truncate with int(), so a non-integral result (8.25) passes its floor (8) (ours: wrong_answer)"
        return "they pass, ours wrong_answer: other"
    if INVALID in executed:
        return f"their run failed ([invalid]), ours {ours['status']}"
    try:
        value = float(executed)
    except ValueError:
        return "they fail, ours pass: other"
    if int(gold) < 0 and value == float(gold):
        return "they take abs() of the result, so a negative gold can never pass (ours: pass)"
    if value != int(value) and round(value) == int(gold):
        return "their int() truncates float noise (2.9999999999999996 -> 2) (ours: pass, snapped to 3)"
    return "they fail, ours pass: other"
