"""The dataset card `ekt-curate publish` writes: YAML the Hub reads, and a body that states only
what the provenance sidecars (``.meta.json``, ekt_curate/provenance.py) record.

A fact no sidecar holds is written as "not recorded", never filled in: a card is read as a
claim about the data. The licence and language come from ``--license``/``--language``, else from
a problem source whose terms we know for certain (the packaged GSM8K splits, openai/gsm8k on the
Hub); for anything else the licence is ``unknown`` and no language is declared.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ekt_curate.provenance import command_line, find_stage, find_verify, invoked_command, read_meta

# What the Hub accepts in a card's YAML (checked before anything is written, here and in the
# pipeline YAML): licence ids as the Hub spells them (mit, apache-2.0, cc-by-4.0, other, unknown),
# ISO 639 language codes with an optional region (en, pt-BR), tags of one word or kebab-case.
LICENSE = r"^[a-z0-9][a-z0-9.+-]*$"
LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
TAG = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$"
BASE_TAGS = ("math", "code", "synthetic", "program-synthesis", "explicit-knowledge-transfer", "ekt-curate")
NOT_RECORDED = "not recorded"


def check_terms(license: str | None, language: tuple[str, ...] | None, tags: tuple[str, ...] | None) -> None:
    """One line before anything is written: the Hub refuses a card with a licence id or language it does not know."""
    import re

    from ekt_curate.errors import EktError

    if license is not None and not re.match(LICENSE, license):
        raise EktError(f"--license takes a Hub licence id in lower case (mit, apache-2.0, cc-by-4.0, other), "
                       f"got {license!r}")
    for code in language or ():
        if not re.match(LANGUAGE, code):
            raise EktError(f"--language takes comma-separated ISO 639 codes (en, fr, pt-BR), got {code!r}")
    if language is not None and not language:
        raise EktError("--language needs at least one code")
    for tag in tags or ():
        if not re.match(TAG, tag):
            raise EktError(f"--tags takes comma-separated tags of letters, digits and . _ + - (at most 100 "
                           f"characters each), got {tag!r}")


@dataclass(frozen=True)
class KnownSource:
    name: str                  # as the card cites it
    license: str
    language: tuple[str, ...]
    tags: tuple[str, ...]


GSM8K = KnownSource("GSM8K (Cobbe et al. 2021)", "mit", ("en",), ("gsm8k",))


def known_source(problems: str | None) -> KnownSource | None:
    """Only sources whose terms are certain: a user's own file, even one named gsm8k, may hold anything."""
    text = str(problems or "")
    if text in ("gsm8k:train", "gsm8k:test"):
        return GSM8K
    if text.startswith("hf:") and text[3:].split(":")[0].lower() == "openai/gsm8k":
        return GSM8K
    return None


@dataclass(frozen=True)
class CardTerms:
    license: str
    license_note: str
    language: tuple[str, ...] | None   # None: not declared
    language_note: str
    tags: tuple[str, ...]


def card_terms(license: str | None, language: tuple[str, ...] | None, tags: tuple[str, ...] | None,
               problems: str | None) -> CardTerms:
    known = known_source(problems)
    named = f"`{problems}`" if problems else "no problem source recorded"
    if license:
        license_note = "given with --license"
    elif known:
        license, license_note = known.license, f"the licence of {known.name}, the problem source"
    else:
        license, license_note = "unknown", f"the problem source's licence is not known ({named}); --license states it"
    if language:
        language_note = "given with --language"
    elif known:
        language, language_note = known.language, f"the language of {known.name}"
    else:
        language, language_note = None, f"{NOT_RECORDED} ({named}); --language states it"
    if tags is None:
        tags = BASE_TAGS + (known.tags if known else ())
    return CardTerms(license, license_note, language, language_note, tuple(tags))


def write_card(staging: Path, name: str, counts: Counter[str], config: Any, source: Path,
               not_passed: Counter[str], columns: list[str], models: Counter[str] | None = None) -> None:
    from huggingface_hub import DatasetCard, DatasetCardData

    meta = read_meta(source)
    problems = config.problems or (find_verify(meta) or {}).get("problems") or (find_stage(meta, "sample") or {}).get(
        "problems")
    terms = card_terms(config.license, config.language, config.tags, problems)
    splits = [s for s in ("train", "validation") if counts.get(s)]
    data_files = [{"split": s, "path": f"data/{s}-*.parquet"} for s in splits]
    configs: list[dict[str, Any]] = [{"config_name": "default", "data_files": data_files}]
    if config.messages:
        # Two views of the same files: TRL's SFTTrainer picks its format from whichever of
        # prompt/completion/messages it meets first (a set), so no view may hold both formats.
        configs = [{**configs[0], "columns": [c for c in columns if c != "messages"], "default": True},
                   {"config_name": "messages", "data_files": [dict(f) for f in data_files],  # no YAML alias
                    "columns": [c for c in columns if c not in ("prompt", "completion")]}]
    card_data = DatasetCardData(
        license=terms.license, language=list(terms.language) if terms.language else None,
        task_categories=["text-generation"], size_categories=[_size_category(sum(counts.values()))],
        pretty_name=name, tags=list(terms.tags), configs=configs)
    body = card_body(name, config, counts, source, not_passed, terms, problems, models or Counter())
    DatasetCard(f"---\n{card_data.to_yaml()}\n---\n\n{body}").save(staging / "README.md")


def _size_category(rows: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if rows < limit:
            return label
    return "10M<n<100M"


def shown(record: dict[str, Any] | None, key: str) -> str:
    """A sidecar's value as the card shows it: a key that is absent is not recorded; None is none."""
    if record is None or key not in record:
        return NOT_RECORDED
    value = record[key]
    if value is None:
        return "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(f"`{json.dumps(v)[1:-1] if isinstance(v, str) else v}`" for v in value) or "none"
    return f"`{value}`"


def shard_setting(verify: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    """``{key: value}`` from a verify sidecar, or from a merge's shards when they all agree (merge
    copies only the settings it checks); None when no sidecar records it."""
    if verify is None or key in verify:
        return verify
    values = {json.dumps(shard.get(key)) for shard in verify.get("shards") or [] if shard and key in shard}
    if len(values) == 1:
        return {key: json.loads(values.pop())}
    return {key: "differs between shards"} if values else None


def card_body(name: str, config: Any, counts: Counter[str], source: Path, not_passed: Counter[str],
              terms: CardTerms, problems: str | None, models: Counter[str] | None = None) -> str:
    meta = read_meta(source)
    verify, dedup, sample = find_verify(meta), find_stage(meta, "dedup"), find_stage(meta, "sample")
    rows = sum(counts.values())
    lines = [
        f"# {name}", "",
        "Python programs that solve math word problems, written by a teacher model and **kept only if "
        "running them gives the gold answer** (explicit knowledge transfer, Azerbayev et al. 2022). "
        "Made with ekt-curate.", "",
        "| split | rows |", "|---|---:|", *(f"| {split} | {n:,} |" for split, n in counts.items()), "",
        "Splits are by task: no problem appears in more than one split."
        + (f" Left out of the input because they did not pass: {sum(not_passed.values()):,} records ("
           + ", ".join(f"{status} {n:,}" for status, n in sorted(not_passed.items())) + ")." if not_passed else ""),
        "", "## Columns", "",
        "- `prompt`: the problem in the prompt format the student sees; `completion`: the verified program.",
        "  Ready for TRL's `SFTTrainer` (prompt-completion format).",
    ]
    if config.messages:
        lines += ["- `messages` (config `messages`: `load_dataset(..., \"messages\")`): the same pair as "
                  "`[{\"role\": \"user\", \"content\": prompt}, {\"role\": \"assistant\", \"content\": completion}]`,",
                  "  TRL's conversational format for chat students. It is kept out of the default config, where",
                  "  `prompt`/`completion` would make the format ambiguous to `SFTTrainer`."]
    lines += [
        "- `task_id`, `question`; `gold`: the reference answer as the verifier compared it (GSM8K's",
        "  `... #### 72` is `72`, `$10` is `10`, a LaTeX `\\boxed{72}` met by a number is `72`; integers exact,",
        "  written decimals kept: `6.70`); `gold_raw`: the gold as the records or problems gave it;",
        "  `answer`: what the program computed.",
        "- `verdict_*`: the verifier's status, cpu and wall milliseconds; `dedup_*`: how many samples this",
        "  program stands for after deduplication, and its canonical hash.", "",
        "Student prompt template:", "", "```", config.prompt_template.rstrip("\n"), "```", "",
        "## Licence and language", "",
        f"- Licence: `{terms.license}` ({terms.license_note}). The programs were written by the teacher model "
        "below; its terms of use may apply to them as well.",
        f"- Language: {', '.join(f'`{code}`' for code in terms.language) if terms.language else ''}"
        + (f" ({terms.language_note})" if terms.language else terms.language_note),
        f"- Source problems: {f'`{problems}`' if problems else NOT_RECORDED}", "",
        "## Counts at every stage", "",
        "From the sidecars (`.meta.json`) of each stage's output; a stage without one is not recorded.", "",
        "| stage | count | recorded by |", "|---|---|---|",
        _sampled_row(sample), _verified_row(verify), _dedup_row(dedup),
        f"| published | {rows:,} rows ({', '.join(f'{s} {n:,}' for s, n in counts.items())}); "
        f"{sum(not_passed.values()):,} not passing left out | this publish |", "",
    ]
    lines += _teacher_lines(sample, source, models or Counter(), rows) + _verifier_lines(verify) + _dedup_lines(dedup)
    lines += ["## Commands", "",
              "The command that reproduces each stage, as its sidecar records it. A stage that a pipeline ran "
              "(`ekt-curate run`, `ekt-curate demo`) records its own command, written from the settings it ran "
              "with (paths relative to the pipeline's workdir), and the command that ran it.", ""]
    for label, record in (("Sample", sample), ("Verify", verify), ("Dedup", dedup)):
        if record is not None and record.get("stage") == "merge":
            lines.append(f"- Verified in {len(record.get('shards') or [])} shards, merged by `{record.get('command')}`; "
                         "shard commands: " + "; ".join(f"`{s.get('command')}`" for s in record.get("shards") or [] if s))
        elif record is not None and record.get("backend") == "annotations" and "command" in record:
            lines.append(f"- {label} command: `{record['command']}` (the annotation teacher has no command of its "
                         "own; this one rebuilds the same samples, and runs the stages after them)")
        else:
            lines.append(f"- {label} command: {shown(record, 'command')}" + _run_by(record.get("run_by") if record else None))
    publish = command_line()
    lines += [f"- Publish command: `{publish}`" + _run_by(invoked_command() if invoked_command() != publish else None), ""]
    return "\n".join(lines)


def _run_by(command: str | None) -> str:
    return f" (run by `{command}`)" if command else ""


def _sampled_row(sample: dict[str, Any] | None) -> str:
    if sample is None:
        return f"| sampled | {NOT_RECORDED} (no sample sidecar) | |"
    count, read = sample.get("problem_count", 0), sample.get("problems_read")
    unused = f" ({read:,} read; {read - count:,} gave no samples)" if isinstance(read, int) and read != count else ""
    if sample.get("backend") == "annotations":  # rewritten whole on every run: no resume
        return (f"| sampled | {sample.get('samples_written', 0):,} samples written for {count:,} problems{unused}, "
                f"n = {sample.get('n')} | the annotation teacher |")
    return (f"| sampled | {sample.get('samples_written', 0):,} samples written for {count:,} problems{unused}, "
            f"n = {sample.get('n')} (a resumed run counts the samples it wrote itself) | `ekt-curate sample` |")


def _verified_row(verify: dict[str, Any] | None) -> str:
    if verify is None:
        return f"| verified | {NOT_RECORDED} (no verify sidecar; every published row carries a passing verdict) | |"
    statuses = verify.get("statuses") or {}
    samples = verify.get("samples") or 0
    rate = f" ({100 * statuses.get('pass', 0) / samples:.1f}% pass)" if samples else ""
    cut = "; **the run was interrupted**: counts are of what it wrote" if verify.get("complete") is False else ""
    return (f"| verified | {verify.get('lines', 0):,} lines: {samples:,} samples run{rate}, "
            f"{verify.get('rejected', 0):,} rejected as malformed; by status: "
            + (", ".join(f"{status} {n:,}" for status, n in statuses.items()) or "none")
            + f"; tasks with a pass {verify.get('tasks_passed', 0):,} of {verify.get('tasks', 0):,}{cut} | "
            f"`ekt-curate {verify.get('stage')}` |")


def _dedup_row(dedup: dict[str, Any] | None) -> str:
    if dedup is None:
        return f"| deduplicated | {NOT_RECORDED} (no dedup sidecar) | |"
    dropped = dedup.get("dropped") or {}
    return (f"| deduplicated | {dedup.get('read', 0):,} read, {dedup.get('kept', 0):,} kept; dropped "
            + (", ".join(f"{reason} {n:,}" for reason, n in dropped.items()) or "none") + " | `ekt-curate dedup` |")


SAMPLING = (("Teacher model", "model"), ("Backend", "backend"), ("Prompt format", "prompt"),
            ("Exemplars in the prompt", "exemplars"), ("Endpoint", "endpoint"), ("Chat template", "chat_template"),
            ("Temperature", "temperature"), ("top_p", "top_p"), ("Max new tokens", "max_new_tokens"),
            ("Samples per problem (n)", "n"), ("Stop sequences", "stop"), ("Seed", "seed"), ("Seeding", "seeding"),
            ("Exemplar problems excluded", "excluded_exemplars"))


ANNOTATIONS = ("Backend `annotations`: programs built from GSM8K's calculator annotations (`<<48/2=24>>`), a share "
               "of them broken the ways teacher samples fail (ekt_curate/annotation_teacher.py); no model was sampled.")


def _teacher_lines(sample: dict[str, Any] | None, source: Path, models: Counter[str], rows: int) -> list[str]:
    lines = ["## Teacher and sampling", ""]
    named = _models_shown(models, rows) if models else None  # the models the published records name
    if sample is not None:
        model = None if sample.get("model") else named  # a sidecar that names no model: the records may
        if sample.get("backend") != "annotations":
            return lines + _settings(sample, SAMPLING, model) + [""]
        unused = [(label, key) for label, key in SAMPLING if key in sample and sample[key] is None]
        lines += [ANNOTATIONS, "", *_settings(sample, [s for s in SAMPLING if s not in unused], model)]
        return lines + ([f"- Do not apply: {', '.join(label for label, _ in unused)}"] if unused else []) + [""]
    meta = _records_meta(source)
    if not meta and not named:
        return lines + [f"- {NOT_RECORDED}: no sample sidecar and no `meta` in the records", ""]
    if not meta:
        return lines + ["No sample sidecar and no `meta` in the records; the records name the model:", "",
                        f"- Teacher model: {named}", f"- The other sampling settings: {NOT_RECORDED}", ""]
    lines += ["No sample sidecar; from the first record's `meta`:", ""]
    if "model" not in meta and "teacher" in meta:  # the offline annotation teacher names itself so
        meta = {**meta, "model": meta["teacher"]}
    return lines + _settings(meta, SAMPLING, named) + [""]


def _settings(record: dict[str, Any], settings: Any, model: str | None = None) -> list[str]:
    return [f"- {label}: {model if key == 'model' and model else shown(record, key)}" for label, key in settings]


def _models_shown(models: Counter[str], rows: int) -> str:
    """The models the published records name (their `meta`, a `model` key, an OpenAI response's)."""
    if len(models) == 1:
        text = f"`{next(iter(models))}`"
    else:
        text = ", ".join(f"`{model}` ({_rows(count)})" for model, count in models.most_common())
    unnamed = rows - sum(models.values())
    return text + " (named by the records" + (f"; {_rows(unnamed)} name{'s' * (unnamed == 1)} none)"
                                              if unnamed > 0 else ")")


def _rows(count: int) -> str:
    return f"{count:,} row{'s' * (count != 1)}"


def _records_meta(source: Path) -> dict[str, Any]:
    from ekt_curate.sources import iter_raw, parse_source

    for _, raw in iter_raw(parse_source(source)):
        try:
            meta = json.loads(raw).get("meta")
        except (ValueError, AttributeError):
            continue
        return meta if isinstance(meta, dict) else {}
    return {}


VERIFIER = (("Sandbox policy", "policy"), ("Sandbox layers", "sandbox_layers"), ("Answer convention", "answer"),
            ("Checker (--checker)", "checker"), ("Gold precision (--gold-precision)", "gold_precision"),
            ("Relative tolerance", "rel_tol"), ("Prelude", "prelude"))


def _verifier_lines(verify: dict[str, Any] | None) -> list[str]:
    lines = ["## Verifier", ""]
    if verify is None:
        return lines + [f"- {NOT_RECORDED}: no verify sidecar came with the input", ""]
    lines.append(f"- ekt-curate version: {shown(verify, 'ekt_curate_version')}")
    return lines + [f"- {label}: {shown(shard_setting(verify, key), key)}" for label, key in VERIFIER] + [""]


def _dedup_lines(dedup: dict[str, Any] | None) -> list[str]:
    if dedup is None:
        return ["## Deduplication", "", f"- {NOT_RECORDED}: no dedup sidecar came with the input", ""]
    return ["## Deduplication", "",
            f"- Near-duplicate threshold: {shown(dedup, 'threshold')}, MinHash permutations: {shown(dedup, 'num_perm')}",
            f"- At most per task: {shown(dedup, 'max_per_task')}; failed samples kept: {shown(dedup, 'keep_failed')}; "
            f"unverified input: {shown(dedup, 'unverified')}", ""]
