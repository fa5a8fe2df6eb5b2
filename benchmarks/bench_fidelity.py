"""Fidelity: do our verdicts agree with the authors' own execution on other groups' program corpora?

    # 1. convert a fetched snapshot of a public repository into small fixtures (committed):
    python benchmarks/bench_fidelity.py convert --pot /path/to/wenhuchen+Program-of-Thoughts/repo
    # 2. verify every fixture and compare per-sample verdicts with the authors':
    python benchmarks/bench_fidelity.py run [--policy scientific]

Sources (each fixture line keeps its source's index, the authors' executed value and their verdict):
- Program-of-Thoughts (Chen et al. 2022), github.com/wenhuchen/Program-of-Thoughts at commit
  850399c (MIT licence, "Copyright (c) 2024 wenhu chen"): outputs/*.jsonl, the programs Codex
  generated, their executed value and the gold. The authors' verdict is recomputed here with their
  own rule (tool.py ``finqa_equal`` as outputs/compute_score.py calls it: both sides rounded to the
  fewer decimals of the two, strings compared exactly, ``None`` a miss).

Disagreements are sorted into classes by the ``classify`` rules below; the README's verify section
has the table and says who is right in each class.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

FIXTURES = Path(__file__).parent / "fidelity"
POT_COMMIT = "850399c"
# corpus -> (file in outputs/, how many samples to keep: the first N with a program)
POT_CORPORA = {
    "pot-gsm8k": ("gsm8K_s0_e-1_11_17_10_20.jsonl", 1319),
    "pot-svamp": ("svamp_s0_e-1_11_24_14_38.jsonl", 1000),
    "pot-multiarith": ("multiarith_zs_s0_e-1_11_19_20_12.jsonl", 600),
    "pot-tabmwp": ("tabmwp_s0_e-1_11_06_22_55.jsonl", 2000),
}


# --- the authors' scoring, reimplemented from their tool.py to record their verdict ---------------
def _pot_precision(value: float) -> int:
    return len(str(value).split(".")[-1]) if "." in str(value) else 5


def pot_equal(prediction: object, reference: object) -> bool:
    if prediction is None:
        return False
    if type(prediction) is bool:
        return reference == ("yes" if prediction else "no")
    if isinstance(reference, str) or isinstance(prediction, str):
        return prediction == reference
    try:
        precision = min(_pot_precision(prediction), _pot_precision(reference))  # type: ignore[arg-type]
        return round(prediction, precision) == round(reference, precision)  # type: ignore[call-overload]
    except Exception:  # noqa: BLE001 - as theirs: anything odd is a miss
        return False


def convert_pot(repo: Path) -> None:
    for corpus, (name, keep) in POT_CORPORA.items():
        text = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:outputs/{name}"], capture_output=True,
                              text=True, check=True).stdout
        rows = []
        for index, line in enumerate(text.splitlines()):
            record = json.loads(line)
            if "question" not in record or "answer" not in record:
                continue  # the demonstration line
            program = record["generated"]
            program = program[0] if isinstance(program, list) else program
            rows.append({"task_id": f"{corpus}/{index}", "code": program, "gold": record["answer"],
                         "theirs": {"executed": record["executed"], "passed": pot_equal(record["executed"],
                                                                                        record["answer"])}})
            if len(rows) == keep:
                break
        path = FIXTURES / f"{corpus}.jsonl"
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        print(f"{path}: {len(rows)} samples from outputs/{name}")


# --- comparing verdicts -------------------------------------------------------------------------
def classify(record: dict) -> str:
    """The class of one disagreement, from what each side saw."""
    ours, theirs = record["verdict"], record["theirs"]
    executed, gold = theirs["executed"], record["gold"]
    if theirs["passed"]:
        if ours["status"] not in ("pass", "wrong_answer"):
            return f"they pass, ours {ours['status']}: {str(ours.get('detail'))[:60]}"
        answer = ours.get("answer")
        if isinstance(answer, (int, float)) and answer < 0 and executed == -answer:
            return "they take abs() of a negative result (ours: wrong_answer)"
        if isinstance(executed, (int, float)) and isinstance(gold, (int, float)) and executed != gold:
            return "they pass by rounding both sides (ours: wrong_answer)"
        return "they pass, ours wrong_answer: other"
    if executed is None:
        return "their run failed, ours ran (they: no value)"
    if isinstance(gold, str) and isinstance(executed, (int, float)):
        return "text gold, numeric answer: they compare exactly (type mismatch), ours by the number grammar"
    if isinstance(gold, str):
        return "text gold: ours case-insensitive / whitespace-collapsed, theirs exact"
    return "they fail, ours pass: other"


def run(policy: str, corpora: list[str]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ekt_curate.stages.verify import VerifyConfig, run_verify

    table = []
    with tempfile.TemporaryDirectory() as tmp:
        for corpus in corpora:
            source = FIXTURES / f"{corpus}.jsonl"
            out = Path(tmp) / f"{corpus}.verified.jsonl"
            run_verify(VerifyConfig(input=source, output=out, policy=policy), warn=lambda message: None)
            records = [json.loads(line) for line in out.read_text().splitlines()]
            agree = sum(r["verdict"]["passed"] == r["theirs"]["passed"] for r in records)
            classes = Counter(classify(r) for r in records if r["verdict"]["passed"] != r["theirs"]["passed"])
            table.append((corpus, len(records), agree, classes))
            for record in [r for r in records if r["verdict"]["passed"] != r["theirs"]["passed"]][:8]:
                print(f"  {record['task_id']}: gold {record['gold']!r}, theirs {record['theirs']}, "
                      f"ours {record['verdict']['status']} {record['verdict']['answer']!r} "
                      f"{record['verdict']['detail'][:80]!r}")
    print("\n| corpus | samples | agreement | disagreements by class |\n|---|---|---|---|")
    for corpus, total, agree, classes in table:
        shown = "; ".join(f"{name}: {count}" for name, count in classes.most_common())
        print(f"| {corpus} | {total:,} | {100 * agree / total:.1f}% | {shown or '-'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    convert = sub.add_parser("convert", help="build the fixtures from fetched snapshots")
    convert.add_argument("--pot", type=Path, required=True, help="a clone of wenhuchen/Program-of-Thoughts")
    bench = sub.add_parser("run", help="verify the fixtures and compare verdicts")
    bench.add_argument("--policy", default="scientific", help="sandbox policy (their programs import numpy)")
    bench.add_argument("--corpus", action="append", help="only these corpora (default: all)")
    args = parser.parse_args()
    if args.command == "convert":
        FIXTURES.mkdir(exist_ok=True)
        convert_pot(args.pot)
    else:
        run(args.policy, args.corpus or list(POT_CORPORA))


if __name__ == "__main__":
    main()
