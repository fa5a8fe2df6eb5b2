"""`ekt-curate run`: the whole chain on a few problems, skipping what is done, redoing what changed."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ekt_curate.cli import main
from ekt_curate.stages.pipeline import load_pipeline, run_pipeline

PIPELINE = """workdir: work
problems: gsm8k:train
limit: 8
teacher: {{backend: annotations, n: 3}}
verify: {{policy: {policy}, workers: 2}}
dedup: {{threshold: {threshold}}}
stats: {{k: [1, 3]}}
publish: {{name: tiny-set}}
train:
  model: {model}
  config: {{num_train_epochs: 1, per_device_train_batch_size: 8, gradient_accumulation_steps: 1, save_strategy: "no"}}
eval: {{problems: gsm8k:test, limit: 2, n: 2, k: [1, 2], max_new_tokens: 12}}
"""


def write(tmp_path: Path, **values: object) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE.format(**{"threshold": 0.85, **values}))
    return path


@pytest.mark.slow
def test_full_chain_then_skip_then_redo_downstream(tmp_path, tiny_model, fast_policy_file):
    path = write(tmp_path, model=tiny_model, policy=fast_policy_file)
    said: list[str] = []
    results = run_pipeline(load_pipeline(path), say=said.append)
    work = tmp_path / "work"
    assert [line.split(":")[0] for line in said if line.startswith("[")] == [
        "[1/7] sample", "[2/7] verify", "[3/7] dedup", "[4/7] stats", "[5/7] publish", "[6/7] train", "[7/7] eval"]
    assert all("running" in line for line in said if line.startswith("["))
    for produced in ("samples.jsonl", "samples.verified.jsonl", "samples.curated.jsonl", "stats.json", "report.html",
                     "tiny-set/README.md", "student/model.safetensors", "eval/stats.json"):
        assert (work / produced).exists(), produced
    assert results["student"] == work / "student"
    eval_stats = json.loads((work / "eval" / "stats.json").read_text())
    assert eval_stats["tasks"] == 2 and set(eval_stats["pass_at_k"]) == {"1", "2"}

    said.clear()
    run_pipeline(load_pipeline(path), say=said.append)
    assert all("skipped" in line for line in said if line.startswith("["))

    said.clear()
    run_pipeline(load_pipeline(write(tmp_path, model=tiny_model, policy=fast_policy_file, threshold=0.9)),
                 say=said.append)
    status = {line.split(":")[0].split("] ")[1]: line.split(": ")[1] for line in said if line.startswith("[")}
    assert status["sample"] == status["verify"] == "up to date, skipped"
    assert status["dedup"] == status["train"] == status["eval"] == "running"


def test_unknown_keys_are_errors(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text("workdir: w\nteacher: {backend: annotations, temprature: 1}\n")
    assert main(["run", str(path)]) == 2
    assert "unknown key(s) teacher.temprature" in capsys.readouterr().err
    path.write_text("workdir: w\nstages: []\n")
    assert main(["run", str(path)]) == 2
    assert "unknown key(s) stages" in capsys.readouterr().err


# Typed configuration: every bad value is one line naming the file, the key and what it takes, exit 2,
# before anything is written (the workdir is not even created).
@pytest.mark.parametrize("section, expected", [
    ('teacher: {n: "four"}', "teacher.n: input should be a valid integer"),
    ("teacher: {temperature: hot}", "teacher.temperature: input should be a valid number"),
    ("teacher: {top_p: 0}", "teacher.top_p: input should be greater than 0"),
    ("teacher: {backend: gpt}", "teacher.backend: input should be 'annotations', 'transformers', 'vllm' or 'openai'"),
    ("teacher: {endpoint: rest}", "teacher.endpoint: input should be 'completions' or 'chat'"),
    ("teacher: {stop: 3}", "teacher.stop: input should be a valid list"),
    ("teacher: {exemplars: -1}", "teacher.exemplars: input should be greater than or equal to 0"),
    ("teacher: 3", "teacher: expected a mapping of keys to values, got 3"),
    ("verify: {rel_tol: 1}", "verify.rel_tol: input should be less than 1"),
    ("verify: {checker: fuzzy}", "verify.checker: input should be 'strict' or 'math-verify'"),
    ("verify: {workers: 0}", "verify.workers: input should be greater than or equal to 1"),
    ("dedup: {threshold: 1.5}", "dedup.threshold: input should be less than or equal to 1"),
    ("dedup: {num_perm: 8}", "dedup.num_perm: input should be greater than or equal to 16"),
    ("stats: {k: [1, two]}", "stats.k.1: input should be a valid integer"),
    ("publish: {validation_fraction: 1}", "publish.validation_fraction: input should be less than 1"),
    ("publish: {name: ../up}", "publish.name: string should match pattern"),
    ("publish: {push_to_hub: noslash}", "publish.push_to_hub: string should match pattern"),
    ("train: {method: rl}", "train.method: input should be 'sft' or 'kd'"),
    ("eval: {backend: openai}", "eval.backend: input should be 'transformers' or 'vllm'"),
    ("limit: -1", "limit: input should be greater than or equal to 1"),
    ("dedup: {treshold: 0.9}", "unknown key(s) dedup.treshold (known: keep_failed, max_per_task, num_perm, threshold)"),
    ("stages: []", "unknown key(s) stages (known: dedup,"),
    ("executor: {tasks: four}", "executor tasks must be an integer, got 'four'"),
    ("teacher: {n: true}", "teacher.n: value error, expected a number, not true/false"),
    ("dedup: {threshold: yes}", "dedup.threshold: value error, expected a number, not true/false"),
    ("stats: {k: []}", "stats.k: list should have at least 1 item"),
    ("verify: {policy: nope}", "verify.policy: unknown policy 'nope'"),
    ("verify: {answer: 'var:'}", "verify.answer: unknown answer convention 'var:'"),
    ("verify: {prelude: missing.py}", "verify.prelude: "),
    ("publish: {prompt_template: nofile.txt}", "publish.prompt_template: "),
    ("problems: gsm8k:validation", "problems: unknown GSM8K split 'validation'"),
    ("train: {config: {num_train_epoch: 1}}", "train.config: "),
])
def test_bad_values_are_one_line_naming_file_and_key(tmp_path: Path, section: str, expected: str) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"workdir: work\n{section}\n")
    done = subprocess.run([sys.executable, "-m", "ekt_curate", "run", str(path)], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"ekt-curate: error: {path}: ") and expected in done.stderr, done.stderr
    assert not (tmp_path / "work").exists()


def test_workdir_is_required(tmp_path: Path, capsys) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("teacher: {n: 2}\n")
    assert main(["run", str(path)]) == 2
    assert f"{path}: 'workdir' is required" in capsys.readouterr().err


def test_every_key_is_passed_to_its_stage(tmp_path: Path) -> None:
    """Keys of the CLI options are accepted, typed, and paths are read relative to the pipeline file."""
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "p.yaml"
    path.write_text("workdir: ../work\nid_field: id\ngold_field: answer\nquestion_field: problem\n"
                    "teacher: {backend: openai, model: m, stop: [\"\\nQ:\"], batch_size: 8, include_exemplars: true,\n"
                    "  exemplars: 2, api_key_env: KEY, concurrency: '4', max_retries: 0, base_url: 'http://h/v1'}\n"
                    "verify: {prelude: prelude.py, answer: 'var:x'}\ndedup: {keep_failed: true}\n"
                    "publish: {prompt_template: t.txt, push_to_hub: org/name}\n"
                    "train: {method: kd, teacher: big, kd_beta: 0.5, kd_lm_weight: 0}\neval: {backend: vllm}\n")
    pipeline = load_pipeline(path)
    assert pipeline.workdir == tmp_path / "work"
    assert pipeline.fields().id == "id" and pipeline.fields().gold == "answer"
    assert pipeline.teacher.exemplars == 2
    assert pipeline.teacher.stop == ["\nQ:"] and pipeline.teacher.concurrency == 4 and pipeline.teacher.max_retries == 0
    assert pipeline.verify.prelude == tmp_path / "conf" / "prelude.py"
    assert pipeline.publish.prompt_template == tmp_path / "conf" / "t.txt"
    assert pipeline.dedup.keep_failed and pipeline.train.method == "kd" and pipeline.eval.backend == "vllm"


def test_defaults_are_the_stages_own() -> None:
    """One source of defaults: a section's default is its stage config's (and the CLI's, see test_cli)."""
    from ekt_curate.stages.dedup import DedupConfig
    from ekt_curate.stages.evaluate import EvalConfig
    from ekt_curate.stages.sample import SampleConfig
    from ekt_curate.stages.verify import VerifyConfig
    from ekt_curate.stages.pipeline import DedupSection, EvalSection, TeacherSection, VerifySection

    for section, config in ((TeacherSection, SampleConfig), (VerifySection, VerifyConfig),
                            (DedupSection, DedupConfig), (EvalSection, EvalConfig)):
        stage = {f.name: f.default for f in dataclasses.fields(config)}
        for f in dataclasses.fields(section):
            if dataclasses.MISSING not in (f.default, stage.get(f.name, dataclasses.MISSING)) and f.name not in ("n", "backend"):
                assert f.default == stage[f.name], (section.__name__, f.name)


def test_null_train_leaves_training_and_eval_out(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("workdir: w\ntrain: null\n")
    assert load_pipeline(path).train is None


def test_a_problems_file_is_read_beside_the_pipeline_file(tmp_path: Path, monkeypatch) -> None:
    """Like workdir, prelude and prompt_template: running from another folder finds the same file."""
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "p.yaml"
    path.write_text("workdir: work\nproblems: mine.jsonl\neval: {problems: held-out.jsonl}\n")
    monkeypatch.chdir("/")
    pipeline = load_pipeline(path)
    assert pipeline.problems == str(tmp_path / "conf" / "mine.jsonl")
    assert pipeline.eval.problems == str(tmp_path / "conf" / "held-out.jsonl")
    assert load_pipeline(path, {"problems": "gsm8k:test"}).problems == "gsm8k:test"


CARD_PIPELINE = """workdir: work
problems: gsm8k:train
limit: 6
teacher: {{backend: annotations, n: 3}}
verify: {{policy: {policy}, workers: 2}}
dedup: {{threshold: 0.9}}
publish: {{name: card-set, validation_fraction: 0.2}}
train: null
"""


def test_a_pipeline_card_knows_every_stage_and_its_commands_reproduce_them(tmp_path: Path, fast_policy_file) -> None:
    """Every stage writes its sidecar (the annotation teacher too), and each stage's command on the
    card, run by hand in a fresh folder, gives the very outputs the pipeline wrote."""
    import re
    import shlex
    import shutil

    import pyarrow.parquet as pq

    from tests.stages.conftest import strip_timing

    path = tmp_path / "pipeline.yaml"
    path.write_text(CARD_PIPELINE.format(policy=fast_policy_file))
    done = subprocess.run([sys.executable, "-m", "ekt_curate", "run", str(path)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    work = tmp_path / "work"
    # no stats section and 3 samples a task: pass@k for the k the samples allow, no rows of n/a
    assert set(json.loads((work / "stats.json").read_text())["pass_at_k"]) == {"1"}
    sidecar = json.loads((work / "samples.jsonl.meta.json").read_text())
    assert (sidecar["stage"], sidecar["backend"], sidecar["model"], sidecar["n"]) == (
        "sample", "annotations", "gsm8k-annotations", 3)
    assert sidecar["temperature"] is None and sidecar["command"] == f"ekt-curate run {path}"
    card = (work / "card-set" / "README.md").read_text()
    assert "not recorded" not in card.split("## Counts at every stage")[1].split("\n", 3)[3]
    assert "| sampled | 18 samples written for 6 problems, n = 3 | the annotation teacher |" in card
    assert "- Teacher model: `gsm8k-annotations`" in card and "- Do not apply: Prompt format," in card
    commands = dict(re.findall(r"- (\w+) command: `([^`]+)`", card))
    policy = shlex.quote(str(fast_policy_file))
    assert commands == {
        "Sample": f"ekt-curate run {shlex.quote(str(path))}",
        "Verify": f"ekt-curate verify samples.jsonl -o samples.verified.jsonl --problems gsm8k:train --policy {policy} "
                  "--workers 2",
        "Dedup": "ekt-curate dedup samples.verified.jsonl -o samples.curated.jsonl --threshold 0.9",
        "Publish": "ekt-curate publish samples.curated.jsonl --name card-set --out . --validation-fraction 0.2 "
                   "--problems gsm8k:train"}
    assert card.count(f"(run by `ekt-curate run {shlex.quote(str(path))}`)") == 3

    again = tmp_path / "again"
    again.mkdir()
    shutil.copy(work / "samples.jsonl", again)
    for stage in ("Verify", "Dedup", "Publish"):
        argv = shlex.split(commands[stage])
        rerun = subprocess.run([sys.executable, "-m", "ekt_curate", *argv[1:]], capture_output=True, text=True,
                               cwd=again, timeout=300)
        assert rerun.returncode == 0, (stage, rerun.stderr)
    for name in ("samples.verified.jsonl", "samples.curated.jsonl"):
        assert [strip_timing(line) for line in (again / name).read_text().splitlines()] == \
               [strip_timing(line) for line in (work / name).read_text().splitlines()], name

    def rows(folder: Path) -> list[dict]:
        tables = [pq.read_table(p).to_pylist() for p in sorted((folder / "data").glob("*.parquet"))]
        return [{k: v for k, v in row.items() if k not in ("verdict_cpu_ms", "verdict_wall_ms")}
                for table in tables for row in table]

    assert rows(again / "card-set") == rows(work / "card-set") and rows(work / "card-set")
    by_hand = (again / "card-set" / "README.md").read_text()
    assert f"- Publish command: `{commands['Publish']}`\n" in by_hand  # its own command, run by no pipeline


def test_a_stage_command_parses_back_to_the_config_it_was_written_from(tmp_path: Path) -> None:
    """The sample command (a real teacher's): every non-default setting, quoted as bash reads it."""
    from ekt_curate.cli import build_parser
    from ekt_curate.fields import FieldNames
    from ekt_curate.stages.sample import SampleConfig
    from ekt_curate.stages.stage_commands import command_for

    config = SampleConfig(problems="gsm8k:test", model="Qwen/Qwen2.5-0.5B", output=tmp_path / "s.jsonl", n=8,
                          temperature=0.7, top_p=0.95, backend="vllm", limit=12, stop=("\nQ:", "it's\tdone"),
                          engine_args={"max_model_len": 4096, "dtype": "half"}, seed=3, endpoint="chat",
                          fields=FieldNames(id="id", question="problem"), resume=True)
    command = command_for("sample", config, tmp_path)
    assert command.startswith("ekt-curate sample ") and "--resume" not in command and "\n" not in command
    split = subprocess.run(["bash", "-c", f"printf '%s\\0' {command.split(' ', 2)[2]}"], capture_output=True,
                           timeout=30).stdout.decode().split("\0")[:-1]
    args = build_parser().parse_args(["sample", *split])
    assert (args.problems, args.model, args.output, args.n, args.temperature, args.top_p, args.backend) == (
        "gsm8k:test", "Qwen/Qwen2.5-0.5B", Path("s.jsonl"), 8, 0.7, 0.95, "vllm")
    assert (args.limit, args.stop, args.seed, args.endpoint, args.id_field, args.question_field) == (
        12, ["\nQ:", "it's\tdone"], 3, "chat", "id", "problem")
    assert args.engine_args == ["max_model_len=4096", "dtype=half"] and args.prompt == "pal"
