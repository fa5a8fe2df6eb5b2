"""``--checker math-verify``: Hugging Face's math-verify for LaTeX and symbolic golds.

Numbers stay with the strict rules: when the gold is a number by the strict grammar (every
GSM8K gold), the strict verdict is final, so math-verify's own rounding can never loosen an
integer gold. A LaTeX gold that is a number once its wrappers and ``\\text{}`` are removed
(``\\boxed{3.14}``, ``\\$1,\\!000``, ``72 \\text{ clips}``) is a number too (latex_number.py).
For any other gold and a numeric answer, math-verify only reads the gold's value (``2^{10}`` is
1024, ``\\frac{1}{3000000}`` is exactly that, ``2\\sqrt{3}`` is 3.4641016...) and the strict rules
compare: an integral value needs the integral answer, an irrational one is met within
``rel_tol``, and math-verify's rounding (both sides to 6 decimals) decides nothing. Only a text
answer against a LaTeX gold is math-verify's verdict. Both sides are read as LaTeX as a whole
(math_verify_worker.py: an undelimited gold was read as its first bare number).

math-verify runs in a helper process with a wall-clock deadline that works from any thread: a
hostile answer costs at most ``deadline`` seconds, then the helper is killed and restarted.
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
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from ekt_curate.judgement.answer import Answer, clean_text, show
from ekt_curate.judgement.compare import DEFAULT_REL_TOL, compare
from ekt_curate.judgement.latex_number import latex_number
from ekt_curate.judgement.number_text import MAX_DIGITS

DEADLINE_SECONDS = 10.0     # per comparison, wall clock, enforced by the parent
START_SECONDS = 120.0       # the helper imports sympy before it says it is ready
MAX_INPUT_CHARS = 2000      # longer text is not sent (math-verify's parsers are not linear-time)
CACHE_SIZE = 10_000         # gold readings and (gold, answer) verdicts: samples of one task repeat them


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
        self._cache: OrderedDict[tuple[str, ...], Any] = OrderedDict()  # verdicts and gold readings

    def check(self, answer: Answer, gold: Answer, answer_text: str | None, gold_raw: object) -> tuple[bool, str]:
        strict = compare(answer, gold, self.rel_tol, self.gold_precision)
        if strict[0] or gold.text is None or answer.problem:
            return strict  # numbers and flags: the strict rules decide
        gold_text = str(gold_raw)
        if answer.number is not None:
            value = latex_number(gold_text)  # \boxed{3.14}, \$1,\!000, 72 \text{ clips}: a number after all
            if value is None:
                value, shown = self._gold_value(gold_text)
                if value is None:
                    return False, f"math-verify: the gold {shown!r} is not a number, the answer {show(answer)} is"
            return compare(answer, value, self.rel_tol, self.gold_precision)
        text = str(answer_text if answer_text is not None else answer.display())
        if len(gold_text) > MAX_INPUT_CHARS or len(text) > MAX_INPUT_CHARS:
            return False, f"math-verify: input longer than {MAX_INPUT_CHARS} characters not compared"
        return self._cached(("verify", gold_text, text), lambda: self._ask({"op": "verify", "gold": gold_text,
                                                                             "answer": text}))

    def _gold_value(self, gold_text: str) -> tuple[Answer | None, str]:
        """The gold's value as an exact (rational) or 40-digit (irrational) number, read by
        math-verify; (None, what it is) for an interval, a set, an expression in x, a text."""
        if len(gold_text) > MAX_INPUT_CHARS:
            return None, f"{gold_text[:40]}... (longer than {MAX_INPUT_CHARS} characters)"
        reply = self._cached(("read_gold", gold_text), lambda: self._ask({"op": "read_gold", "gold": gold_text}))
        if isinstance(reply, tuple):  # no reply within the deadline, or a malformed one
            return None, reply[1]
        try:
            if reply.get("kind") == "rational" and max(len(str(reply["p"]).lstrip("-")), len(str(reply["q"]))) <= MAX_DIGITS:
                return Answer(number=Fraction(int(reply["p"]), int(reply["q"]))), ""
            if reply.get("kind") == "real" and len(str(reply["value"])) <= 100:
                return Answer(number=Fraction(Decimal(str(reply["value"])))), ""
        except (KeyError, ValueError, ZeroDivisionError, InvalidOperation):
            pass
        return None, clean_text(str(reply.get("shown", "")), 80)

    def _cached(self, key: tuple[str, ...], ask: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            result = ask()
            abandoned = isinstance(result, tuple) and result[1].startswith(_ABANDONED)
            if not abandoned:  # a deadline is this moment's, not the pair's verdict
                self._cache[key] = result
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return result

    def _ask(self, request: dict[str, str]) -> Any:
        """The helper's reply: ``verify`` gives (passed, detail); ``read_gold`` the reply dict.
        A deadline passed or a dead helper is (False, "math-verify: no verdict ...")."""
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        line_out = json.dumps({key: clean_text(value) for key, value in request.items()}, ensure_ascii=True) + "\n"
        try:
            proc.stdin.write(line_out.encode())
            proc.stdin.flush()
            line = _read_line(proc, self.deadline)
        except (BrokenPipeError, OSError):
            line = None
        if line is None:
            self._stop()
            return False, f"{_ABANDONED} within {self.deadline:g} s (comparison abandoned)"
        try:
            reply = json.loads(line)
            if request["op"] == "read_gold":
                return reply if isinstance(reply, dict) else (False, "math-verify: malformed reply from the helper")
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
