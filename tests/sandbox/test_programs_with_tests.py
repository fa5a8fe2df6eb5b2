"""Program(...): stdin on fd 0 and the whole stdout back; calls whose return values come back as
plain data; assert tests run by a harness process. Real programs, one warm sandbox."""

from __future__ import annotations

import pytest

from ekt_curate.sandbox import Status
from ekt_curate.sandbox.program import Call, Program


@pytest.mark.parametrize("reader", [
    "print(sum(map(int, input().split())))",
    "import sys\nprint(sum(map(int, sys.stdin.read().split())))",
    "import sys\nprint(sum(map(int, sys.stdin.buffer.readline().split())))",
    "print(sum(map(int, open(0).read().split())))",
])
def test_stdin_is_the_programs(box, reader):
    result = box.run(Program(reader, stdin=b"1 2 39\n", output=True))
    assert result.status is Status.OK and result.stdout == "42\n", result


def test_large_stdin_streams_and_a_program_may_ignore_it(box):
    lines = b"".join(b"%d\n" % i for i in range(400_000))  # 2.7 MB: more than a pipe holds
    summed = box.run(Program("import sys\nprint(sum(int(x) for x in sys.stdin.buffer))", stdin=lines, output=True))
    assert summed.stdout == f"{sum(range(400_000))}\n"
    ignored = box.run(Program("print('done')", stdin=lines, output=True))
    assert ignored.status is Status.OK and ignored.stdout == "done\n"
    assert box.run("answer = 1").answer == 1  # the worker is fine


def test_the_whole_stdout_comes_back_and_the_cap_still_holds(box):
    many = box.run(Program("for i in range(50000):\n    print(i)", output=True))
    assert many.stdout == "".join(f"{i}\n" for i in range(50000))
    flood = box.run(Program("while True:\n    print('x' * 1000)", output=True))
    assert flood.status is Status.OUTPUT_LIMIT


def test_exit_codes_of_a_stdin_program(box):
    assert box.run(Program("print(1)\nimport sys\nsys.exit(0)", output=True)).stdout == "1\n"
    failed = box.run(Program("print(1)\nraise SystemExit(3)", output=True))
    assert failed.status is Status.RUNTIME_ERROR and failed.exc_type == "SystemExit"
    crashed = box.run(Program("print(1)\n1 / 0", output=True))
    assert crashed.status is Status.RUNTIME_ERROR and crashed.exc_type == "ZeroDivisionError"


def test_calls_return_plain_values_with_their_types(box):
    code = ("def f(x):\n    return x\n"
            "def boom(x):\n    raise ValueError('no ' + str(x))\n"
            "class Solution:\n    def twice(self, xs):\n        self.seen = getattr(self, 'seen', 0) + 1\n"
            "        return [x * 2 for x in xs] + [self.seen]\n")
    args = [1, 2.5, "s", [1, (2, 3)], {"k": {1, 2}}, None, True]
    result = box.run(Program(code, calls=(*(Call("f", (a,)) for a in args), Call("boom", (7,)),
                                          Call("Solution.twice", ([1, 2],)), Call("Solution.twice", ([3],)),
                                          Call("missing", ()))))
    assert result.status is Status.OK
    values = [result.returned(i) for i in range(len(args))]
    assert values == args and [type(v) for v in values] == [type(a) for a in args]
    assert result.returns[len(args)] == ("runtime_error", "ValueError: no 7")
    assert result.returned(len(args) + 1) == [2, 4, 1] and result.returned(len(args) + 2) == [6, 1]  # fresh Solution()
    assert result.returns[-1][0] == "runtime_error" and "missing" in result.returns[-1][1]


def test_a_call_that_hangs_is_a_timeout_and_ends_the_calls(box):
    code = "def f(x):\n    while x:\n        pass\n    return 0"
    result = box.run(Program(code, calls=(Call("f", (0,)), Call("f", (1,)), Call("f", (0,))), case_seconds=0.3))
    assert result.returns == (("ok", "0"), ("timeout", "no answer within 0.3 s"))


def test_assert_tests_stop_at_the_first_failure_unless_all_cases(box):
    code = "def f(x):\n    return x * 2"
    tests = ("assert f(2) == 4", "assert f(3) == 7", "assert f(4) == 8")
    assert box.run(Program(code, tests=tests)).cases == (("pass", ""), ("wrong_answer", "assertion failed"))
    assert [s for s, _ in box.run(Program(code, tests=tests, all_cases=True)).cases] == ["pass", "wrong_answer", "pass"]


def test_assert_tests_see_the_programs_functions_helpers_and_modules(box):
    code = ("import math\nfrom typing import List\nLIMIT = 10\n"
            "def encode(s: str) -> str:\n    return s[::-1]\n"
            "def decode(s: str) -> str:\n    return s[::-1]\n"
            "def root(x: float) -> float:\n    return math.sqrt(x)\n")
    human_eval_style = ("def check(candidate):\n    assert candidate(encode('abc')) == 'abc'\n"
                        "    assert abs(root(2) - math.sqrt(2)) < 1e-12 and LIMIT == 10\n\ncheck(decode)\n")
    assert box.run(Program(code, tests=(human_eval_style,))).cases == (("pass", ""),)


def test_setup_code_runs_before_the_cases_and_its_failure_fails_the_first(box):
    code = "def area(r):\n    return PI * r * r"
    undefined = ("runtime_error", "NameError: name 'PI' is not defined")  # the program's own global
    assert box.run(Program(code, setup="PI = 3", tests=("assert area(2) == 12",))).cases == (undefined,)
    assert box.run(Program("def area(r):\n    return 3 * r * r", setup="PI = 3",
                           tests=("assert area(2) == 4 * PI",))).cases == (("pass", ""),)
    assert box.run(Program(code, setup="import nosuchmodule", tests=("assert True",))).cases[0][0] == "runtime_error"


def test_a_program_that_fails_before_the_tests(box):
    assert box.run(Program("def f(:\n  pass", tests=("assert f()",))).status is Status.SYNTAX_ERROR
    raised = box.run(Program("raise KeyError('top')", tests=("assert f()",)))
    assert raised.status is Status.RUNTIME_ERROR and raised.exc_type == "KeyError"
    missing = box.run(Program("def g():\n    return 1", tests=("assert f() == 1",)))
    assert missing.cases == (("runtime_error", "NameError: name 'f' is not defined"),)


def test_test_jobs_run_under_every_shipped_policy():
    from ekt_curate.sandbox import Sandbox

    for policy in ("default", "strict", "scientific"):
        with Sandbox(policy, workers=1) as box:
            code = "def f(x):\n    return x * 2\n"
            assert box.run(Program(code, tests=("assert f(2) == 4",))).cases == (("pass", ""),), policy
            assert box.run(Program(code, calls=(Call("f", (2,)),))).returned(0) == 4, policy
            assert box.run(Program("print(input())", stdin=b"x\n", output=True)).stdout == "x\n", policy


def test_a_program_past_its_cpu_limit_is_a_timeout_in_either_form(box):
    spinning = "def f(x):\n    while True:\n        x += 1\n"
    assert box.run(Program(spinning, tests=("assert f(1) == 1",))).cases[0][0] == "timeout"
    assert box.run(Program(spinning, calls=(Call("f", (1,)),))).returns[0][0] == "timeout"
    exited = box.run(Program("def f(x):\n    import os\n    os._exit(3)", tests=("assert f(1) == 1",)))
    assert exited.cases == (("runtime_error", "the program process ended before answering"),)


CHECK_SUM = "def check(given, expected, output):\n    return output.split() == expected.split()\n"
HONEST_ECHO = "print(input())"


def test_a_checked_case_streams_its_input_and_judges_the_output_in_the_harness(box):
    numbers = b"".join(b"%d\n" % i for i in range(60_000))  # 400 KB: more than a pipe holds, both ways
    echo = "import sys\nfor line in sys.stdin:\n    print(line.strip())\n"
    expected = numbers.decode()
    assert box.run(Program(echo, stdin=numbers, checker=CHECK_SUM, expected=expected)).cases == (("pass", ""),)
    assert box.run(Program("print(0)", stdin=numbers, checker=CHECK_SUM, expected=expected)).cases[0][0] == \
        "wrong_answer"


def test_a_checked_program_cannot_find_the_expected_output(box):
    snoop = ("import os, gc\nfound = [o for o in gc.get_objects() if isinstance(o, str) and 'SECRET' in o]\n"
             "for fd in range(3, 64):\n    try:\n        found.append(os.read(fd, 1 << 16).decode())\n"
             "    except OSError:\n        pass\nprint('SECRET-42' if any('SECRET-42' in f for f in found) else 'no')\n")
    checked = box.run(Program(snoop, stdin=b"x\n", checker=CHECK_SUM, expected="SECRET-42\n"))
    assert checked.cases == (("wrong_answer", "the checker rejected the output"),)
    assert box.run(Program(HONEST_ECHO, stdin=b"x\n", checker=CHECK_SUM, expected="x\n")).cases == (("pass", ""),)



def test_a_checked_case_reports_the_programs_own_limits(box):
    flood = box.run(Program("while True:\n    print('x' * 1000)", stdin=b"", checker=CHECK_SUM, expected="x"))
    assert flood.status is Status.OK and flood.cases[0][0] == "output_limit", flood
    hungry = box.run(Program("x = bytearray(10 ** 10)", stdin=b"", checker=CHECK_SUM, expected="x"))
    assert hungry.cases == (("memory_limit", "MemoryError"),), hungry
    binary = box.run(Program("import sys\nprint(len(sys.stdin.buffer.read()))", stdin=b"\xff\xfe\x00",
                             checker=CHECK_SUM, expected="3\n"))
    assert binary.cases == (("pass", ""),)  # bytes that are not UTF-8 reach the program as they are
