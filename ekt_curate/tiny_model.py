"""A small causal LM built locally, with no download: a byte-level BPE tokenizer trained with
`tokenizers` on GSM8K text, and a Llama with random weights. For tests, benchmarks and the
CPU demo, where no pretrained model can be fetched; its completions are noise until trained.
``learned_positions`` builds a GPT-2 instead, whose position table ends at ``positions`` as
GPT-2's and GPT-Neo's do (a Llama's rotary positions do not end)."""

from __future__ import annotations

import json
from pathlib import Path

from ekt_curate.problems import gsm8k_path


def build_tiny_model(folder: Path, vocab_size: int = 512, layers: int = 2, hidden: int = 64,
                     heads: int = 4, kv_heads: int = 2, positions: int = 4096,
                     learned_positions: bool = False) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    texts = []
    with gsm8k_path("train").open() as handle:
        for _, line in zip(range(2000), handle):
            row = json.loads(line)
            texts += [row["question"], row["answer"]]
    texts += ["def solution():\n    return 1\n", "answer = 2 * 3\n", "Q: \n# solution in Python:\n"]
    tokenizer = Tokenizer(models.BPE(unk_token=None))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False, special_tokens=["<pad>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    torch.manual_seed(0)
    special = {"bos_token_id": fast.bos_token_id, "eos_token_id": fast.eos_token_id, "pad_token_id": fast.pad_token_id}
    if learned_positions:
        model = GPT2LMHeadModel(GPT2Config(vocab_size=len(fast), n_embd=hidden, n_layer=layers, n_head=heads,
                                           n_positions=positions, **special))
    else:
        model = LlamaForCausalLM(LlamaConfig(
            vocab_size=len(fast), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
            num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=positions,
            tie_word_embeddings=True, **special))
    folder.mkdir(parents=True, exist_ok=True)
    from transformers.utils import logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # one small shard: a "Writing model shards" bar is noise
    try:
        model.save_pretrained(folder)
    finally:
        if shown:
            hf_logging.enable_progress_bar()
    fast.save_pretrained(folder)
    return folder
