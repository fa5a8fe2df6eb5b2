"""`ekt-curate publish`: a curated file as a Hub-ready Hugging Face dataset, optionally pushed.

    OUT/NAME/
      data/train-00000-of-0000N.parquet   (and validation-*, split by task)
      README.md                            dataset card: YAML configs + provenance

Columns (publish_rows.py): ``prompt``/``completion`` for TRL's SFTTrainer (the problem as the
student will see it; the verified program alone, without the teacher's prose), and ``task_id``,
``question``, ``gold`` (as the verdict compared it), ``gold_raw`` (as given), ``answer`` and the
verdict and dedup metadata as plain columns; with ``messages=True`` also ``messages``, the same pair as a chat, in a
config of its own (the card: publish_card.py). Everything is written to a temporary folder and renamed into
place, so an interrupted publish never leaves a half-written dataset.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ekt_curate.errors import EktError, HubError
from ekt_curate.fields import DEFAULT_FIELDS, FieldNames
from ekt_curate.output_lock import OutputLock
from ekt_curate.prompts import DEFAULT_STUDENT_TEMPLATE
from ekt_curate.provenance import find_verify, read_meta
from ekt_curate.stages.publish_card import check_terms
from ekt_curate.stages.publish_rows import model_of, row_of, schema_of


@dataclass(frozen=True)
class PublishConfig:
    input: Path
    name: str
    out: Path = Path("datasets_out")
    push_to_hub: str | None = None     # ORG/NAME
    private: bool = False
    validation_fraction: float = 0.0
    overwrite: bool = False
    problems: str | None = None        # to fill in questions the records lack
    prompt_template: str = DEFAULT_STUDENT_TEMPLATE
    rows_per_shard: int = 200_000
    license: str | None = None         # None: the problem source's where known (GSM8K: mit), else unknown
    language: tuple[str, ...] | None = None  # None: the problem source's where known (GSM8K: en)
    tags: tuple[str, ...] | None = None      # None: publish_card.BASE_TAGS and the source's
    messages: bool = False             # also a `messages` column (TRL's conversational format)
    fields: FieldNames = DEFAULT_FIELDS  # of the --problems source


@dataclass
class PublishSummary:
    folder: Path
    splits: dict[str, int]
    files: list[str]
    hub_url: str | None = None




def split_of(task_id: str, validation_fraction: float) -> str:
    """Deterministic, by task: a task never lands in both splits."""
    if validation_fraction <= 0:
        return "train"
    bucket = int.from_bytes(hashlib.sha256(task_id.encode()).digest()[:8], "big") / 2 ** 64
    return "validation" if bucket < validation_fraction else "train"


def _passed(record: Any, source: Path, line: int, not_passed: Counter[str]) -> bool:
    """True for a record verify passed; counts the others by status. A record without a verdict
    stops the publish: an unverified file must never become a dataset of "verified" programs."""
    verdict = record.get("verdict") if isinstance(record, dict) else None
    if not isinstance(verdict, dict) or not isinstance(verdict.get("passed"), bool):
        raise EktError(f"{source}:{line}: no verdict: publish takes verified samples (the output of "
                       f"'ekt-curate verify', usually after 'ekt-curate dedup'); nothing was written")
    if verdict["passed"]:
        return True
    not_passed[str(verdict.get("status"))] += 1
    return False


def run_publish(config: PublishConfig) -> PublishSummary:
    if not config.name or "/" in config.name or config.name.startswith("."):
        raise EktError(f"--name must be a plain folder name, got {config.name!r}")
    if not 0.0 <= config.validation_fraction < 1.0:
        raise EktError(f"--validation-fraction must be in [0, 1), got {config.validation_fraction}")
    if config.push_to_hub is not None and config.push_to_hub.count("/") != 1:
        raise EktError(f"--push-to-hub takes ORG/NAME, got {config.push_to_hub!r}")
    check_terms(config.license, config.language, config.tags)
    if config.out.exists() and not config.out.is_dir():
        raise EktError(f"--out {config.out}: is a file; --out takes the folder datasets are written into")
    config.out.mkdir(parents=True, exist_ok=True)
    with OutputLock(config.out / config.name):  # two publishes of one dataset at once: the second is refused
        return _publish(config)


def iter_lines(source: Path) -> Any:
    """(position, raw JSON) of a JSON Lines, parquet or CSV file, a dataset folder or hf:ORG/NAME (sources.py)."""
    from ekt_curate.sources import iter_raw, parse_source

    return iter_raw(parse_source(source))


def _publish(config: PublishConfig) -> PublishSummary:
    from ekt_curate.sources import parse_source

    source = parse_source(config.input).path or config.input  # checked (exists, not empty, its format) here
    target = config.out / config.name
    if target.exists() and not config.overwrite:
        raise EktError(f"{target} already exists: pass --overwrite to replace it")
    # Questions and gold the records lack come from the problems verify used, unless given.
    problems_source = config.problems or (find_verify(read_meta(source)) or {}).get("problems")
    questions = golds = None
    if problems_source:
        from ekt_curate.problems import iter_problems

        problems = list(iter_problems(problems_source, config.fields))
        questions = {p.task_id: p.question for p in problems}
        golds = {p.task_id: p.gold for p in problems}
    # pass 1: validate and count rows per split (shard counts go in the file names). Only
    # passing, verified records are published: the card promises every program gives the gold.
    counts: Counter[str] = Counter()
    not_passed: Counter[str] = Counter()
    models: Counter[str] = Counter()  # the teachers the published records name, for the card
    for line, raw in iter_lines(source):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            if not _passed(record, source, line, not_passed):
                continue
            row_of(record, config.prompt_template, questions, golds)
        except (ValueError, KeyError, TypeError) as exc:
            raise EktError(f"{source}:{line}: cannot publish this record: {exc}") from None
        counts[split_of(str(record["task_id"]), config.validation_fraction)] += 1
        model = model_of(record)
        if model is not None:
            models[model] += 1
    if not counts:
        left_out = f" ({sum(not_passed.values()):,} records did not pass)" if not_passed else ""
        raise EktError(f"{source}: no passing records to publish{left_out}")
    if not counts.get("train"):  # a student trained on it would have nothing to learn from
        raise EktError(f"{source}: --validation-fraction {config.validation_fraction:g} puts all {counts['validation']:,} "
                       f"passing records in validation and none in train (tasks go whole to one split, by a "
                       f"hash of the task id): lower it, or publish without a validation split")

    config.out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{config.name}.", dir=config.out))
    os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it 0700; the dataset is for others too
    try:
        files = _write_parquet(source, staging, counts, config, questions, golds)
        _write_card(staging, counts, config, source, not_passed, models)
        # The student must be trained and evaluated with the very prompt it was published with.
        (staging / "prompt_template.txt").write_text(config.prompt_template, encoding="utf-8")
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    summary = PublishSummary(target, dict(sorted(counts.items(), key=lambda kv: kv[0] != "train")), files)
    if config.push_to_hub:
        summary.hub_url = _push(target, config, _hub_token(target))
    return summary


def _write_parquet(source: Path, staging: Path, counts: Counter[str], config: PublishConfig,
                   questions: dict[str, str] | None, golds: dict[str, str] | None) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = schema_of(config.messages)
    (staging / "data").mkdir()
    shards = {split: max(1, math.ceil(n / config.rows_per_shard)) for split, n in counts.items()}
    writers: dict[str, Any] = {}
    written: Counter[str] = Counter()
    buffers: dict[str, list[dict[str, Any]]] = {split: [] for split in counts}
    files: list[str] = []

    def flush(split: str) -> None:
        rows = buffers[split]
        if rows:
            writers[split].write_table(pa.Table.from_pylist(rows, schema=schema))
            rows.clear()

    def writer_for(split: str) -> Any:
        index = written[split] // config.rows_per_shard
        name = f"data/{split}-{index:05d}-of-{shards[split]:05d}.parquet"
        current = writers.get(split)
        if current is None or current.where != str(staging / name):
            if current is not None:
                flush(split)
                current.close()
            writers[split] = pq.ParquetWriter(str(staging / name), schema)
            files.append(name)
        return writers[split]

    try:
        for _, raw in iter_lines(source):
            if not raw.strip():
                continue
            record = json.loads(raw)
            if record["verdict"]["passed"] is not True:
                continue  # counted in pass 1
            split = split_of(str(record["task_id"]), config.validation_fraction)
            writer_for(split)
            buffers[split].append(row_of(record, config.prompt_template, questions, golds, config.messages))
            written[split] += 1
            if len(buffers[split]) >= 10_000 or written[split] % config.rows_per_shard == 0:
                flush(split)
        for split in list(writers):
            flush(split)
    finally:
        for current in writers.values():
            current.close()
    return sorted(files)


def _write_card(staging: Path, counts: Counter[str], config: PublishConfig, source: Path,
                not_passed: Counter[str], models: Counter[str]) -> None:
    from ekt_curate.stages.publish_card import write_card

    write_card(staging, config.name, counts, config, source, not_passed, schema_of(config.messages).names, models)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _swap_into_place(staging: Path, target: Path) -> None:
    if target.exists():
        retired = target.with_name(f".{target.name}.old")
        shutil.rmtree(retired, ignore_errors=True)
        os.replace(target, retired)
        os.replace(staging, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, target)


def _hub_token(folder: Path) -> str:
    from huggingface_hub import get_token

    token = os.environ.get("HF_TOKEN") or get_token()
    if not token:
        raise HubError(f"no Hugging Face token: set HF_TOKEN or log in with `hf auth login` and publish again; "
                       f"the dataset is written in {folder}")
    return token


def _push(folder: Path, config: PublishConfig, token: str | None) -> str:
    from huggingface_hub import HfApi

    repo_id = str(config.push_to_hub)
    api = HfApi()
    try:
        url = api.create_repo(repo_id, repo_type="dataset", private=config.private, exist_ok=True, token=token)
        api.upload_folder(repo_id=repo_id, folder_path=str(folder), repo_type="dataset", token=token,
                          commit_message=f"Publish {config.name} with ekt-curate")
    except Exception as exc:  # noqa: BLE001 - network and Hub errors alike: the local copy stays
        detail = str(exc).replace(token or "\0", "***").splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise HubError(f"could not push to the Hub ({type(exc).__name__}: {detail}); the dataset is intact "
                       f"in {folder}") from None
    return str(url)
