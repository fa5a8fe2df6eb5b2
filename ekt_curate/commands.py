"""What each command does once its arguments are parsed: build the stage's config, run it, print
the outcome. Stages (and through them rich, the sandbox, the ML libraries) are imported inside
each handler, so parsing and ``--help`` stay light."""

from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def field_names(args: argparse.Namespace) -> object:
    """The --*-field options as FieldNames (ekt_curate.fields: standard library only)."""
    from ekt_curate.fields import FieldNames

    return FieldNames(id=args.id_field, completion=getattr(args, "completion_field", "completion"),
                      gold=args.gold_field, question=args.question_field)


def _refuse_dash_with_executor(args: argparse.Namespace) -> None:
    if args.executor and "-" in (str(args.input), str(args.output)):
        from ekt_curate.errors import EktError

        raise EktError("'-' (standard input or output) is for runs on this machine; an --executor run reads "
                       "and writes files its ranks can reach")


def run_verify(args: argparse.Namespace) -> int:
    _refuse_dash_with_executor(args)
    if args.executor:  # on datatrove: ranks, then one merged file (ekt_curate/distributed)
        from ekt_curate.distributed.commands import run_verify_executor

        return run_verify_executor(args)
    from ekt_curate.report import ProgressFactory, print_verify_summary
    from ekt_curate.stages.verify import VerifyConfig, parse_shard, run_verify
    from ekt_curate.stdio import STDOUT_SHOWN, standard_streams

    with standard_streams(args.input, args.output, ".verified.jsonl", (".rejects.jsonl",), resume=args.resume,
                          overwrite=args.overwrite) as streams:
        config = VerifyConfig(
            input=streams.input, output=streams.output, problems=args.problems, answer=args.answer,
            prelude=args.prelude, rel_tol=args.rel_tol, gold_precision=args.gold_precision, checker=args.checker,
            policy=args.policy, compare=args.compare, all_cases=args.all_cases, case_seconds=args.case_seconds,
            workers=args.workers, resume=args.resume, overwrite=args.overwrite,
            shard=parse_shard(args.shard) if args.shard else None, fields=field_names(args))
        with ProgressFactory("verify", enabled=not args.quiet) as progress:
            summary = run_verify(config, progress)
    if streams.to_stdout:  # the files were delivered: name them where they are now
        summary.output, summary.rejects = STDOUT_SHOWN, streams.beside / summary.rejects.name
    print_verify_summary(summary, streams.summary_stream)
    if summary.rejected and not summary.samples:
        # Nothing was verified: the wrong file, or fields under other names. Not a success.
        print(f"ekt-curate: error: every input line was rejected ({summary.rejected:,}), see {summary.rejects}; "
              f"check the file and the field names (--id-field, --completion-field, --gold-field)", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_FAILED if args.strict and summary.rejected else EXIT_OK


def run_merge(args: argparse.Namespace) -> int:
    from ekt_curate.stages.merge import run_merge

    samples, rejects = run_merge(args.shards, args.output, overwrite=args.overwrite, allow_partial=args.allow_partial)
    print(f"merged {len(args.shards)} shards: {samples:,} samples into {args.output}"
          + (f", {rejects:,} rejected lines beside it" if rejects else ""))
    return EXIT_OK


def run_dedup(args: argparse.Namespace) -> int:
    _refuse_dash_with_executor(args)
    if args.executor:  # on datatrove: ranks by task, then one merged file (ekt_curate/distributed)
        from ekt_curate.distributed.commands import run_dedup_executor

        return run_dedup_executor(args)
    if args.resume or args.workers is not None:
        from ekt_curate.errors import EktError

        raise EktError("--resume and --workers are for --executor runs; dedup on one machine reruns with --overwrite")
    from ekt_curate.report import ProgressFactory, print_dedup_summary
    from ekt_curate.stages.dedup import DedupConfig, run_dedup
    from ekt_curate.stdio import STDOUT_SHOWN, standard_streams

    with standard_streams(args.input, args.output, ".curated.jsonl", (".dropped.jsonl",),
                          overwrite=args.overwrite) as streams:
        config = DedupConfig(input=streams.input, output=streams.output, threshold=args.threshold,
                             num_perm=args.num_perm, max_per_task=args.max_per_task, keep_failed=args.keep_failed,
                             unverified=args.unverified, overwrite=args.overwrite)
        with ProgressFactory("dedup", enabled=not args.quiet) as progress:
            summary = run_dedup(config, progress)
    if streams.to_stdout:
        summary.output, summary.dropped_path = STDOUT_SHOWN, streams.beside / summary.dropped_path.name
    print_dedup_summary(summary, streams.summary_stream)
    return EXIT_OK


def run_stats(args: argparse.Namespace) -> int:
    from ekt_curate.sources import parse_source
    from ekt_curate.stages.stats import parse_ks, run_stats

    from ekt_curate.stdio import spooled_input

    with spooled_input(args.input) as source:
        parse_source(source)  # exists, not empty, a format we read: one line before any work
        if args.compare:
            parse_source(args.compare)
        run_stats(source, parse_ks(args.k), compare=args.compare, json_path=args.json, html_path=args.html,
                  show=not args.quiet)
    return EXIT_OK


def run_publish(args: argparse.Namespace) -> int:
    from ekt_curate.prompts import DEFAULT_STUDENT_TEMPLATE, load_template
    from ekt_curate.stages.publish import PublishConfig, run_publish

    config = PublishConfig(
        input=args.input, name=args.name, out=args.out, push_to_hub=args.push_to_hub, private=args.private,
        validation_fraction=args.validation_fraction, overwrite=args.overwrite, problems=args.problems,
        license=args.license, language=_listed(args.language), tags=_listed(args.tags), messages=args.messages,
        fields=field_names(args), prompt_template=load_template(args.prompt_template) if args.prompt_template else DEFAULT_STUDENT_TEMPLATE)
    summary = run_publish(config)
    splits = ", ".join(f"{split} {rows:,} rows" for split, rows in summary.splits.items())
    print(f"published {summary.folder} ({splits}; {len(summary.files)} parquet files + README.md)")
    if summary.hub_url:
        print(f"pushed to {summary.hub_url}")
    return EXIT_OK


def _listed(text: str | None) -> tuple[str, ...] | None:
    """A comma-separated option as a tuple (an empty item is kept, so the stage refuses it by name)."""
    return None if text is None else tuple(item.strip() for item in text.split(","))


def refuse_unused(args: argparse.Namespace, applies: bool, when: str, defaults: dict[str, object]) -> None:
    """A flag given where it does nothing is an error, not silently ignored (a flag at its default passes)."""
    from ekt_curate.errors import EktError

    given = [name for name, default in defaults.items() if getattr(args, name) != default]
    if given and not applies:
        flags = ", ".join({"n": "-n", "engine_args": "--engine-arg"}.get(name, "--" + name.replace("_", "-"))
                          for name in given)
        raise EktError(f"{flags} {'has' if len(given) == 1 else 'have'} no effect {when}")


def run_sample(args: argparse.Namespace) -> int:
    from ekt_curate.report import ProgressFactory, print_sample_summary, print_verify_summary
    from ekt_curate.stages.sample import SampleConfig, run_sample
    from ekt_curate.stages.verify import parse_shard

    # with --executor, --workers is the ranks running at once
    refuse_unused(args, args.verify, "without --verify", {"policy": "default", **({} if args.executor else {"workers": None})})
    refuse_unused(args, args.backend == "transformers", f"with --backend {args.backend}", {"batch_size": None})
    refuse_unused(args, args.backend == "vllm", f"with --backend {args.backend}", {"engine_args": []})
    refuse_unused(args, args.backend == "openai", f"with --backend {args.backend} (openai only)",
                  {"base_url": None, "api_key_env": "OPENAI_API_KEY", "concurrency": 16, "max_retries": 6})
    config = SampleConfig(
        problems=args.problems, fields=field_names(args), model=args.model, output=args.output, n=args.n,
        prompt=args.prompt, exemplars=args.exemplars,
        temperature=args.temperature, top_p=args.top_p, max_new_tokens=args.max_new_tokens, backend=args.backend,
        seed=args.seed, shard=parse_shard(args.shard) if args.shard else None, resume=args.resume,
        overwrite=args.overwrite, limit=args.limit, include_exemplars=args.include_exemplars,
        batch_size=args.batch_size, base_url=args.base_url, api_key_env=args.api_key_env,
        concurrency=args.concurrency, max_retries=args.max_retries, stop=tuple(args.stop) if args.stop else None, verify=args.verify,
        endpoint=args.endpoint, seeding=args.seeding, engine_args=tuple(args.engine_args),
        verify_policy=args.policy, workers=args.workers)
    if args.executor:  # on datatrove: ranks by problem, then one merged file (ekt_curate/distributed)
        from ekt_curate.distributed.commands import run_sample_executor

        return run_sample_executor(args, config)
    with ProgressFactory("sample", enabled=not args.quiet, unit="samples") as progress:
        summary = run_sample(config, progress)
    print_sample_summary(summary)
    if summary.verified is not None:
        print_verify_summary(summary.verified)
    return EXIT_OK


def overrides(pairs: list[str]) -> dict[str, object]:
    import yaml

    from ekt_curate.errors import EktError

    values: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise EktError(f"--set takes KEY=VALUE, got {pair!r}")
        value = yaml.safe_load(text)
        if isinstance(value, bool) and text.strip().lower() not in ("true", "false"):
            value = text.strip()  # YAML 1.1 reads no/yes/on/off as booleans; `--set save_strategy=no` means "no"
        values[key.strip()] = value
    return values


def run_train(args: argparse.Namespace) -> int:
    from ekt_curate.stages.train import TrainConfig, run_train

    summary = run_train(TrainConfig(dataset=args.dataset, model=args.model, output_dir=args.output_dir,
                                    config=args.config, overrides=overrides(args.set), method=args.method,
                                    teacher=args.teacher, kd_beta=args.kd_beta, kd_lm_weight=args.kd_lm_weight,
                                    quiet=args.quiet))
    losses = f"; loss {summary.first_loss:.3f} -> {summary.last_loss:.3f}" if summary.last_loss is not None else ""
    print(f"trained on {summary.train_rows:,} examples, {summary.steps:,} steps{losses}; "
          f"student saved in {summary.output_dir}")
    return EXIT_OK


def run_eval(args: argparse.Namespace) -> int:
    from ekt_curate.stages.evaluate import EvalConfig, run_eval
    from ekt_curate.stages.stats import parse_ks

    # --greedy is one sample at temperature 0 and pass@1: these would be replaced without a word
    refuse_unused(args, not args.greedy, "with --greedy (one greedy sample, pass@1)",
                  {"n": 100, "temperature": 0.6, "k": "1,10,100"})
    result = run_eval(EvalConfig(
        model=args.model, problems=args.problems, n=args.n, ks=parse_ks(args.k), temperature=args.temperature,
        greedy=args.greedy, max_new_tokens=args.max_new_tokens, out=args.out, compare=args.compare,
        limit=args.limit, backend=args.backend, base_url=args.base_url, policy=args.policy, workers=args.workers,
        resume=args.resume, quiet=args.quiet))
    shown = ", ".join(f"pass@{k} {'n/a' if v is None else f'{100 * v:.1f}%'}" for k, v in result["pass_at_k"].items())
    print(f"eval: {shown}, coverage {100 * result['coverage']:.1f}% over {result['tasks']:,} problems; "
          f"details in {result['folder']}")
    return EXIT_OK


def run_expert_iteration(args: argparse.Namespace) -> int:
    from ekt_curate.stages.expert_iteration import ExpertIterationConfig, run_expert_iteration

    history = run_expert_iteration(ExpertIterationConfig(
        seed=args.seed, model=args.model, workdir=args.workdir, problems=args.problems, rounds=args.rounds, n=args.n,
        limit=args.limit, temperature=args.temperature, max_new_tokens=args.max_new_tokens, train_config=args.config,
        train_overrides=overrides(args.set), policy=args.policy, workers=args.workers))
    last = history[-1]
    student = args.workdir / f"round-{last['round']}" / "student"
    outside = last.get("pool_tasks_outside_problems", 0)
    print(f"expert iteration: {len(history) - 1} rounds; the pool solves {last['solved']:,} of "
          f"{last['problems']:,} problems" + (f" (and {outside:,} tasks outside them)" if outside else "")
          + f"; final student: {student}")
    return EXIT_OK


def run_pipeline(args: argparse.Namespace) -> int:
    from ekt_curate.stages.pipeline import load_pipeline, run_pipeline
    from ekt_curate.stages.pipeline_checks import check_pipeline

    pipeline = load_pipeline(args.pipeline)
    check_pipeline(pipeline, args.pipeline)  # before the first stage spends the teacher's time
    run_pipeline(pipeline, quiet=args.quiet)
    return EXIT_OK


def run_demo(args: argparse.Namespace) -> int:
    from ekt_curate.stages.demo import run_demo

    return run_demo(args.out, problems=args.problems, samples=args.samples, workers=args.workers,
                    train=not args.no_train)


def run_serve(args: argparse.Namespace) -> int:
    from ekt_curate.serve.deps import require_serve_extra

    require_serve_extra()
    from ekt_curate.serve.server import run_server
    from ekt_curate.serve.settings import ServeSettings

    settings = ServeSettings(
        host=args.host, port=args.port, workers=args.workers, policy=args.policy, token_file=args.token_file,
        max_queue=args.max_queue, queue_wait=args.queue_wait, max_batch=args.max_batch,
        max_body_bytes=args.max_body_bytes, body_seconds=args.body_seconds, deadline=args.deadline, drain_seconds=args.drain_seconds,
        checker=args.checker, compare=args.compare, case_seconds=args.case_seconds)
    return run_server(settings)
