"""The paper's knowledge-distillation baseline: a KL term to the teacher's token distribution
plus the LM loss, on the same curated prompt/completion data.

Built on TRL's GKD trainer (``trl.experimental.gkd``) with on-policy fraction ``lmbda = 0``:
the student never generates, it learns from the curated completions. ``beta`` interpolates the
generalized Jensen-Shannon divergence (0: forward KL(teacher || student), the classic
distillation loss; 1: reverse KL). GKD's loss has no LM term, so ``KDTrainer`` adds
``lm_weight`` x the student's cross-entropy on the completion tokens. Teacher and student must
share a tokenizer (the KL is token by token).
"""

from __future__ import annotations

from typing import Any


class PromptCompletionCollator:
    """Tokenize prompt + completion + EOS; labels are -100 on the prompt and on padding."""

    def __init__(self, tokenizer: Any, max_length: int):
        self.tokenizer = tokenizer
        self.max_length = max_length

    def __call__(self, examples: list[dict[str, str]]) -> dict[str, Any]:
        import torch

        tok = self.tokenizer
        rows = []
        for example in examples:
            prompt = tok(example["prompt"], add_special_tokens=False)["input_ids"]
            completion = tok(example["completion"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
            ids = (prompt + completion)[: self.max_length]
            labels = ([-100] * len(prompt) + completion)[: self.max_length]
            rows.append((ids, labels, prompt))
        width = max(len(ids) for ids, _, _ in rows)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        prompt_width = max(len(p) for _, _, p in rows)
        return {
            "input_ids": torch.tensor([ids + [pad] * (width - len(ids)) for ids, _, _ in rows]),
            "attention_mask": torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _, _ in rows]),
            "labels": torch.tensor([labels + [-100] * (width - len(labels)) for _, labels, _ in rows]),
            # left-padded prompts, for GKD's on-policy generation (unused with lmbda = 0)
            "prompts": torch.tensor([[pad] * (prompt_width - len(p)) + p for _, _, p in rows]),
            "prompt_attention_mask": torch.tensor([[0] * (prompt_width - len(p)) + [1] * len(p) for _, _, p in rows]),
        }


def make_kd_trainer(model: str, teacher: str, tokenizer: Any, values: dict[str, Any], output_dir: str,
                    train: Any, evaluation: Any, beta: float, lm_weight: float) -> Any:
    import torch.nn.functional as F
    from trl.experimental.gkd import GKDConfig, GKDTrainer

    class KDTrainer(GKDTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[no-untyped-def]
            kd, outputs = super().compute_loss(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
            logits, labels = outputs.logits[:, :-1, :], inputs["labels"][:, 1:]
            lm = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
            loss = kd + lm_weight * lm
            return (loss, outputs) if return_outputs else loss

    settings = {k: v for k, v in values.items() if k not in ("completion_only_loss", "packing")}
    args = GKDConfig(output_dir=output_dir, lmbda=0.0, beta=beta, temperature=1.0, seq_kd=False, **settings)
    collator = PromptCompletionCollator(tokenizer, int(values.get("max_length") or 1024))
    return KDTrainer(model=model, teacher_model=teacher, args=args, data_collator=collator, train_dataset=train,
                     eval_dataset=evaluation, processing_class=tokenizer)
