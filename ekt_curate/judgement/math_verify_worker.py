"""The math-verify helper process: one JSON line in, one JSON line out.

Requests:
- ``{"op": "read_gold", "gold": TEXT}``: what the gold is worth as a number, for a numeric answer:
  ``{"kind": "rational", "p": "...", "q": "..."}`` (``2^{10}`` is 1024, ``\\frac{1}{3000000}`` is
  exactly that), ``{"kind": "real", "value": "<40 significant digits>"}`` (``2\\sqrt{3}``, ``5\\pi``),
  or ``{"kind": "other", "shown": ...}`` (an interval, a set, an equation in x, a text);
- ``{"op": "verify", "gold": TEXT, "answer": TEXT}``: math-verify's own verdict on two texts.

Both sides are read as LaTeX only. A text without ``$``, ``\\boxed``, ``\\(`` or ``\\[`` is wrapped in
``$...$`` first, so the whole of it is parsed: left to itself, math-verify's expression
extraction reads the first bare number of an undelimited text (``2\\sqrt{3}`` as 2, ``2^{10}`` as 2,
``3 \\times 10^{-7}`` as 10), and an answer ``4 squared`` as 4 (issue 22). Numbers are never
compared here: the parent compares a numeric answer with the gold's value by its strict rules,
so math-verify's rounding (both sides to 6 decimals: 0.0 met ``\\frac{1}{3000000}``) decides
nothing; for the rest ``float_rounding`` is raised to 12 decimals.

math-verify bounds each parse and comparison with ``signal.alarm``, which only works in a main
thread; here it always runs in this process's main thread, so its own timeout works, and the
parent adds a wall-clock deadline on top (a comparison stuck in C code ignores the alarm): the
parent kills and restarts this process when the deadline passes.
"""

from __future__ import annotations

import json
import sys

PER_STEP_SECONDS = 3  # math-verify's own alarm, per parse and per comparison
FLOAT_ROUNDING = 12   # decimals math-verify rounds floats to before comparing (its default: 6)
REAL_DIGITS = 40      # significant digits of an irrational gold's value
MAX_DIGITS = 4000     # the parent's bound on any number (number_text.MAX_DIGITS)
_DELIMITERS = ("$", "\\boxed", "\\(", "\\[")


def _parse_latex(text: str) -> list:
    from math_verify import LatexExtractionConfig, parse

    body = text if any(mark in text for mark in _DELIMITERS) else f"${text}$"
    return parse(body, extraction_config=[LatexExtractionConfig()], parsing_timeout=PER_STEP_SECONDS)


def read_gold(text: str) -> dict[str, str]:
    import sympy

    parsed = _parse_latex(text)
    if not parsed or not isinstance(parsed[0], sympy.Basic):
        return {"kind": "other", "shown": str(parsed[-1])[:80] if parsed else "no expression"}
    expression = parsed[0]
    value = expression.doit() if isinstance(expression, sympy.Expr) else expression
    if isinstance(value, sympy.Rational):
        p, q = str(value.p), str(value.q)
        if max(len(p.lstrip("-")), len(q)) <= MAX_DIGITS:
            return {"kind": "rational", "p": p, "q": q}
    elif isinstance(value, sympy.Expr) and value.is_number:
        number = sympy.N(value, REAL_DIGITS)
        if number.is_real and number.is_finite and isinstance(number, sympy.Float):
            return {"kind": "real", "value": sympy.sstr(number, full_prec=True)}
    return {"kind": "other", "shown": str(parsed[-1])[:80]}


def verify_texts(gold_text: str, answer_text: str) -> dict[str, object]:
    from math_verify import verify

    gold, answer = _parse_latex(gold_text), _parse_latex(answer_text)
    if not gold:
        return {"passed": False, "detail": "math-verify found no expression in the gold"}
    if not answer:
        return {"passed": False, "detail": "math-verify found no expression in the answer"}
    passed = bool(verify(gold, answer, float_rounding=FLOAT_ROUNDING, timeout_seconds=PER_STEP_SECONDS))
    return {"passed": passed,
            "detail": "" if passed else f"math-verify: {str(answer[-1])[:80]!r} is not {str(gold[-1])[:80]!r}"}


def main() -> None:
    import sympy  # noqa: F401 - imported before "ready": the parent's deadline is per comparison
    from math_verify import parse, verify  # noqa: F401

    sys.stdout.write('{"ready":true}\n')
    sys.stdout.flush()
    for line in sys.stdin:
        try:
            request = json.loads(line)
            if request.get("op") == "read_gold":
                reply: dict[str, object] = read_gold(request["gold"])
            else:
                reply = verify_texts(request["gold"], request["answer"])
        except Exception as exc:  # noqa: BLE001 - any failure is this comparison's, never the run's
            reply = {"passed": False, "kind": "other", "shown": "", "detail": f"math-verify failed: {type(exc).__name__}"}
        sys.stdout.write(json.dumps(reply, ensure_ascii=True) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
