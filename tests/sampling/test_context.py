"""A prompt that does not fit the model's context is one line before the first sample, naming the
numbers and how many exemplars would fit (issue 17: the 8-shot pal prompt on a 1,024-position
model was an IndexError from torch's position embeddings)."""

from __future__ import annotations

import json

import pytest

from ekt_curate.cli import main
from ekt_curate.prompts import load_prompt_format
from ekt_curate.sampling.base import SamplingParams
from ekt_curate.sampling.context import PromptTooLong

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def short_model(tmp_path_factory):
    """A GPT-2 whose position table ends at 1,024, as GPT-2's does."""
    pytest.importorskip("torch")
    from ekt_curate.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("gpt2-1024"), positions=1024, learned_positions=True)


def test_too_long_is_one_line_and_names_the_exemplars_that_fit(short_model, tmp_path, capsys):
    out = tmp_path / "s.jsonl"
    common = ["sample", "-q", "--model", str(short_model), "--limit", "3", "-n", "1", "-o", str(out)]
    assert main(common) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("ekt-curate: error:")]
    assert len(errors) == 1, errors
    line = errors[0]
    assert "needs" in line and "the model has 1,024 (max_position_embeddings in its config)" in line
    assert "this prompt has 8" in line and "--max-new-tokens 256" in line
    fitting = int(line.split("--exemplars ")[1].split(" fits")[0])
    assert 0 <= fitting < 8
    assert not out.exists()  # nothing written before the check

    # the remedy it names works: the first K shots, and only those K problems left out
    assert main([*common, "--exemplars", str(fitting), "--max-new-tokens", "8"]) == 0
    meta = json.loads((tmp_path / "s.jsonl.meta.json").read_text())
    assert meta["exemplars"] == fitting and meta["samples_written"] == 3
    assert meta["excluded_exemplars"] == sorted(load_prompt_format("pal").exemplar_task_ids[:fitting])


def test_the_backend_stops_a_prompt_the_check_did_not_see(short_model):
    """The pre-check measures the longest questions; the backend measures every batch it encodes."""
    from ekt_curate.sampling.transformers_backend import TransformersBackend

    backend = TransformersBackend(str(short_model))
    assert backend.context_window() == (1024, "max_position_embeddings in its config")
    with pytest.raises(PromptTooLong, match=r"a prompt is \d[\d,]* tokens, and with --max-new-tokens 8"):
        backend.generate(["x" * 1, "twelve " * 600], SamplingParams(n=1, max_new_tokens=8))
    fits = backend.generate(["twelve " * 100], SamplingParams(n=1, max_new_tokens=4))
    assert len(fits) == 1 and fits[0][0].tokens <= 4
