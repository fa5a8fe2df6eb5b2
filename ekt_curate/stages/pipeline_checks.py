"""What a pipeline YAML names, checked before its first stage runs.

pydantic types every key where the file is read (stages/pipeline.py); these are the values only
the stages themselves can judge: a policy that must load, an answer convention, files that must
exist, a problems source, the training config's SFTConfig keys. Found after sampling, each would
cost the teacher's time first, so every one is checked up front and named by its key.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ekt_curate.errors import EktError

if TYPE_CHECKING:
    from ekt_curate.stages.pipeline import Pipeline


def check_pipeline(pipeline: Pipeline, path: Path) -> None:
    """Raise EktError naming ``path`` and the key, for the first value a stage would refuse."""
    from ekt_curate.sandbox.errors import SandboxError
    from ekt_curate.sandbox.executor import check_answer_mode
    from ekt_curate.sandbox.policy import load_policy

    for key, check in (
        ("verify.policy", lambda: load_policy(pipeline.verify.policy)),
        ("verify.answer", lambda: check_answer_mode(pipeline.verify.answer)),
        ("verify.prelude", lambda: _readable(pipeline.verify.prelude)),
        ("problems", lambda: _source(pipeline.problems)),
        ("publish.prompt_template", lambda: _template(pipeline.publish.prompt_template)),
        ("eval.problems", lambda: _source(pipeline.eval.problems) if pipeline.eval else None),
        ("train.config", lambda: _train_config(pipeline)),
    ):
        try:
            check()
        except (EktError, SandboxError) as exc:
            raise EktError(f"{path}: {key}: {exc}") from None


def _readable(file: Path | None) -> None:
    if file is not None and not file.is_file():
        raise EktError(f"{file}: no such file")


def _source(source: str) -> None:
    """A problems source that can be opened here; a Hub dataset is left to its stage (network)."""
    if source.startswith("hf:"):
        return
    if source.startswith("gsm8k:"):
        from ekt_curate.problems import gsm8k_path

        gsm8k_path(source.split(":", 1)[1])
        return
    from ekt_curate.sources import parse_source

    parse_source(source)


def _template(file: Path | None) -> None:
    if file is not None:
        from ekt_curate.prompts import load_template

        load_template(file)


def _train_config(pipeline: Pipeline) -> None:
    if pipeline.train is not None:
        from ekt_curate.training.config import load_train_config

        load_train_config(None, pipeline.train.config)  # SFTConfig's field names (imports TRL)
