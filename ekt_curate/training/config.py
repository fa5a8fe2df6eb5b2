"""The training config: a YAML of SFTConfig fields, each with a documented default here.

Keys are TRL ``SFTConfig`` field names (see TRL's docs for the rest); an unknown key is an
error naming the valid ones. ``auto`` for ``bf16`` and ``gradient_checkpointing`` (or its newer
name ``activation_checkpointing``) means "on a
GPU that supports it, off on CPU", so the same file trains on a laptop and on a cluster
(``accelerate launch -m ekt_curate train ...`` for several GPUs).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from ekt_curate.errors import EktError
from ekt_curate.yaml_files import load_mapping

_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")

# Our defaults: small-student SFT on a few thousand verified programs.
DEFAULTS: dict[str, Any] = {
    "num_train_epochs": 3,                 # passes over the curated data
    "learning_rate": 1e-5,                 # peak learning rate
    "lr_scheduler_type": "cosine",         # decay after warm-up
    "warmup_steps": 0.03,                  # a float in [0, 1) is a share of the steps, an int a count
    "weight_decay": 0.0,
    "per_device_train_batch_size": 8,      # sequences per device per step
    "gradient_accumulation_steps": 4,      # effective batch = 8 x 4 x devices
    "max_length": 1024,                    # prompt + completion tokens; longer examples are truncated
    "packing": False,                      # one example per sequence, as the eval sees them
    "completion_only_loss": True,          # no loss on prompt tokens
    "bf16": "auto",                        # true on GPUs with bf16, false on CPU
    "gradient_checkpointing": "auto",      # true on GPU (memory), false on CPU (speed)
    "logging_steps": 10,
    "save_strategy": "epoch",
    "save_total_limit": 2,
    "seed": 0,
    "report_to": "none",                   # set "wandb", "tensorboard", ... to log elsewhere
}


def _sft_fields() -> dict[str, dataclasses.Field]:
    from trl import SFTConfig

    return {f.name: f for f in dataclasses.fields(SFTConfig)}


def load_train_config(path: Path | None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then the YAML file, then overrides; validated against SFTConfig's fields."""
    values = dict(DEFAULTS)
    if path is not None:
        values.update(load_mapping(path, "training config"))
    values.update(overrides or {})
    fields = _sft_fields()
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise EktError(f"{path or 'training config'}: unknown key(s) {', '.join(unknown)}; keys are SFTConfig "
                       f"fields, e.g. {', '.join(sorted(DEFAULTS))}")
    if "output_dir" in values:
        raise EktError(f"{path}: output_dir comes from --output-dir, not the config")
    resolved = {key: _number(value) for key, value in values.items()}
    for key, value in resolved.items():  # `save_strategy: no` in YAML 1.1 is the boolean False
        default = fields[key].default
        if isinstance(value, bool) and isinstance(default, str):
            resolved[key] = "no" if not value else "yes"
    return resolved


def _number(value: Any) -> Any:
    """YAML 1.1 reads ``1e-5`` as a string (it wants ``1.0e-5``); nobody means a string there."""
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        number = float(value)
        return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    return value


def checkpointing_key() -> str:
    """transformers 5.2x renamed ``gradient_checkpointing`` to ``activation_checkpointing`` (the old
    name warns, and goes in 6): configs keep the old name, which works with every version."""
    return "activation_checkpointing" if "activation_checkpointing" in _sft_fields() else "gradient_checkpointing"


def resolve(values: dict[str, Any]) -> dict[str, Any]:
    """Turn ``auto`` into what this machine can do."""
    import torch

    gpu = torch.cuda.is_available()
    resolved = dict(values)
    if resolved.get("bf16") == "auto":
        resolved["bf16"] = bool(gpu and torch.cuda.is_bf16_supported())
    key = checkpointing_key()
    if key != "gradient_checkpointing" and "gradient_checkpointing" in resolved:
        value = resolved.pop("gradient_checkpointing")
        resolved.setdefault(key, value)  # a value written under the new name wins over our default
    if resolved.get(key) == "auto":
        resolved[key] = gpu
    if not gpu:
        resolved["use_cpu"] = True
    return resolved
