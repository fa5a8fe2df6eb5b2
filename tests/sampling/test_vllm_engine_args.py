"""--engine-arg typing, against a dataclass with the shapes of vLLM's EngineArgs fields (vLLM itself
is not in this venv; tests_vllm runs the real EngineArgs). No ``from __future__ import annotations``
here: vLLM's field types are objects, not strings, and so must these be."""

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

import pytest

from ekt_curate.errors import EktError
from ekt_curate.sampling.vllm_engine_args import convert_engine_args


@dataclasses.dataclass
class EngineArgsShapes:
    dtype: Literal["auto", "half", "float16", "bfloat16", "float", "float32"] = "auto"
    max_model_len: int | None = None
    gpu_memory_utilization: float = 0.9
    enforce_eager: bool = False
    enable_prefix_caching: bool | None = None
    tokenizer_mode: Literal["auto", "hf", "mistral"] | str = "auto"
    limit_mm_per_prompt: dict[str, int] = dataclasses.field(default_factory=dict)
    hf_overrides: dict[str, Any] | Callable[[Any], Any] = dataclasses.field(default_factory=dict)
    served_model_name: str | list[str] | None = None
    quantization_config: "dict[str, Any] | QuantizationConfigArgs | None" = None  # noqa: F821 - as in vLLM


def convert(*items: str) -> dict[str, Any]:
    return convert_engine_args(list(items), EngineArgsShapes)


def test_values_are_typed_by_the_field():
    assert convert("dtype=float32", "max_model_len=4096", "gpu_memory_utilization=0.5", "enforce_eager=yes",
                   "enable_prefix_caching=none", "tokenizer_mode=custom", 'limit_mm_per_prompt={"image": 2}',
                   'hf_overrides={"rope_theta": 1e6}', "served_model_name=123",
                   'quantization_config={"bits": 4}') == {
        "dtype": "float32", "max_model_len": 4096, "gpu_memory_utilization": 0.5, "enforce_eager": True,
        "enable_prefix_caching": None, "tokenizer_mode": "custom", "limit_mm_per_prompt": {"image": 2},
        "hf_overrides": {"rope_theta": 1e6}, "served_model_name": "123", "quantization_config": {"bits": 4}}


def test_a_literal_whose_values_look_like_another_type_is_still_a_literal():
    # 'float' in the annotation once made float32 parse as a number, and fail
    assert convert("dtype=float")["dtype"] == "float" and convert("dtype=half")["dtype"] == "half"


@pytest.mark.parametrize(("item", "message"), [
    ("dtype=float64", "--engine-arg dtype=float64: Input should be 'auto', 'half'"),
    ("max_model_len=lots", "--engine-arg max_model_len=lots: Input should be a valid integer"),
    ("enforce_eager=maybe", "--engine-arg enforce_eager=maybe: Input should be a valid boolean"),
    ("max_model_length=64", "not a vLLM engine argument (did you mean max_model_len?)"),
    ("max_model_len", "expected KEY=VALUE"),
])
def test_a_bad_value_is_one_sentence_naming_the_key(item, message):
    with pytest.raises(EktError) as caught:
        convert(item)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_yaml_values_keep_their_types_and_dashes_are_underscores():
    assert convert_engine_args({"max-model-len": 4096, "enforce_eager": True, "dtype": "float32"},
                               EngineArgsShapes) == {"max_model_len": 4096, "enforce_eager": True, "dtype": "float32"}
