"""--chat on a local backend: the tokenizer's chat template applied to the prompt's messages."""

from __future__ import annotations

import json
import shutil

import pytest

from ekt_curate.cli import main

pytestmark = pytest.mark.slow

TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
            "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


@pytest.fixture(scope="module")
def chat_model(tiny_model, tmp_path_factory):
    from transformers import AutoTokenizer

    folder = tmp_path_factory.mktemp("chat-model") / "m"
    shutil.copytree(tiny_model, folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.chat_template = TEMPLATE
    tokenizer.save_pretrained(folder)
    return folder


def sample(model, out, *args):
    return main(["sample", "-q", "--model", str(model), "--problems", "gsm8k:test", "--limit", "2", "-n", "2",
                 "--max-new-tokens", "8", "-o", str(out), *map(str, args)])


def test_chat_applies_the_tokenizer_template(chat_model, tmp_path, monkeypatch):
    from ekt_curate.prompts import load_prompt_format
    from ekt_curate.sampling import transformers_backend

    seen: list[str] = []
    original = transformers_backend.TransformersBackend.generate
    monkeypatch.setattr(transformers_backend.TransformersBackend, "generate",
                        lambda self, prompts, *a, **k: seen.extend(prompts) or original(self, prompts, *a, **k))
    out = tmp_path / "s.jsonl"
    assert sample(chat_model, out, "--prompt", "pal-chat") == 0  # a chat format: --chat implied
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4 and all("reply" in r for r in rows)
    meta = rows[0]["meta"]
    assert meta["endpoint"] == "chat" and meta["chat_template"].startswith("tokenizer:") and meta["prompt"] == "pal-chat"
    system = load_prompt_format("pal-chat").system
    assert seen[0].startswith(f"<|system|>\n{system}\n<|user|>\n") and seen[0].endswith("<|assistant|>\n")
    assert seen[0].count("<|assistant|>") == 9  # 8 exemplar answers + the turn to write

    explicit = tmp_path / "explicit.jsonl"
    assert sample(chat_model, explicit, "--prompt", "pal", "--chat") == 0  # a text format as one user turn
    assert seen[-1].startswith("<|user|>\nQ: ") and seen[-1].count("<|assistant|>") == 1


def test_chat_without_a_template_is_one_line(tiny_model, tmp_path, capsys):
    assert sample(tiny_model, tmp_path / "s.jsonl", "--chat") == 2
    err = capsys.readouterr().err  # above it: transformers' own weight-loading bar
    assert "Traceback" not in err and err.splitlines()[-1].startswith("ekt-curate: error:")
    assert "no chat template" in err.splitlines()[-1]
