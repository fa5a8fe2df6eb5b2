"""The math-verify helper process: one JSON line in (gold, answer), one JSON line out.

math-verify bounds each parse and comparison with ``signal.alarm``, which only works in a main
thread; here it always runs in this process's main thread, so its own timeout works, and the
parent adds a wall-clock deadline on top (a comparison stuck in C code ignores the alarm): the
parent kills and restarts this process when the deadline passes.
"""

from __future__ import annotations

import json
import sys

PER_STEP_SECONDS = 3  # math-verify's own alarm, per parse and per comparison


def _parse(text: str) -> list:
    from math_verify import parse

    parsed = parse(text, parsing_timeout=PER_STEP_SECONDS)
    if not parsed and "$" not in text and "\\boxed" not in text:
        parsed = parse(f"${text}$", parsing_timeout=PER_STEP_SECONDS)  # bare LaTeX such as \frac{3}{4}
    return parsed


def main() -> None:
    from math_verify import parse, verify  # noqa: F401 - imported before "ready": the parent's deadline is per comparison

    sys.stdout.write('{"ready":true}\n')
    sys.stdout.flush()
    for line in sys.stdin:
        try:
            request = json.loads(line)
            gold, answer = _parse(request["gold"]), _parse(request["answer"])
            if not gold:
                reply = {"passed": False, "detail": "math-verify found no expression in the gold"}
            elif not answer:
                reply = {"passed": False, "detail": "math-verify found no expression in the answer"}
            else:
                passed = bool(verify(gold, answer, timeout_seconds=PER_STEP_SECONDS))
                reply = {"passed": passed, "detail": "" if passed else
                         f"math-verify: {str(answer[-1])[:80]!r} is not {str(gold[-1])[:80]!r}"}
        except Exception as exc:  # noqa: BLE001 - any failure is this comparison's, never the run's
            reply = {"passed": False, "detail": f"math-verify failed: {type(exc).__name__}"}
        sys.stdout.write(json.dumps(reply, ensure_ascii=True) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
