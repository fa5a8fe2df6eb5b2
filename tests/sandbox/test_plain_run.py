"""A plain run (Program(run=True)): what a code-execution service returns, from the real
sandbox: stdout, stderr and the exit code as `python program.py` would give them, files in and
out, a shorter wall clock; every layer as for any other program."""

from __future__ import annotations

import base64

from ekt_curate.sandbox import Status
from ekt_curate.sandbox.program import Program


def run(box, code: str, **options):
    return box.run(Program(code, run=True, **options))


def test_stdout_stderr_and_the_exit_code_as_the_interpreter_gives_them(box):
    echo = run(box, "import sys\nprint(input()[::-1])\nsys.stderr.write('note')", stdin=b"hello\n")
    assert (echo.status, echo.exit_code, echo.stdout, echo.stderr) == (Status.OK, 0, "olleh\n", "note")
    exited = run(box, "import sys\nprint('partial')\nsys.exit(3)")
    assert (exited.status, exited.exit_code, exited.stdout) == (Status.RUNTIME_ERROR, 3, "partial\n")
    assert run(box, "import sys\nsys.exit(256)").exit_code == 0  # exit statuses are mod 256
    worded = run(box, "import sys\nsys.exit('bad input')")
    assert (worded.exit_code, worded.stderr) == (1, "bad input\n")
    ended = run(box, "import os\nprint('x', flush=True)\nos._exit(7)")
    assert (ended.status, ended.exit_code, ended.stdout) == (Status.RUNTIME_ERROR, 7, "x\n")


def test_an_uncaught_exception_prints_the_programs_traceback_only(box):
    raised = run(box, "def f():\n    return 1 / 0\nf()")
    assert raised.exit_code == 1 and raised.status is Status.RUNTIME_ERROR
    assert raised.stderr == ('Traceback (most recent call last):\n  File "<program>", line 3, in <module>\n'
                             '  File "<program>", line 2, in f\nZeroDivisionError: division by zero\n')
    broken = run(box, "x = (")
    assert broken.status is Status.SYNTAX_ERROR and broken.exit_code == 1
    assert broken.stderr.endswith("SyntaxError: '(' was never closed\n") and "ekt_curate" not in broken.stderr
    hostile = run(box, "class E(Exception):\n    def __str__(self):\n        raise RuntimeError\nraise E")
    assert hostile.exit_code == 1 and "E" in hostile.stderr


def test_time_and_output_limits(box):
    looped = run(box, "while True:\n    pass", wall_seconds=0.3)
    assert looped.status is Status.TIMEOUT and looped.exit_code is None
    assert looped.wall_ms < 1500 and "0.3 s wall" in looped.detail
    flooded = run(box, "while True:\n    print('x' * 10000)")
    assert flooded.status is Status.OUTPUT_LIMIT
    assert len(flooded.stdout) <= box.policy.limits.output_bytes  # kept output stays within the limit it broke


def test_files_in_and_out_stay_in_the_scratch_folder(box):
    result = run(box, "print(open('data/in.txt').read())\nopen('out.bin', 'wb').write(bytes(range(4)))",
                 files=(("data/in.txt", b"given"),), fetch=("out.bin", "never-made.txt"))
    assert result.stdout == "given\n" and result.files == {"out.bin": base64.b64encode(bytes(range(4))).decode()}
    outside = run(box, "print(1)", files=(("/tmp/planted", b"x"),))
    assert outside.status is Status.RUNTIME_ERROR and "could not be written" in outside.detail
    assert run(box, "import os\nprint(os.path.exists('data/in.txt'))").stdout == "False\n"  # nothing left behind


def test_a_forged_exit_code_in_the_report_is_tampering(box):
    forged = run(box, "import os\nos.write(3, b'{\"status\":\"runtime_error\",\"exit_code\":\"999\"}\\n')\nos._exit(0)")
    assert forged.status is Status.NO_ANSWER and forged.exit_code == 1 and "tampered" in forged.detail
