"""The student stage on CPU with a tiny locally built model: SFT learns the completions and only
them, checkpoints reload, eval reports pass@k for memorized problems, and the verifier drives GRPO."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ekt_curate.judge import STATUSES

from ekt_curate.cli import main

pytestmark = pytest.mark.slow

PROBLEMS = [  # short programs a tiny model can memorize
    ("mem/0", "Tom has 3 apples and buys 4 more. How many apples does he have?", "7", "answer = 3 + 4\n"),
    ("mem/1", "A box holds 6 eggs. How many eggs are in 5 boxes?", "30", "answer = 6 * 5\n"),
    ("mem/2", "Sara had 20 dollars and spent 8. How much is left?", "12", "answer = 20 - 8\n"),
]


@pytest.fixture(scope="module")
def memorizable(tmp_path_factory) -> tuple[Path, Path]:
    """A published dataset of the three problems, and a problems file for eval."""
    folder = tmp_path_factory.mktemp("student")
    curated = folder / "curated.jsonl"
    curated.write_text("".join(json.dumps({"task_id": t, "question": q, "gold": g, "completion": c,
                                           "verdict": {"status": "pass", "passed": True}}) + "\n"
                               for t, q, g, c in PROBLEMS) * 4)
    assert main(["publish", str(curated), "--name", "mem", "--out", str(folder)]) == 0
    problems = folder / "problems.jsonl"
    problems.write_text("".join(json.dumps({"task_id": t, "question": q, "gold": g}) + "\n" for t, q, g, _ in PROBLEMS))
    return folder / "mem", problems


@pytest.fixture(scope="module")
def trained(tiny_model, memorizable, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("run") / "student"
    config = run.parent / "train.yaml"
    config.write_text("num_train_epochs: 60\nlearning_rate: 3e-3\nper_device_train_batch_size: 4\n"
                      "gradient_accumulation_steps: 1\nlogging_steps: 5\nsave_strategy: 'no'\nwarmup_steps: 0\n")
    assert main(["train", "--dataset", str(memorizable[0]), "--model", str(tiny_model), "--output-dir", str(run),
                 "--config", str(config)]) == 0
    return run


def test_training_lowers_the_loss_and_changes_the_weights(trained, tiny_model):
    import torch
    from transformers import AutoModelForCausalLM

    record = json.loads((trained / "ekt_train_config.json").read_text())
    assert record["last_loss"] < record["first_loss"] * 0.2, record
    assert record["config"]["completion_only_loss"] is True and record["config"]["bf16"] is False
    before = AutoModelForCausalLM.from_pretrained(tiny_model)
    after = AutoModelForCausalLM.from_pretrained(trained)  # the checkpoint reloads
    changed = [name for (name, a), (_, b) in zip(before.named_parameters(), after.named_parameters())
               if not torch.equal(a, b)]
    assert len(changed) == len(list(before.parameters()))  # every trainable tensor moved
    assert (trained / "prompt_template.txt").read_text().startswith("Question: {question}")


def test_prompt_tokens_carry_no_loss(tiny_model, memorizable, tmp_path):
    from datasets import load_dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from ekt_curate.training.config import load_train_config, resolve

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    dataset = load_dataset(str(memorizable[0]))["train"].select_columns(["prompt", "completion"])
    args = SFTConfig(output_dir=str(tmp_path), **resolve(load_train_config(None, {"max_steps": 1})))
    trainer = SFTTrainer(model=str(tiny_model), args=args, train_dataset=dataset, processing_class=tokenizer)
    batch = trainer.data_collator([trainer.train_dataset[0]])
    labels, ids = batch["labels"][0].tolist(), batch["input_ids"][0].tolist()
    prompt_len = len(tokenizer(dataset[0]["prompt"])["input_ids"])
    assert all(label == -100 for label in labels[:prompt_len])  # no loss on the prompt
    learned = [t for t in labels if t != -100]
    assert tokenizer.decode(learned).startswith(dataset[0]["completion"].strip()[:10])
    assert learned[-1] == tokenizer.eos_token_id  # the student learns to stop
    assert len(ids) == len(labels)


def test_eval_reports_pass_at_k_for_memorized_problems(trained, memorizable, tmp_path, capsys):
    assert main(["eval", "--model", str(trained), "--problems", str(memorizable[1]), "--greedy", "--max-new-tokens",
                 "16", "--out", str(tmp_path / "greedy"), "-q"]) == 0
    stats = json.loads((tmp_path / "greedy" / "stats.json").read_text())
    assert stats["tasks"] == 3 and stats["pass_at_k"]["1"] == 1.0, stats
    assert "pass@1 100.0%" in capsys.readouterr().out
    assert main(["eval", "--model", str(trained), "--problems", str(memorizable[1]), "-n", "4", "--k", "1,4",
                 "--temperature", "0.3", "--max-new-tokens", "16", "--out", str(tmp_path / "sampled"), "-q"]) == 0
    sampled = json.loads((tmp_path / "sampled" / "stats.json").read_text())
    assert sampled["samples"] == 12 and set(sampled["pass_at_k"]) == {"1", "4"}
    assert sampled["pass_at_k"]["4"] >= sampled["pass_at_k"]["1"] > 0


def test_bad_training_configs_are_one_line(tmp_path, memorizable, tiny_model, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("num_train_epoch: 1\n")
    assert main(["train", "--dataset", str(memorizable[0]), "--model", str(tiny_model), "--output-dir",
                 str(tmp_path / "r"), "--config", str(config)]) == 2
    assert "unknown key(s) num_train_epoch" in capsys.readouterr().err
    assert main(["train", "--dataset", str(tmp_path), "--model", str(tiny_model), "--output-dir",
                 str(tmp_path / "r")]) == 2
    assert "not a dataset written by" in capsys.readouterr().err


def test_the_verifier_is_a_grpo_reward(tiny_model, tmp_path):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from ekt_curate.rewards import AsyncVerifiedAnswerReward, VerifiedAnswerReward

    reward = VerifiedAnswerReward(workers=2)
    overlapped = AsyncVerifiedAnswerReward(workers=1, name="verified_async")  # TRL awaits it beside the other
    direct = reward(completions=["answer = 3 + 4\n", "answer = 8", "def solution():\n    return 30", "while True: pass"],
                    gold=["7", "7", 30, "1"], prompts=["p"] * 4)
    assert direct == [1.0, 0.0, 1.0, 0.0]
    # GSM8K's own answer column as the gold: read as verify reads it
    dataset = Dataset.from_list([{"prompt": f"Question: {q}\n", "gold": f"...\n#### {g}"} for _, q, g, _ in PROBLEMS] * 2)
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4,
                      max_completion_length=8, max_steps=2, logging_steps=1, report_to="none", use_cpu=True,
                      save_strategy="no", log_completions=True)
    trainer = GRPOTrainer(model=str(tiny_model), reward_funcs=[reward, overlapped], args=args, train_dataset=dataset)
    calls_before = reward.calls
    trainer.train()
    reward.close()
    overlapped.close()
    assert reward.calls > calls_before and overlapped.calls > 0
    logged = [entry for entry in trainer.state.log_history if "rewards/verified_answer/mean" in entry]
    assert logged and all(0.0 <= entry["rewards/verified_answer/mean"] <= 1.0 for entry in logged)
    assert all("verified_answer/syntax_error" in entry and "verified_async/pass" in entry for entry in logged)
    # every status logged sums to the batch: nothing is judged twice or lost
    assert all(sum(entry[f"verified_answer/{s}"] for s in STATUSES) == 4 for entry in logged)


def test_expert_iteration_adds_the_students_verified_programs(tiny_model, tmp_path, capsys):
    seed = tmp_path / "seed.jsonl"
    seed.write_text("".join(json.dumps({"task_id": t, "question": q, "gold": g, "completion": c,
                                        "verdict": {"status": "pass", "passed": True}}) + "\n"
                            for t, q, g, c in PROBLEMS) * 4)
    # "twin/*" ask the memorized questions under new task ids: unsolved by the pool, solvable by the student
    problems = tmp_path / "problems.jsonl"
    problems.write_text("".join(json.dumps({"task_id": t.replace("mem", "twin") if i < 2 else t, "question": q,
                                            "gold": g}) + "\n" for i, (t, q, g, _) in enumerate(PROBLEMS)))
    config = tmp_path / "train.yaml"
    config.write_text("num_train_epochs: 60\nlearning_rate: 3.0e-3\nper_device_train_batch_size: 4\n"
                      "gradient_accumulation_steps: 1\nsave_strategy: 'no'\nwarmup_steps: 0\n")
    work = tmp_path / "ei"
    args = ["expert-iteration", "--seed", str(seed), "--model", str(tiny_model), "--workdir", str(work),
            "--problems", str(problems), "--rounds", "1", "-n", "2", "--temperature", "0.2",
            "--max-new-tokens", "16", "--config", str(config)]
    assert main(args) == 0
    round1 = json.loads((work / "round-1" / "round.json").read_text())
    assert round1["sampled_problems"] == 2 and round1["added"] >= 1  # twin/0 and twin/1 were unsolved
    # counted over the problem set only: mem/2 from the seed, at least one twin from the student;
    # mem/0 and mem/1 are in the pool but not in the set
    assert round1["problems"] == 3 and 2 <= round1["solved"] <= 3
    assert round1["pool_tasks_outside_problems"] == 2
    pool = [json.loads(line) for line in (work / "round-1" / "pool.jsonl").read_text().splitlines()]
    assert any(r["task_id"].startswith("twin/") and r["verdict"]["passed"] for r in pool)
    assert (work / "round-1" / "student" / "model.safetensors").exists()
    capsys.readouterr()
    assert main(args) == 0  # a second run finds both rounds done
    assert capsys.readouterr().out.count("skipped") == 2


def test_kd_baseline_distils_the_teacher(trained, tiny_model, memorizable, tmp_path, capsys):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ekt_curate.training.kd import PromptCompletionCollator

    run = tmp_path / "kd"
    assert main(["train", "--method", "kd", "--teacher", str(trained), "--dataset", str(memorizable[0]),
                 "--model", str(tiny_model), "--output-dir", str(run), "--set", "num_train_epochs=10",
                 "--set", "learning_rate=3.0e-3", "--set", "per_device_train_batch_size=4", "--set",
                 "gradient_accumulation_steps=1", "--set", "logging_steps=3", "--set", "save_strategy=no"]) == 0
    record = json.loads((run / "ekt_train_config.json").read_text())
    assert record["method"] == "kd" and record["kd"] == {"beta": 0.0, "lm_weight": 1.0}
    assert record["last_loss"] < record["first_loss"] * 0.5, record
    # the student moved towards the teacher: smaller KL on the curated completions than before
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    from datasets import load_dataset

    batch = PromptCompletionCollator(tokenizer, 256)(list(load_dataset(str(memorizable[0]))["train"]))
    teacher = AutoModelForCausalLM.from_pretrained(trained)

    def kl_to_teacher(model_path: Path) -> float:
        student = AutoModelForCausalLM.from_pretrained(model_path)
        with torch.no_grad():
            t = teacher(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.log_softmax(-1)
            s = student(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.log_softmax(-1)
        mask = batch["labels"][:, 1:] != -100
        kl = (t.exp() * (t - s)).sum(-1)[:, :-1][mask]
        return float(kl.mean())

    assert kl_to_teacher(run) < kl_to_teacher(tiny_model) * 0.5
    assert main(["train", "--method", "kd", "--dataset", str(memorizable[0]), "--model", str(tiny_model),
                 "--output-dir", str(tmp_path / "x")]) == 2
    assert "--teacher" in capsys.readouterr().err


def test_train_quiet_prints_the_summary_and_no_bars(tiny_model, memorizable, tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "ekt_curate", "train", "-q", "--dataset", str(memorizable[0]),
                           "--model", str(tiny_model), "--output-dir", str(tmp_path / "run"), "--set", "max_steps=2",
                           "--set", "save_strategy=no"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("trained on ") and "2 steps" in done.stdout
    for noise in ("it/s", "s/it", "Generating train split", "%|"):  # tqdm bars and datasets' split bars
        assert noise not in done.stderr + done.stdout, (noise, done.stderr)
