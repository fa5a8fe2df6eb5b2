"""The verify stage: samples.jsonl in, one verdict per line out, in input order.

    read lines -> [shard] -> parse -> attach gold -> judge (sandbox + checker) -> write

Every input line ends in exactly one of two files, in input order: the output
(the record plus ``verdict``) or the rejects file (line number, reason, raw
text); a response with several choices is one sample per choice, each in one of
the two, in choice order. That makes resuming exact: the last line number (and
choice) written to either file is where the run stopped, and a line torn by a
kill is cut before continuing.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ekt_curate.judgement.compare import DEFAULT_REL_TOL
from ekt_curate.errors import EktError, InputError, OutputError
from ekt_curate.jsonl import LineWriter, check_output_file, dumps, follow_lines, iter_records, repair_tail
from ekt_curate.fields import DEFAULT_FIELDS, FieldNames
from ekt_curate.output_lock import OutputLock
from ekt_curate.provenance import meta_path, write_meta
from ekt_curate.steps.attach_gold import AttachGold
from ekt_curate.steps.base import Item
from ekt_curate.judge import Judge, check_options
from ekt_curate.judge.output_match import COMPARE_MODES
from ekt_curate.steps.judge import JudgeSamples
from ekt_curate.steps.parse_samples import ParseSamples

MAX_REJECT_MESSAGES = 20  # on stderr; the rejects file has them all


@dataclass(frozen=True)
class VerifyConfig:
    input: Path
    output: Path | None = None
    problems: str | None = None       # gsm8k:train | gsm8k:test | FILE, for records without gold
    answer: str = "auto"              # auto | solution | stdout | var:NAME
    prelude: Path | None = None
    rel_tol: float = DEFAULT_REL_TOL
    gold_precision: str = "auto"      # auto | always | off: see ekt_curate/judgement/compare.py
    checker: str = "strict"           # strict | math-verify
    compare: str = "lines"            # code tests' printed output: exact | lines | tokens
    all_cases: bool = False           # code tests: run every case, not only up to the first failure
    case_seconds: float | None = None # code tests: a case's limit in the harness (default: the policy's wall)
    policy: str = "default"
    workers: int | None = None
    resume: bool = False
    overwrite: bool = False
    shard: tuple[int, int] | None = None  # (index, count), index from 0
    fields: FieldNames = DEFAULT_FIELDS   # where records keep their id, program, gold, question

    def __post_init__(self) -> None:
        check_options(self.rel_tol, self.gold_precision, self.checker)
        if self.compare not in COMPARE_MODES:
            raise EktError(f"unknown --compare {self.compare!r}: use {', '.join(COMPARE_MODES)}")
        if self.case_seconds is not None and not 0 < self.case_seconds <= 600:
            raise EktError(f"--case-seconds must be in (0, 600], got {self.case_seconds:g}")
        if self.workers is not None and self.workers < 1:
            raise EktError(f"--workers must be at least 1, got {self.workers}")


@dataclass
class VerifySummary:
    output: Path
    rejects: Path
    statuses: Counter[str] = field(default_factory=Counter)
    reject_reasons: Counter[str] = field(default_factory=Counter)
    tasks: set[str] = field(default_factory=set)
    tasks_passed: set[str] = field(default_factory=set)
    resumed: int = 0                  # lines already done by an earlier run
    processed: int = 0                # lines handled by this run
    seconds: float = 0.0
    layers: dict[str, str] = field(default_factory=dict)
    steps: dict[str, dict[str, object]] = field(default_factory=dict)  # per step: seen, dropped by reason
    gold_not_numeric: int = 0         # tasks whose gold is text while their answers are numbers (this run)

    @property
    def samples(self) -> int:
        return sum(self.statuses.values())

    @property
    def rejected(self) -> int:
        return sum(self.reject_reasons.values())

    def add(self, verdict: dict[str, object], task_id: str) -> None:
        self.statuses[str(verdict["status"])] += 1
        self.tasks.add(task_id)
        if verdict["passed"]:
            self.tasks_passed.add(task_id)


def parse_shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise EktError(f"--shard takes I/N (for example 0/8), got {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise EktError(f"--shard {text}: need 0 <= I < N")
    return index, count


def output_paths(config: VerifyConfig) -> tuple[Path, Path]:
    if config.output is not None:
        output = config.output
    else:
        from ekt_curate.sources import parse_source

        # next to a local input; a Hub dataset's output goes to the current folder
        source = parse_source(config.input) if str(config.input).startswith("hf:") else None
        stem = source.stem if source else config.input.name.removesuffix(".jsonl")
        for suffix in (".json", ".ndjson"):  # JSON either way; a table's format stays in the name, so
            stem = stem.removesuffix(suffix)  # samples.parquet and samples.csv never share an output
        shard = f".shard-{config.shard[0]}-of-{config.shard[1]}" if config.shard else ""
        output = Path(f"{stem}.verified{shard}.jsonl") if source else config.input.with_name(f"{stem}.verified{shard}.jsonl")
    rejects = output.with_name(output.name.removesuffix(".jsonl") + ".rejects.jsonl")
    return output, rejects


def run_verify(config: VerifyConfig, progress: Callable[[int, int], Callable[[int], None]] | None = None,
               warn: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
               follow: Callable[[], bool] | None = None) -> VerifySummary:
    """Verify ``config.input``; ``progress(total, already_done)`` returns an advance(n) callback.
    With ``follow``, the input is still being written: read until ``follow()`` says it is done.
    One run per output: a second one refuses (EktError) before touching anything."""
    with OutputLock(output_paths(config)[0], warn):
        return _verify(config, progress, warn, follow)


def _verify(config: VerifyConfig, progress: Callable[[int, int], Callable[[int], None]] | None,
            warn: Callable[[str], None], follow: Callable[[], bool] | None) -> VerifySummary:
    from ekt_curate.sandbox import Sandbox

    from ekt_curate.sources import count as count_positions
    from ekt_curate.sources import iter_raw, parse_source

    parsed = None if follow else parse_source(config.input)  # JSON Lines, parquet, CSV, folder, hf:
    source = config.input
    output, rejects_path = output_paths(config)
    if output.resolve() == source.resolve() or rejects_path.resolve() == source.resolve():
        raise EktError(f"{output}: the output would overwrite the input")
    check_output_file(output)
    # Everything that can be wrong with the options is found before an output is touched:
    # --overwrite must never delete a finished run and then fail on a typo.
    prelude = read_prelude(config.prelude)
    references = load_references(config)
    sandbox = Sandbox(config.policy, workers=config.workers, prelude=prelude, answer=config.answer)
    summary = VerifySummary(output, rejects_path)
    start_after, written_choices = _prepare_outputs(config, output, rejects_path, summary)
    write_meta(output, "verify", {"complete": False, **settings_of(config)}, upstream=config.input)
    total = count_positions(parsed) if parsed else 0
    shard_total = total if not config.shard else len(range(config.shard[0], total, config.shard[1]))
    shard_done = start_after if not config.shard else len(range(config.shard[0], start_after, config.shard[1]))
    advance = progress(shard_total, shard_done) if progress else (lambda n: None)

    steps: list = []
    judge: JudgeSamples | None = None
    writer, reject_writer = LineWriter(output), LineWriter(rejects_path)
    started = time.monotonic()
    interrupted: KeyboardInterrupt | None = None  # SIGINT or SIGTERM: stop cleanly, sidecar, re-raise
    try:
        with sandbox:
            summary.layers = sandbox.layers
            steps = build_steps(config, sandbox, references, warn)
            judge = steps[-1]
            lines = follow_lines(source, follow, start_after) if follow else iter_raw(parsed, start_after)
            stream = (Item(line, raw) for line, raw in lines
                      if not config.shard or (line - 1) % config.shard[1] == config.shard[0])
            stream = steps[0](stream)  # parse: a line with several choices is an item per choice
            if written_choices:  # the run stopped inside such a line: its written choices are done
                stream = (item for item in stream if not (item.line == start_after + 1
                                                         and item.choice in written_choices))
            for step in steps[1:]:
                stream = step(stream)
            last_line = start_after
            for item in stream:
                if item.reject:
                    _write_reject(item, reject_writer, summary, config.input, warn)
                else:
                    assert item.record is not None and item.verdict is not None
                    item.record["verdict"] = item.verdict
                    if _write_verdict(item, writer):
                        summary.add(item.verdict, item.task_id)
                    else:
                        _write_reject(item, reject_writer, summary, config.input, warn)
                summary.processed += 1
                if item.line != last_line:  # progress counts input lines, not choices
                    last_line = item.line
                    advance(1)
    except KeyboardInterrupt as stop:
        interrupted = stop
    finally:
        if judge is not None:
            judge.close()
            summary.gold_not_numeric = len(judge.gold_not_numeric)
        writer.close()
        reject_writer.close()
        summary.seconds = time.monotonic() - started
        summary.steps = {step.stats.name: {"seen": step.stats.seen, "dropped": dict(step.stats.dropped)}
                         for step in steps}
    if summary.rejected > MAX_REJECT_MESSAGES:
        warn(f"... {summary.rejected - MAX_REJECT_MESSAGES} more rejected lines, all in {rejects_path}")
    _write_sidecar(output, warn, interrupted, {
        "complete": interrupted is None,  # an interrupted run's counts are of what it wrote
        "lines": summary.samples + summary.rejected, "samples": summary.samples, "rejected": summary.rejected,
        "statuses": dict(sorted(summary.statuses.items())), "tasks": len(summary.tasks),
        "tasks_passed": len(summary.tasks_passed), **settings_of(config),
        "gold_not_numeric_tasks": summary.gold_not_numeric, "sandbox_layers": summary.layers,
        "steps_this_run": summary.steps,
    }, upstream=config.input)
    if interrupted is not None:
        raise interrupted
    return summary


def _write_sidecar(output: Path, warn: Callable[[str], None], interrupted: KeyboardInterrupt | None,
                   data: dict[str, object], upstream: Path) -> None:
    try:
        write_meta(output, "verify", data, upstream=upstream)
    except OutputError as exc:
        if interrupted is None:
            raise
        warn(f"ekt-curate: {exc}")  # the interruption is what the user must hear about


def _write_verdict(item: Item, writer: LineWriter) -> bool:
    """Write the record with its verdict; a record JSON cannot hold (nested beyond the encoder's
    depth) turns into the line's reject instead, so the line still ends in exactly one file."""
    assert item.record is not None
    try:
        line = dumps(item.record)
    except (ValueError, RecursionError, TypeError) as exc:
        item.verdict = None
        item.reject = f"cannot write the record: {type(exc).__name__}: {str(exc)[:200]}"
        return False
    writer.write_line(line)
    return True


def settings_of(config: VerifyConfig) -> dict[str, Any]:
    """What decides a verdict besides the program: a resumed run must use the same, or one file
    would hold verdicts judged two ways under a sidecar that names only the last."""
    return {"policy": config.policy, "answer": config.answer, "rel_tol": config.rel_tol,
            "gold_precision": config.gold_precision, "checker": config.checker, "problems": config.problems,
            "compare": config.compare, "all_cases": config.all_cases, "case_seconds": config.case_seconds,
            "shard": list(config.shard) if config.shard else None,
            "prelude": str(config.prelude) if config.prelude else None, "fields": vars(config.fields)}


def _check_resumed_settings(config: VerifyConfig, output: Path) -> None:
    from ekt_curate.provenance import read_meta

    earlier = read_meta(output)
    if earlier is None or earlier.get("stage") != "verify":
        return  # written before sidecars held settings, or killed before its first write
    now = settings_of(config)
    for key, value in now.items():
        if key in earlier and earlier[key] != value:
            raise EktError(f"{output}: cannot resume with {key} {value!r}: the run so far used {earlier[key]!r} "
                           f"(resume with the same settings, or --overwrite to start again)")


def _prepare_outputs(config: VerifyConfig, output: Path, rejects: Path,
                     summary: VerifySummary) -> tuple[int, set[int]]:
    """Where to continue: (the last input line wholly handled, 0 for a fresh run; the choices
    already written of the line after it, when the run stopped among a line's choices)."""
    # Only rejects and no output: an earlier run verified nothing (wrong field names, say), so a
    # new run starts again without --overwrite; --resume still continues it.
    exists = output.exists() or (rejects.exists() and config.resume)
    if exists and not (config.resume or config.overwrite):
        raise EktError(f"{output} already exists: pass --resume to continue it, or --overwrite to start again")
    if config.overwrite or not exists:
        for path in (output, rejects, meta_path(output)):  # a stale sidecar would describe another run
            path.unlink(missing_ok=True)
        return 0, set()
    _check_resumed_settings(config, output)
    last, choices = 0, set()  # the last line written to either file, and which of its choices
    for path in (output, rejects):
        repair_tail(path)
        if not path.exists():
            continue
        try:
            for record in iter_records(path):
                if path is output:
                    entry = record["verdict"]
                    summary.add(entry, str(record.get("task_id")))
                else:
                    entry = record
                    summary.reject_reasons[str(record["reason"]).split(":")[0]] += 1
                line, choice = int(entry["line"]), entry.get("choice")
                if line > last:
                    last, choices = line, set()
                if line == last:
                    choices.add(choice if isinstance(choice, int) else None)
        except (ValueError, KeyError, TypeError) as exc:
            raise EktError(f"{path}: cannot resume, not a file written by verify ({exc})") from None
    summary.resumed = summary.samples + summary.rejected
    if None in choices or not choices:  # a whole line: done
        return last, set()
    # Some choices of the last line were written: read that line again and skip them. (Whether
    # all were is only known by reading it; if they were, every one is skipped.)
    return last - 1, {choice for choice in choices if choice is not None}


def _write_reject(item: Item, writer: LineWriter, summary: VerifySummary, source: Path,
                  warn: Callable[[str], None]) -> None:
    assert item.reject is not None
    writer.write({"line": item.line, **({"choice": item.choice} if item.choice is not None else {}),
                  "reason": item.reject, "raw": item.raw.decode("utf-8", "replace")[:10000]})
    summary.reject_reasons[item.reject.split(":")[0]] += 1
    if summary.rejected <= MAX_REJECT_MESSAGES:
        choice = f" (choice {item.choice})" if item.choice is not None else ""
        warn(f"{source}:{item.line}{choice}: {item.reject}")


def load_references(config: VerifyConfig) -> tuple[dict[str, str] | None, dict[str, dict] | None]:
    """(gold by task, tests by task) from --problems: a code problem set gives tests."""
    from ekt_curate.code_problems import is_code_source, load_tests
    from ekt_curate.problems import load_gold

    if not config.problems:
        return None, None
    if is_code_source(config.problems, config.fields):
        return None, load_tests(config.problems, config.fields)
    return load_gold(config.problems, config.fields), None


def build_steps(config: VerifyConfig, sandbox: Any, references: tuple[dict[str, str] | None, dict[str, dict] | None],
                warn: Callable[[str], None] | None = None) -> list:
    """The verify steps in their order, for every runner of verify (this stage and
    ekt_curate.distributed's VerifySamples), so the two cannot drift apart:

        parse -> attach gold (or tests) -> judge in ``sandbox`` (last: closed by the caller)

    The judge is ekt_curate.judge's, the one the reward and eval use too."""
    gold, tests = references
    judge = Judge(sandbox, config.checker, config.rel_tol, config.gold_precision, warn=warn, compare=config.compare,
                  all_cases=config.all_cases, case_seconds=config.case_seconds)
    return [ParseSamples(config.fields, gold_in_record=not config.problems),
            AttachGold(gold, config.problems, config.fields, tests), JudgeSamples(judge)]


def read_prelude(path: Path | None) -> str | None:
    """The prelude's text; a missing or unreadable file is one line (InputError)."""
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: prelude file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read prelude: {exc}") from None
