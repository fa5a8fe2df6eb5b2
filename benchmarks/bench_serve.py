"""The server under load, beside the in-process sandbox on the same programs, in one run.

    python benchmarks/bench_serve.py [--clients 64] [--seconds 60] [--workers 2] [--json out.json]

- served: `ekt-curate serve --workers N` in its own process; a load process (aiohttp, its own
  CPU) keeps ``--clients`` requests in flight for ``--seconds``, each a POST /run_code of one
  GSM8K-style program (benchmarks/bench_executor.py's mix) that also prints its request id.
  Then ``--verify-clients`` clients post /verify batches of ``--batch`` samples.
- in-process: ``Sandbox("default", workers=N).map`` on the same plain runs (Program(run=True)),
  as many as the served phase completed, in the same run.
Reported: programs/s each way and their ratio, p50/p99 latency per request, and the check that
every response came back exactly once with its own id (lost, duplicated or mixed-up: the run fails).
Everything is on 127.0.0.1; the load process shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

LISTENING = re.compile(r"listening on (http://\S+)")


def wrapped(program: str, tag: str) -> str:
    """The program (failing ones too: the mix has them), then its tag, which always runs."""
    return f"try:\n    exec({program!r}, {{}})\nexcept BaseException:\n    pass\n{tag}"


def tagged(programs: list[str], count: int) -> list[str]:
    """Program i, cycling through the mix, ending by printing its id."""
    return [wrapped(programs[i % len(programs)], f"print('id', {i})") for i in range(count)]


# -- the load process -------------------------------------------------------------------------------
async def load(url: str, programs: list[str], clients: int, seconds: float, path: str, batch: int) -> dict:
    import aiohttp

    next_id = 0
    latencies: list[float] = []
    seen: dict[int, int] = {}
    errors: list[str] = []
    stop_at = time.monotonic() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal next_id
        while time.monotonic() < stop_at:
            first = next_id
            next_id += batch if path == "/verify" else 1
            if path == "/verify":
                body = {"samples": [{"task_id": str(i), "completion": wrapped(programs[i % len(programs)],
                                                                             f"answer = {i}"), "gold": i}
                                    for i in range(first, first + batch)]}
            else:
                body = {"code": wrapped(programs[first % len(programs)], f"print('id', {first})"),
                        "language": "python"}
            started = time.monotonic()
            try:
                async with session.post(url + path, json=body) as response:
                    answer = await response.json()
                    if response.status != 200:
                        errors.append(f"{response.status}: {answer}")
                        continue
            except Exception as exc:  # noqa: BLE001 - counted: a lost response fails the run
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            latencies.append(time.monotonic() - started)
            if path == "/verify":
                for offset, result in enumerate(answer["results"]):
                    ok = result["verdict"]["passed"]  # each sample's answer is its own id
                    seen[first + offset] = seen.get(first + offset, 0) + (1 if ok else 1000)
            else:
                out = answer["run_result"]["stdout"].split()
                got = int(out[-1]) if len(out) >= 2 and out[-2] == "id" else -1
                seen[first] = seen.get(first, 0) + (1 if got == first else 1000)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=600)) as session:
        started = time.monotonic()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        elapsed = time.monotonic() - started
    sent = next_id
    return {"requests": len(latencies), "programs": len(seen), "seconds": elapsed, "sent": sent,
            "wrong_or_duplicated": sum(1 for count in seen.values() if count != 1),
            "lost": sent - len(seen), "errors": errors[:5], "error_count": len(errors),
            "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
            "p99_ms": 1000 * statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 100 else None}


def load_main(args: argparse.Namespace) -> None:
    from bench_executor import gsm8k_programs

    programs = gsm8k_programs(args.mix)
    print(json.dumps(asyncio.run(load(args.client, programs, args.clients, args.seconds, args.path, args.batch))))


# -- the run --------------------------------------------------------------------------------------
def start_server(workers: int) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "ekt_curate", "serve", "--port", "0", "--workers", str(workers),
                                "--max-queue", "4096"], stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    line = process.stderr.readline()
    found = LISTENING.search(line)
    if not found:
        process.kill()
        raise SystemExit(f"the server did not start: {line}{process.stderr.read()}")
    return process, found.group(1)


def run_load(url: str, clients: int, seconds: float, path: str, batch: int, mix: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--client", url, "--clients", str(clients), "--seconds",
                           str(seconds), "--path", path, "--batch", str(batch), "--mix", str(mix)],
                          capture_output=True, text=True, timeout=seconds + 600)
    if done.returncode != 0:
        raise SystemExit(f"the load process failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def in_process(programs: list[str], count: int, workers: int, judged: bool = False) -> dict:
    """The same programs through Sandbox.map in this process: plain runs (as /run_code), or
    judged against their gold by the Judge (as /verify)."""
    from ekt_curate.judge import Judge, Sample, read_gold
    from ekt_curate.sandbox import Sandbox
    from ekt_curate.sandbox.program import Program

    with Sandbox("default", workers=workers) as box:
        if judged:
            judge = Judge(box)
            jobs = [Sample(wrapped(programs[i % len(programs)], f"answer = {i}"), read_gold(i)) for i in range(count)]
            run = lambda items: list(judge.verdicts(items))  # noqa: E731
        else:
            jobs = [Program(code, run=True) for code in tagged(programs, count)]
            run = lambda items: list(box.map(items))  # noqa: E731
        run(jobs[:64])  # warm, as the server is
        started = time.monotonic()
        results = run(jobs)
        elapsed = time.monotonic() - started
    if judged:
        wrong = sum(1 for verdict in results if not verdict["passed"])
    else:
        wrong = sum(1 for i, r in enumerate(results) if (r.stdout or "").split()[-2:] != ["id", str(i)])
    return {"programs": count, "seconds": elapsed, "rate": count / elapsed, "wrong": wrong}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--verify-clients", type=int, default=16)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--mix", type=int, default=400, help="distinct programs in the mix")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--client", help=argparse.SUPPRESS)  # internal: run as the load process
    parser.add_argument("--path", default="/run_code", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        load_main(args)
        return
    from bench_executor import gsm8k_programs

    programs = gsm8k_programs(args.mix)
    process, url = start_server(args.workers)
    try:
        served = run_load(url, args.clients, args.seconds, "/run_code", 1, args.mix)
        verify = run_load(url, args.verify_clients, args.seconds / 2, "/verify", args.batch, args.mix)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(120)
    served["rate"] = served["programs"] / served["seconds"]
    verify["rate"] = verify["programs"] / verify["seconds"]
    baseline = in_process(programs, max(served["programs"], 500), args.workers)
    judged = in_process(programs, max(verify["programs"], 500), args.workers, judged=True)
    report = {"clients": args.clients, "seconds": args.seconds, "workers": args.workers, "server_exit": code,
              "run_code": served, "verify": verify, "in_process": baseline, "in_process_judged": judged,
              "ratio_run_code": served["rate"] / baseline["rate"], "ratio_verify": verify["rate"] / judged["rate"]}
    print(f"POST /run_code, {args.clients} clients, {served['seconds']:.0f} s: {served['rate']:.0f} programs/s, "
          f"p50 {served['p50_ms']:.1f} ms, p99 {served['p99_ms']:.1f} ms, lost {served['lost']}, "
          f"wrong or duplicated {served['wrong_or_duplicated']}, errors {served['error_count']}")
    print(f"POST /verify, {args.verify_clients} clients x {args.batch} samples: {verify['rate']:.0f} samples/s, "
          f"p50 {verify['p50_ms']:.0f} ms, p99 {verify['p99_ms'] or float('nan'):.0f} ms, lost {verify['lost']}, "
          f"wrong or duplicated {verify['wrong_or_duplicated']}")
    print(f"in-process, same programs: Sandbox.map {baseline['rate']:.0f} plain runs/s, Judge {judged['rate']:.0f} "
          f"samples/s -> served/in-process {report['ratio_run_code']:.2f}x (/run_code), "
          f"{report['ratio_verify']:.2f}x (/verify)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    bad = served["lost"] or served["wrong_or_duplicated"] or verify["lost"] or verify["wrong_or_duplicated"] \
        or served["error_count"] or verify["error_count"] or baseline["wrong"] or judged["wrong"] or code != 0
    if bad:
        raise SystemExit("FAILED: a response was lost, duplicated or wrong, or the server did not exit 0")


if __name__ == "__main__":
    main()
