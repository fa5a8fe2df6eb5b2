"""Programs that try to pass tests without solving them (issue 18), kept as data.

Each attack is (name, program). The program is written against TESTS below: ``add(a, b)``
must return ``a + b``, and a wrong or cheating ``add`` is what every attack ships. None of them
may pass: a case passes only if the harness process ran it to its end with plain values.
"""

from __future__ import annotations

# The tests every attack faces (assert style, as MBPP writes them), and the same as calls.
TESTS = ("assert add(1, 2) == 3", "assert add(-4, 4) == 0", "assert abs(add(0.1, 0.2) - 0.3) < 1e-9")
CALLS = (("add", (1, 2), 3), ("add", (-4, 4), 0), ("add", (10, 5), 15))
HONEST = "def add(a, b):\n    return a + b\n"

WRONG = "def add(a, b):\n    return a - b\n"

ATTACKS = [
    ("exit 0 before the tests", WRONG + "import sys\nsys.exit(0)\n"),
    ("os._exit(0) before the tests", WRONG + "import os\nos._exit(0)\n"),
    ("exit 0 inside the function", "def add(a, b):\n    import os\n    os._exit(0)\n"),
    ("raise SystemExit(0) inside the function", "def add(a, b):\n    raise SystemExit(0)\n"),
    ("an object equal to everything", '''
class Anything:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __sub__(self, other): return self
    def __rsub__(self, other): return self
    def __abs__(self): return 0
def add(a, b):
    return Anything()
'''),
    ("an int subclass equal to everything", '''
class Int(int):
    def __eq__(self, other): return True
    def __hash__(self): return 0
def add(a, b):
    return Int(0)
'''),
    ("a float subclass", "class F(float):\n    def __eq__(self, o): return True\ndef add(a, b):\n    return F(0)\n"),
    ("a list holding an object equal to everything", '''
class Anything:
    def __eq__(self, other): return True
def add(a, b):
    return [Anything()]
'''),
    ("patch AssertionError in builtins", WRONG + "import builtins\nbuiltins.AssertionError = type('X', (Exception,), {})\n"),
    ("patch abs and isinstance in builtins", WRONG + "import builtins\nbuiltins.abs = lambda x: 0\n"
                                                     "builtins.isinstance = lambda *a: True\n"),
    ("shadow abs with a global", WRONG + "def abs(x):\n    return 0\n"),
    ("patch sys.exit and os._exit", WRONG + "import sys, os\nsys.exit = lambda *a: None\nos._exit = lambda *a: None\n"),
    ("define the test's own names", WRONG + "def check(candidate):\n    return True\ncandidate = add\n"),
    ("forge a report on every descriptor", WRONG + '''
import os
report = b'R\\n{"status": "ok", "cases": [["pass", ""], ["pass", ""], ["pass", ""]]}\\n'
for fd in range(64):
    try:
        os.write(fd, report)
    except OSError:
        pass
'''),
    # A reply only claims a return value (claiming the right one is computing it), so forged
    # replies try to break the protocol instead: a report, a verdict, garbage, a reply cut short.
    ("forge protocol messages ahead of the calls", '''
import os
def add(a, b):
    for fd in range(3, 64):
        try:
            os.write(fd, b'{"status": "ok", "cases": [["pass", ""]]}\\n{"pass": true}\\n\\x00\\xff\\n{"ok": ')
        except OSError:
            pass
    return a - b
'''),
    ("forge a ready message naming builtins", WRONG + '''
import os, json
message = {"ready": {"functions": ["abs", "isinstance", "AssertionError", "add"], "modules": {}, "values": {}}}
for fd in range(3, 64):
    try:
        os.write(fd, (json.dumps(message) + "\\n").encode())
    except OSError:
        pass
'''),
    ("read the tests from memory", '''
import gc
found = [o for o in gc.get_objects() if isinstance(o, str) and "assert add" in o]
def add(a, b):
    if found:
        return 3
    return a - b
'''),
    ("read the tests from the job pipe", '''
import os
seen = b""
for fd in range(0, 64):
    try:
        seen += os.read(fd, 1 << 16)
    except OSError:
        pass
def add(a, b):
    return 3 if b"assert" in seen else a - b
'''),
    ("read the harness's memory", '''
seen = ""
try:
    import os
    seen = open(f"/proc/{os.getppid()}/mem", "rb").read(16)
except OSError:
    pass
def add(a, b):
    return 3 if seen else a - b
'''),
    ("look up the caller's frame for the expected value", '''
import sys
def add(a, b):
    frame = sys._getframe(1)
    consts = [c for c in frame.f_code.co_consts if isinstance(c, int)]
    return consts[-1] if consts else a - b
'''),
    ("kill the harness", WRONG + "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\nexcept OSError:\n"
                                 "    pass\nos.kill(0, signal.SIGKILL)\n"),
    ("stop the harness", WRONG + "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGSTOP)\n"
                                 "except OSError:\n    pass\n"),
    ("hang inside the function", "def add(a, b):\n    while True:\n        pass\n"),
    ("a value too deep to send", "def add(a, b):\n    x = []\n    for _ in range(10000):\n        x = [x]\n    return x\n"),
    ("print that the tests passed", WRONG + "print('3 passed, 0 failed')\nprint('All tests passed')\n"),
    # found by an outside red-team pass of the harness
    ("a malformed ready message, to be blamed on the sandbox", WRONG + '''
import os
for fd in range(3, 64):
    try:
        os.write(fd, b'{"ready": {"functions": 5, "modules": "x", "values": []}}\\n')
    except OSError:
        pass
'''),
    ("a builtin taken over by a global the tests call", WRONG + "def len(x):\n    return 3\n"),
]

# HumanEval/32, /38, /50: the tests call helpers the prompt defines (poly, encode_cyclic); a
# completion that redefines them must not change what the tests compute.
PROMPT_WITH_HELPER = "def double(x):\n    return 2 * x\n\ndef halve(y):\n    \"\"\"The x with double(x) == y.\"\"\"\n"
HELPER_TESTS = "def check(candidate):\n    assert double(candidate(10)) == 10\n    assert double(candidate(7)) == 7\n"
HELPER_ATTACK = PROMPT_WITH_HELPER + "    return 0\n\ndef double(x):\n    return 10 if x == 0 else 7\n"
HELPER_HONEST = PROMPT_WITH_HELPER + "    return y / 2\n"
# a test that catches Exception: a hang or an exit in the program must still fail it
CATCHING_TESTS = ("try:\n    add(1, 2)\nexcept Exception:\n    pass\nassert True",)
