"""``--checker math-verify``: Hugging Face's math-verify for LaTeX and symbolic golds.

Numbers stay with the strict rules: when the gold is a number by the strict grammar (every
GSM8K gold), the strict verdict is final, so math-verify's own rounding can never loosen an
integer gold. A LaTeX gold that is a number once its wrappers and ``\\text{}`` are removed
(``\\boxed{3.14}``, ``\\$1,\\!000``, ``72 \\text{ clips}``) is a number too, for a numeric answer
(latex_number.py). Only what is left (``\\frac{3}{4}``, ``\\sqrt{2}``, a text answer) is compared by
math-verify, in a helper process
(math_verify_worker.py) with a wall-clock deadline that works from any thread: a hostile answer
costs at most ``deadline`` seconds, then the helper is killed and restarted.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import threading
import time
from collections import OrderedDict

from ekt_curate.judgement.answer import Answer, clean_text
from ekt_curate.judgement.compare import DEFAULT_REL_TOL, compare
from ekt_curate.judgement.latex_number import latex_number

DEADLINE_SECONDS = 10.0     # per comparison, wall clock, enforced by the parent
START_SECONDS = 120.0       # the helper imports sympy before it says it is ready
MAX_INPUT_CHARS = 2000      # longer text is not sent (math-verify's parsers are not linear-time)
CACHE_SIZE = 10_000         # (gold, answer) pairs: samples of one task repeat their answers


_ABANDONED = "math-verify: no verdict"


class MathVerifyChecker:
    name = "math-verify"

    def __init__(self, rel_tol: float = DEFAULT_REL_TOL, gold_precision: str = "auto",
                 deadline: float = DEADLINE_SECONDS):
        try:
            import math_verify  # noqa: F401 - only to fail early with a sentence
        except ImportError:
            from ekt_curate.errors import EktError

            raise EktError("--checker math-verify needs the math-verify package (pip install 'ekt-curate[math]')") from None
        self.rel_tol, self.gold_precision, self.deadline = rel_tol, gold_precision, deadline
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # one comparison at a time on the one helper
        self._cache: OrderedDict[tuple[str, str], tuple[bool, str]] = OrderedDict()

    def check(self, answer: Answer, gold: Answer, answer_text: str | None, gold_raw: object) -> tuple[bool, str]:
        strict = compare(answer, gold, self.rel_tol, self.gold_precision)
        if strict[0] or gold.text is None or answer.problem:
            return strict  # numbers and flags: the strict rules decide
        dressed = latex_number(str(gold_raw)) if answer.number is not None else None
        if dressed is not None:  # \boxed{3.14}, \$1,\!000, 72 \text{ clips}: a number after all
            return compare(answer, dressed, self.rel_tol, self.gold_precision)
        gold_text, text = str(gold_raw), str(answer_text if answer_text is not None else answer.display())
        if len(gold_text) > MAX_INPUT_CHARS or len(text) > MAX_INPUT_CHARS:
            return False, f"math-verify: input longer than {MAX_INPUT_CHARS} characters not compared"
        key = (gold_text, text)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            result = self._ask(gold_text, text)
            if not result[1].startswith(_ABANDONED):  # a deadline is this moment's, not the pair's verdict
                self._cache[key] = result
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return result

    def _ask(self, gold: str, answer: str) -> tuple[bool, str]:
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        request = json.dumps({"gold": clean_text(gold), "answer": clean_text(answer)}, ensure_ascii=True) + "\n"
        try:
            proc.stdin.write(request.encode())
            proc.stdin.flush()
            line = _read_line(proc, self.deadline)
        except (BrokenPipeError, OSError):
            line = None
        if line is None:
            self._stop()
            return False, f"{_ABANDONED} within {self.deadline:g} s (comparison abandoned)"
        try:
            reply = json.loads(line)
            return bool(reply["passed"]), clean_text(str(reply.get("detail", "")), 300)
        except (ValueError, KeyError, TypeError):
            self._stop()
            return False, "math-verify: malformed reply from the helper"

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "ekt_curate.judgement.math_verify_worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            if _read_line(self._proc, START_SECONDS) != b'{"ready":true}\n':
                self._stop()
                from ekt_curate.errors import EktError

                raise EktError("--checker math-verify: the math-verify helper process did not start")
        return self._proc

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()
            self._proc = None

    def close(self) -> None:
        with self._lock:
            self._stop()


def _read_line(proc: subprocess.Popen[bytes], deadline: float) -> bytes | None:
    """One reply line, or None when the deadline passes or the helper dies."""
    assert proc.stdout is not None
    fd, data, end = proc.stdout.fileno(), b"", time.monotonic() + deadline
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not data.endswith(b"\n"):
            left = end - time.monotonic()
            if left <= 0 or not selector.select(left):
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk or len(data) > 1 << 16:
                return None
            data += chunk
    return data
