import pytest

from ekt_curate.errors import EktError
from ekt_curate.training.config import DEFAULTS, checkpointing_key, load_train_config, resolve


def test_defaults_are_sft_config_fields_and_resolve_on_cpu():
    values = resolve(load_train_config(None))
    assert values["completion_only_loss"] is True and values["packing"] is False
    assert values["bf16"] is False and values[checkpointing_key()] is False and values["use_cpu"] is True
    assert set(DEFAULTS) - {"gradient_checkpointing"} <= set(values)


def test_checkpointing_reaches_sft_config_under_the_name_it_takes_without_a_warning():
    import warnings

    from trl import SFTConfig

    values = resolve(load_train_config(None, {"gradient_checkpointing": True}))
    assert values[checkpointing_key()] is True
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        SFTConfig(output_dir="unused", **values)


def test_yaml_1_1_surprises_are_read_as_meant(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("learning_rate: 1e-5\nsave_strategy: no\nnum_train_epochs: 2\n")
    values = load_train_config(path)
    assert values["learning_rate"] == 1e-5 and isinstance(values["learning_rate"], float)
    assert values["save_strategy"] == "no" and values["num_train_epochs"] == 2


def test_unknown_keys_and_output_dir_are_errors(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("learning_rat: 1.0\n")
    with pytest.raises(EktError, match="unknown key\\(s\\) learning_rat"):
        load_train_config(path)
    path.write_text("output_dir: x\n")
    with pytest.raises(EktError, match="--output-dir"):
        load_train_config(path)
