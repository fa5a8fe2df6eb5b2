"""The fast canonical form (steps/fast_unparse.py) is the reference one to the byte."""

from __future__ import annotations

import ast
import os

import pytest

from ekt_curate.annotation_teacher import samples
from ekt_curate.problems import iter_problems
from ekt_curate.steps import canonical, fast_unparse
from ekt_curate.steps.canonical import canonical_form, reference_form


def test_this_python_takes_the_fast_path():
    assert canonical.fast_path()
    assert canonical_form(fast_unparse.PROBE) == reference_form(fast_unparse.PROBE)


def test_teacher_samples_of_every_kind():
    problems = [p for _, p in zip(range(150), iter_problems("gsm8k:train"))]
    completions = [str(s["completion"]) for s in samples(problems, 14, seed=3)]
    assert len(completions) > 1500
    assert [canonical_form(c) for c in completions] == [reference_form(c) for c in completions]


@pytest.mark.parametrize("module", ["ast", "argparse", "dataclasses", "json.decoder", "inspect", "typing",
                                    "asyncio.tasks", "email.message", "textwrap", "fractions"])
def test_standard_library_modules(module):
    path = os.path.join(os.path.dirname(ast.__file__), *module.split(".")) + ".py"
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    assert canonical_form(source) == reference_form(source)


@pytest.mark.parametrize("program", [
    "f(x=1)\nx = 2\nf(x=3)",                         # a keyword is renamed only once its name is numbered
    "try:\n    pass\nexcept E as e:\n    E = e",        # except ... as e is numbered before its type
    "@d\ndef f():\n    d = 1\n    return d",            # decorators after the body, in field order
    "def f(a=b, *, c=d):\n    b = d = 0",                # defaults after the parameters
    "x = {a: b for a, b in c}\nb = c = 1",
    "y = a if b else c\na = b = c = 0",
    "def f() -> (z := 1):\n    return z",               # a name bound in a return annotation counts
    "global g\ng = 1\ndef h():\n    nonlocal q\n    q = 2",
    "match x:\n    case [a, b]:\n        y = a",         # not written here: ast.unparse, same text
    "x = 1 if y else (lambda: (yield))",
    "s = f'{a!r:>{width}} {b}' + rf'\\d{c}'\na = b = c = width = 0",
    "n = 10 ** 5000",
    "'''only a docstring'''",
    "x = -1 ** 2 + (-1) ** 2 + (not a) + ~b",
])
def test_constructs(program):
    assert canonical_form(program) == reference_form(program)


@pytest.mark.parametrize("terms", [50, 99, 101, 150, 300, 400])
def test_deep_expressions_fall_back_as_before(terms):
    program = "x = " + "+".join(["1"] * terms)
    assert canonical_form(program) == reference_form(program)


def test_too_deep_for_the_reference_visitors_falls_back_instead_of_raising():
    program = "x = " + "+".join(["1"] * 1000)
    with pytest.raises(RecursionError):
        reference_form(program)  # the first implementation's visitors recurse per node
    assert canonical_form(program) == " ".join(program.split())
