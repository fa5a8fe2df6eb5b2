"""`ekt-curate train`: the student, fine-tuned with TRL's SFTTrainer on the verified programs.

The dataset is a folder written by `ekt-curate publish` (prompt/completion columns, and the
prompt template it was published with). The loss is on completion tokens only. The run
directory gets the model, the tokenizer, the prompt template, the resolved config and a
provenance sidecar; an interrupted run resumes from its last checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ekt_curate.errors import EktError
from ekt_curate.provenance import command_line

PROMPT_FILE = "prompt_template.txt"
CONFIG_FILE = "ekt_train_config.json"


@dataclass(frozen=True)
class TrainConfig:
    dataset: Path
    model: str
    output_dir: Path
    config: Path | None = None
    overrides: dict[str, Any] | None = None
    method: str = "sft"                # sft | kd (the paper's distillation baseline)
    teacher: str | None = None         # kd: the teacher, sharing the student's tokenizer
    kd_beta: float = 0.0               # kd: 0 forward KL(teacher || student) ... 1 reverse KL
    kd_lm_weight: float = 1.0          # kd: weight of the LM loss added to the KL term
    quiet: bool = False                # no progress bars, no library info lines: the summary only


@dataclass
class TrainSummary:
    output_dir: Path
    train_rows: int
    steps: int
    first_loss: float | None
    last_loss: float | None
    resumed_from: str | None = None


def _load_dataset(folder: Path) -> Any:
    from datasets import load_dataset

    if not (folder / "README.md").is_file() or not (folder / "data").is_dir():
        raise EktError(f"{folder}: not a dataset written by 'ekt-curate publish' (no README.md and data/)")
    dataset = load_dataset(str(folder))
    for column in ("prompt", "completion"):
        if column not in dataset["train"].column_names:
            raise EktError(f"{folder}: the train split has no {column!r} column")
    return dataset


def run_train(config: TrainConfig) -> TrainSummary:
    from ekt_curate.training.config import load_train_config, resolve

    if config.method not in ("sft", "kd"):
        raise EktError(f"unknown --method {config.method!r}: use sft or kd")
    if config.method == "kd" and not config.teacher:
        raise EktError("--method kd needs --teacher (a model sharing the student's tokenizer)")
    unused = [flag for flag, given in (("--teacher", config.teacher), ("--kd-beta", config.kd_beta != 0.0),
                                       ("--kd-lm-weight", config.kd_lm_weight != 1.0)) if given]
    if config.method != "kd" and unused:  # the sft trainer would train without them, saying nothing
        raise EktError(f"{', '.join(unused)} {'only apply' if len(unused) > 1 else 'only applies'} with --method kd")
    if not 0.0 <= config.kd_beta <= 1.0 or config.kd_lm_weight < 0:
        raise EktError(f"--kd-beta must be in [0, 1] and --kd-lm-weight at least 0, "
                       f"got {config.kd_beta} and {config.kd_lm_weight}")
    values = resolve(load_train_config(config.config, config.overrides))
    from ekt_curate.model_loading import loading, require_model

    require_model(config.model, "student model")  # before any weights: an offline id or a typo is one line
    if config.method == "kd":
        require_model(str(config.teacher), "teacher model")
    import datasets

    # Loading the folder and the tokenization passes are quick: the trainer's bar is the one to watch
    # ("Generating train split" bars before it were noise), and under --quiet there is none at all.
    datasets.disable_progress_bars()
    if config.quiet:
        import transformers

        datasets.logging.set_verbosity_error()
        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        values.setdefault("disable_tqdm", True)
        values.setdefault("log_level", "error")
    dataset = _load_dataset(config.dataset)

    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    with loading(config.model, "tokenizer of"):
        tokenizer = AutoTokenizer.from_pretrained(config.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    columns = ["prompt", "completion"]
    train = dataset["train"].select_columns(columns)
    evaluation = dataset["validation"].select_columns(columns) if "validation" in dataset else None
    if evaluation is not None and values.get("eval_strategy", "no") == "no":
        values["eval_strategy"] = values.get("save_strategy", "epoch")
    if config.method == "kd":
        from ekt_curate.training.kd import make_kd_trainer

        trainer = make_kd_trainer(config.model, str(config.teacher), tokenizer, values, str(config.output_dir), train,
                                  evaluation, config.kd_beta, config.kd_lm_weight)
    else:
        args = SFTConfig(output_dir=str(config.output_dir), **values)
        trainer = SFTTrainer(model=config.model, args=args, train_dataset=train, eval_dataset=evaluation,
                             processing_class=tokenizer)
    if config.quiet:  # with tqdm off the Trainer prints each log dict instead: the summary has the losses
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    checkpoint = _last_checkpoint(config.output_dir)
    trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model(str(config.output_dir))
    tokenizer.save_pretrained(str(config.output_dir))
    template = config.dataset / PROMPT_FILE
    if template.is_file():
        (config.output_dir / PROMPT_FILE).write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    summary = TrainSummary(config.output_dir, len(train), trainer.state.global_step,
                           losses[0] if losses else None, losses[-1] if losses else None, checkpoint)
    record = {"stage": "train", "command": command_line(), "dataset": str(config.dataset), "base_model": config.model,
              "method": config.method, "teacher": config.teacher,
              "kd": {"beta": config.kd_beta, "lm_weight": config.kd_lm_weight} if config.method == "kd" else None,
              "config": {k: (v if isinstance(v, (int, float, str, bool, type(None)))
                                                       else str(v)) for k, v in values.items()},
              "train_rows": summary.train_rows, "steps": summary.steps, "first_loss": summary.first_loss,
              "last_loss": summary.last_loss}
    (config.output_dir / CONFIG_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return summary


def _last_checkpoint(folder: Path) -> str | None:
    if not folder.is_dir():
        return None
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(folder))
