"""Fidelity: do our verdicts agree with the authors' own execution on other groups' program corpora?

    # 1. convert a fetched snapshot of a public repository into small fixtures (committed):
    python benchmarks/bench_fidelity.py convert --pot /path/to/wenhuchen+Program-of-Thoughts/repo \
        --faithful-cot /path/to/veronica320+Faithful-COT/repo --pal /path/to/reasoning-machines+pal/repo \
        --reflexion /path/to/noahshinn+reflexion/repo
    # 2. verify every fixture and compare per-sample verdicts with the authors':
    python benchmarks/bench_fidelity.py run [--policy scientific]

Sources (each fixture line keeps its source's index, the authors' executed value and their verdict):
- Program-of-Thoughts (Chen et al. 2022), github.com/wenhuchen/Program-of-Thoughts at commit
  850399c (MIT licence, "Copyright (c) 2024 wenhu chen"): outputs/*.jsonl, the programs Codex
  generated, their executed value and the gold. The authors' verdict is recomputed here with their
  own rule (tool.py ``finqa_equal`` as outputs/compute_score.py calls it: both sides rounded to the
  fewer decimals of the two, strings compared exactly, ``None`` a miss).
- Faithful-COT (Lyu et al. 2023), commit 3017843 (MIT): benchmarks/fidelity_faithful_cot.py.
- gsm-hard with PAL's programs (Gao et al. 2022), reasoning-machines/pal commit f81ca2a (Apache-2.0):
  benchmarks/fidelity_gsm_hard.py.
- Reflexion's GPT-4 HumanEval and MBPP programs, judged by tests (Shinn et al. 2023),
  noahshinn/reflexion commit 218cf0e (MIT): benchmarks/fidelity_reflexion.py.
Each source module has ``CORPORA``/``CORPUS``, ``convert``, ``settings`` (the verify options that run
its programs as its authors did) and ``classify``.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the source modules beside this file
import fidelity_faithful_cot  # noqa: E402
import fidelity_gsm_hard  # noqa: E402
import fidelity_reflexion  # noqa: E402
from fidelity_fixtures import FIXTURES, write_fixture  # noqa: E402
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
        path, count, _ = write_fixture(corpus, rows)
        print(f"{path}: {count} samples from outputs/{name}")


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


def source_of(corpus: str):
    """The module that converted a corpus (None: Program-of-Thoughts, in this file)."""
    if corpus in fidelity_faithful_cot.CORPORA:
        return fidelity_faithful_cot
    if corpus == fidelity_gsm_hard.CORPUS:
        return fidelity_gsm_hard
    if corpus in fidelity_reflexion.CORPORA:
        return fidelity_reflexion
    return None


ALL_CORPORA = [*POT_CORPORA, *fidelity_faithful_cot.CORPORA, fidelity_gsm_hard.CORPUS, *fidelity_reflexion.CORPORA]


def run(policy: str, corpora: list[str], keep: Path | None = None) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ekt_curate.stages.verify import VerifyConfig, run_verify

    table = []
    with tempfile.TemporaryDirectory() as tmp:
        for corpus in corpora:
            source = FIXTURES / f"{corpus}.jsonl"
            out = (keep or Path(tmp)) / f"{corpus}.verified.jsonl"
            out.unlink(missing_ok=True)
            source_module = source_of(corpus)
            options = source_module.settings(corpus) if source_module else {}
            run_verify(VerifyConfig(input=source, output=out, policy=policy, **options), warn=lambda message: None)
            classify_one = source_module.classify if source_module else classify
            records = [json.loads(line) for line in out.read_text().splitlines()]
            agree = sum(r["verdict"]["passed"] == r["theirs"]["passed"] for r in records)
            classes = Counter(classify_one(r) for r in records if r["verdict"]["passed"] != r["theirs"]["passed"])
            table.append((corpus, len(records), agree, classes))
            for record in [r for r in records if r["verdict"]["passed"] != r["theirs"]["passed"]][:8]:
                print(f"  {record['task_id']}: gold {record.get('gold', '(tests)')!r}, theirs {record['theirs']}, "
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
    convert.add_argument("--pot", type=Path, help="a clone of wenhuchen/Program-of-Thoughts")
    convert.add_argument("--faithful-cot", type=Path, help="a clone of veronica320/Faithful-COT")
    convert.add_argument("--pal", type=Path, help="a clone of reasoning-machines/pal (gsm-hard)")
    convert.add_argument("--reflexion", type=Path, help="a clone of noahshinn/reflexion (HumanEval, MBPP code)")
    bench = sub.add_parser("run", help="verify the fixtures and compare verdicts")
    bench.add_argument("--policy", default="scientific", help="sandbox policy (their programs import numpy)")
    bench.add_argument("--corpus", action="append", choices=ALL_CORPORA, help="only these corpora (default: all)")
    bench.add_argument("--keep", type=Path, help="keep the verified files in this folder, to read every disagreement")
    args = parser.parse_args()
    if args.command == "convert":
        FIXTURES.mkdir(exist_ok=True)
        if args.pot:
            convert_pot(args.pot)
        if args.faithful_cot:
            fidelity_faithful_cot.convert(args.faithful_cot)
        if args.pal:
            fidelity_gsm_hard.convert(args.pal)
        if args.reflexion:
            fidelity_reflexion.convert(args.reflexion)
    else:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
        run(args.policy, args.corpus or ALL_CORPORA, args.keep)


if __name__ == "__main__":
    main()
