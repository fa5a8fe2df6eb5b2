"""Ordinary GSM8K-style programs must run and report the right answer, by every convention."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from ekt_curate.sandbox import Sandbox, SandboxError, Status

LEGITIMATE = {
    "arithmetic": ("eggs = 16 - 3 - 4\nanswer = eggs * 2\n", 18),
    "solution function": ("def solution():\n    total = 48 + 48 / 2\n    return total\n", 72.0),
    "fraction": ("from fractions import Fraction\nanswer = Fraction(3, 4) + Fraction(1, 4) * 3\n", Fraction(3, 2)),
    "decimal": ("from decimal import Decimal\nanswer = Decimal('19.99') * 3\n", Decimal("59.97")),
    "math": ("import math\nanswer = math.ceil(17 / 5) * math.factorial(3)\n", 24),
    "datetime": ("import datetime\nd = datetime.date(2024, 3, 1) - datetime.date(2024, 2, 1)\nanswer = d.days\n", 29),
    "strptime": ("import datetime\nanswer = datetime.datetime.strptime('2024-05-06', '%Y-%m-%d').day\n", 6),
    "itertools": ("import itertools\nanswer = len(list(itertools.combinations(range(6), 2)))\n", 15),
    "statistics": ("import statistics\nanswer = statistics.mean([3, 5, 10])\n", 6),
    "collections": ("from collections import Counter\nanswer = Counter('banana')['a']\n", 3),
    "moderate recursion": ("def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nanswer = f(500)\n", 500),
    "short sleep": ("import time\ntime.sleep(0.05)\nanswer = 1\n", 1),
    "ans variable": ("ans = 7 * 6\n", 42),
    "result variable": ("result = 100 - 1\n", 99),
    "last printed line": ("print('working...')\nprint(12)\n\n", "12"),
    "prints a lot": ("for i in range(20000):\n    print(i)\nanswer = i\n", 19999),
    "fenced markdown": ("Let me solve it.\n```python\nanswer = 5 + 5\n```\nSo 10.", 10),
    "solution wins over answer": ("answer = 1\ndef solution():\n    return 2\n", 2),
    "writes in scratch": ("open('notes.txt', 'w').write('12')\nanswer = int(open('notes.txt').read())\n", 12),
    "exit(0) after answer": ("import sys\nanswer = 3\nsys.exit(0)\n", 3),
    "bool answer": ("answer = 3 > 2\n", True),
    "string answer": ("answer = '$1,234'\n", "$1,234"),
    "unicode output": ("print('café 3€')\n", "café 3€"),
}


@pytest.mark.parametrize("name", LEGITIMATE)
def test_legitimate_program(box: Sandbox, name: str):
    code, expected = LEGITIMATE[name]
    result = box.run(code)
    assert result.status is Status.OK, result
    assert result.answer == expected and type(result.answer) is type(expected)
    assert result.cpu_ms > 0 and result.wall_ms >= result.cpu_ms * 0.5


def test_answer_conventions(box: Sandbox):
    code = "def solution():\n    return 1\nanswer = 2\nans = 3\nprint(4)\n"
    assert box.run(code, answer="auto").answer == 1
    assert box.run(code, answer="solution").answer == 1
    assert box.run(code, answer="var:ans").answer == 3
    assert box.run(code, answer="stdout").answer == "4"
    missing = box.run("x = 1\n", answer="var:answer")
    assert missing.status is Status.NO_ANSWER and "no variable 'answer'" in missing.detail
    assert box.run("x = 1\n", answer="solution").status is Status.NO_ANSWER


def test_nothing_to_report_is_no_answer(box: Sandbox):
    result = box.run("x = 1\n")
    assert result.status is Status.NO_ANSWER and "nothing printed" in result.detail


@pytest.mark.parametrize(
    ("code", "reason"),
    [("answer = [1, 2]\n", "list"), ("answer = float('nan')\n", "finite"), ("answer = None\n", "None"),
     ("answer = {'a': 1}\n", "dict"), ("answer = object()\n", "not a plain value")],
)
def test_unusable_answers(box: Sandbox, code: str, reason: str):
    result = box.run(code)
    assert result.status is Status.NO_ANSWER and reason in result.detail


def test_failures_are_classified(box: Sandbox):
    syntax = box.run("answer = (1 +\n")
    assert syntax.status is Status.SYNTAX_ERROR and syntax.exc_type == "SyntaxError"
    runtime = box.run("answer = 1 / 0\n")
    assert runtime.status is Status.RUNTIME_ERROR and runtime.exc_type == "ZeroDivisionError"
    assert runtime.detail == "ZeroDivisionError: division by zero"
    exit_code = box.run("import sys\nsys.exit(3)\n")
    assert exit_code.status is Status.RUNTIME_ERROR and exit_code.exc_type == "SystemExit"


def test_prelude_runs_before_every_program():
    prelude = "from fractions import Fraction as F\ndef half(x):\n    return F(x, 2)\n"
    with Sandbox("default", workers=1, prelude=prelude) as box:
        assert box.run("answer = half(7)\n").answer == Fraction(7, 2)
        assert box.run("answer = F(1, 3)\n").answer == Fraction(1, 3)
        # a per-call prelude replaces the sandbox's
        assert box.run("answer = x\n", prelude="x = 5\n").answer == 5


def test_map_keeps_input_order_and_streams(box: Sandbox):
    codes = (f"import time\ntime.sleep({0.02 * (i % 3)})\nanswer = {i}\n" for i in range(40))
    answers = [result.answer for result in box.map(codes)]
    assert answers == list(range(40))


def test_map_can_be_abandoned_and_the_sandbox_reused(box: Sandbox):
    results = box.map(f"answer = {i}\n" for i in range(50))
    assert next(results).answer == 0
    results.close()
    assert [r.answer for r in box.map(["answer = 'again'\n"])] == ["again"]


def test_oversized_program_is_rejected_before_the_zygote(box: Sandbox):
    big = "x = 1\n" * (box.policy.limits.program_bytes // 6 + 1)
    result = box.run(big)
    assert result.status is Status.SYNTAX_ERROR and "larger than" in result.detail


def test_bad_answer_mode_is_an_error():
    with pytest.raises(SandboxError, match="unknown answer convention"):
        Sandbox("default", answer="guess")


def test_layers_are_reported(box: Sandbox):
    layers = box.layers
    assert "ABI" in layers["landlock"] and "BPF" in layers["seccomp"]
    assert "privileges" in layers


def test_the_standard_library_and_numpy_import_under_the_default_policy(box: Sandbox):
    # Modules the policy does not preload are read from disk by the sandbox uid, even where the
    # interpreter lives under a directory other users cannot enter (pyenv under a 0700 /root);
    # numpy starts with one BLAS thread, as the policy allows no more.
    programs = ["import colorsys\nanswer = round(colorsys.rgb_to_hsv(1, 0, 0)[0])\n",
                "import uuid, textwrap, decimal\nanswer = len(textwrap.wrap('a b c', 1))\n",
                "import numpy as np\nanswer = int(np.arange(5).sum())\n"]
    results = list(box.map(programs))
    assert [(r.status, r.answer) for r in results] == [(Status.OK, 0), (Status.OK, 3), (Status.OK, 10)], results


def test_children_hold_no_capability(box: Sandbox):
    code = ("import ctypes\nlibc = ctypes.CDLL(None)\nhead = (ctypes.c_uint32 * 2)(0x20080522, 0)\n"
            "data = (ctypes.c_uint32 * 6)()\nlibc.capget(head, data)\nanswer = data[0] | data[1] | data[3] | data[4]\n")
    result = box.run(code)
    assert result.status is Status.OK and result.answer == 0, result
