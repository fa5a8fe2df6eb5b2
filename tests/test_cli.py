"""The command-line boundary: help stays light, the demo runs, errors are one line."""

from __future__ import annotations

import json
import re
import subprocess
import sys


def test_help_imports_nothing_heavy():
    code = ("import sys\nfrom ekt_curate.cli import main\ntry:\n    main(['verify', '--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('rich', 'torch', 'transformers', 'trl', 'datasets', 'datasketch', "
            "'ekt_curate.sandbox.executor', 'ekt_curate.stages.verify') if m in sys.modules]\n"
            "print('HEAVY', heavy, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "usage: ekt-curate verify" in done.stdout and "--resume" in done.stdout
    assert "HEAVY []" in done.stderr


def test_version_and_commands_listed():
    done = subprocess.run([sys.executable, "-m", "ekt_curate", "--help"], capture_output=True, text=True, check=True)
    for command in ("verify", "merge", "demo"):
        assert command in done.stdout


def test_demo_runs_end_to_end(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ekt_curate", "demo", "--problems", "12", "--samples", "2",
                           "--no-train", "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "[1/7] sample: running" in done.stdout and "[5/7] publish: running" in done.stdout
    samples = (tmp_path / "samples.jsonl").read_text().splitlines()
    verified = [json.loads(line) for line in (tmp_path / "samples.verified.jsonl").read_text().splitlines()]
    assert len(verified) == len(samples) > 0
    assert any(record["verdict"]["passed"] for record in verified)
    used = re.search(r"(\d+) used\)", done.stdout.splitlines()[0])  # the header says how many problems are sampled
    assert len({json.loads(line)["task_id"] for line in samples}) == (int(used.group(1)) if used else 12)
    assert (tmp_path / "report.html").exists() and (tmp_path / "gsm8k-ekt-demo" / "README.md").exists()


def test_merge_errors_are_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ekt_curate", "merge", str(tmp_path / "none.jsonl"), "-o",
                           str(tmp_path / "m.jsonl")], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "no such file" in done.stderr


def test_cli_defaults_are_the_stage_configs():
    """One source of defaults: an option's default is its stage config's (which the pipeline YAML also reads)."""
    import argparse
    import dataclasses

    from ekt_curate.cli import build_parser
    from ekt_curate.stages.dedup import DedupConfig
    from ekt_curate.stages.evaluate import EvalConfig
    from ekt_curate.stages.publish import PublishConfig
    from ekt_curate.stages.sample import SampleConfig
    from ekt_curate.stages.train import TrainConfig
    from ekt_curate.stages.verify import VerifyConfig

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    configs = {"sample": SampleConfig, "verify": VerifyConfig, "dedup": DedupConfig, "publish": PublishConfig,
               "train": TrainConfig, "eval": EvalConfig}
    renamed = {"policy": "verify_policy"}
    compared = 0
    for command, config in configs.items():
        defaults = {f.name: f.default for f in dataclasses.fields(config) if f.default is not dataclasses.MISSING}
        for action in commands[command]._actions:
            name = renamed.get(action.dest, action.dest) if command == "sample" else action.dest
            name = "ks" if command == "eval" and name == "k" else name
            if name in defaults and action.default not in (None, False, [], argparse.SUPPRESS):
                value = action.default
                if name == "ks":
                    value = tuple(int(k) for k in value.split(","))
                assert value == defaults[name], (command, action.dest, value, defaults[name])
                compared += 1
    assert compared > 20


COMMANDS = ("sample", "verify", "merge", "dedup", "stats", "publish", "train", "eval", "expert-iteration", "run", "serve", "demo")


def test_a_mistyped_flag_prints_that_commands_usage():
    for command in COMMANDS:
        done = subprocess.run([sys.executable, "-m", "ekt_curate", command, "--no-such-flag"], capture_output=True,
                              text=True)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.startswith(f"usage: ekt-curate {command} "), done.stderr
        assert f"ekt-curate {command}: error: " in done.stderr and "Traceback" not in done.stderr


def test_a_near_miss_flag_gets_a_suggestion():
    done = subprocess.run([sys.executable, "-m", "ekt_curate", "verify", "x.jsonl", "--wrokers", "2"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.rstrip().endswith("unrecognized arguments: --wrokers 2; did you mean --workers?")
    done = subprocess.run([sys.executable, "-m", "ekt_curate", "verify", "x.jsonl", "--zzzz"], capture_output=True, text=True)
    assert "did you mean" not in done.stderr


def test_help_lists_only_the_exit_codes_that_apply():
    def codes(command: str) -> set[int]:
        import re

        text = subprocess.run([sys.executable, "-m", "ekt_curate", command, "--help"], capture_output=True, text=True,
                              check=True, env={**__import__("os").environ, "COLUMNS": "1000"}).stdout
        listed = " ".join(text.split("exit codes:")[1].split())
        return {int(code) for code in re.findall(r"(?:^|; )(\d+) ", listed)}

    expected = {"verify": {1, 3, 4, 5}, "merge": {5}, "dedup": {4, 5}, "stats": {4}, "publish": {4},
                "sample": {3, 4, 5}, "train": {4}, "eval": {3, 4, 5}, "expert-iteration": {3, 4, 5},
                "run": {3, 4, 5}, "demo": {3, 5}}
    for command, own in expected.items():
        assert codes(command) == {0, 2, 130, 143} | own, command


def test_flags_that_would_do_nothing_are_errors(tmp_path):
    """A flag the command would ignore is one line and exit 2, before anything is written."""
    cases = [
        (["sample", "--model", "m", "--policy", "strict"], "--policy has no effect without --verify"),
        (["sample", "--model", "m", "--workers", "2"], "--workers has no effect without --verify"),
        (["sample", "--model", "m", "--backend", "openai", "--base-url", "http://h/v1", "--batch-size", "4"],
         "--batch-size has no effect with --backend openai"),
        (["sample", "--model", "m", "--concurrency", "3"], "--concurrency has no effect with --backend transformers"),
        (["sample", "--model", "m", "--engine-arg", "max_model_len=64"], "--engine-arg has no effect with --backend"),
        (["eval", "--model", "m", "--greedy", "-n", "5"], "-n has no effect with --greedy"),
        (["eval", "--model", "m", "--greedy", "--k", "1,5"], "--k has no effect with --greedy"),
        (["train", "--dataset", "d", "--model", "m", "--teacher", "t"], "--teacher only applies with --method kd"),
        (["train", "--dataset", "d", "--model", "m", "--kd-beta", "0.5"], "--kd-beta only applies with --method kd"),
        (["train", "--dataset", "d", "--model", "m", "--method", "kd", "--teacher", "t", "--kd-beta", "2"],
         "--kd-beta must be in [0, 1]"),
    ]
    for argv, expected in cases:
        if argv[0] == "sample":
            argv = [*argv, "-o", str(tmp_path / "s.jsonl")]
        if argv[0] == "train":
            argv = [*argv, "--output-dir", str(tmp_path / "run")]
        done = subprocess.run([sys.executable, "-m", "ekt_curate", *argv], capture_output=True, text=True,
                              cwd=tmp_path)
        assert done.returncode == 2, (argv, done.stderr)
        assert done.stderr == f"ekt-curate: error: {expected}" + done.stderr.split(expected, 1)[1], done.stderr
        assert done.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
