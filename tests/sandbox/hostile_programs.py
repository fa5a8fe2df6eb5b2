"""Attack programs, grouped by what they try. Each is (group, name, code, expected status).

Placeholders filled in by the test: {marker} (a file no program may create, in a
world-writable directory, so only the sandbox stands in the way), {port} /
{udp_port} / {unix_path} (listeners the test runs), {secret_path} (a
world-readable file), {gold} (a value only the test process holds).
A program that gets through sets ``answer = "ESCAPED"`` or creates the marker.
"""

from __future__ import annotations

LIBC = "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.syscall.restype = ctypes.c_long\n"
TOUCH = "open({marker!r}, 'w').write('escaped')\n"

HOSTILE: list[tuple[str, str, str, str]] = [
    # -- infinite loops -------------------------------------------------------------------------
    ("infinite loop", "busy loop", "while True:\n    pass\n", "timeout"),
    ("infinite loop", "signals ignored", "import signal\nfor s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGXCPU):\n"
     "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass\n", "timeout"),
    ("infinite loop", "swallows BaseException", "while True:\n    try:\n        while True:\n            pass\n"
     "    except BaseException:\n        pass\n", "timeout"),
    ("infinite loop", "handler for SIGXCPU", "import signal\nsignal.signal(signal.SIGXCPU, lambda *a: None)\n"
     "while True:\n    pass\n", "timeout"),
    ("infinite loop", "sleeps forever", "import time\nwhile True:\n    time.sleep(10)\n", "timeout"),
    ("infinite loop", "loop in finally", "try:\n    raise ValueError\nfinally:\n    while True:\n        pass\n", "timeout"),
    ("infinite loop", "closes its pipes first", "import os\nfor fd in (1, 2, 3):\n    os.close(fd)\nwhile True:\n    pass\n",
     "timeout"),
    # -- C-level hangs --------------------------------------------------------------------------
    ("C-level hang", "huge power", "answer = 10**10**9\n", "timeout"),
    ("C-level hang", "C iterator", "import itertools\nanswer = sum(itertools.repeat(1, 10**13))\n", "timeout"),
    ("C-level hang", "regex backtracking", "import re\nanswer = re.match(r'(a+)+$', 'a' * 64 + 'b')\n", "timeout"),
    # -- memory bombs ---------------------------------------------------------------------------
    ("memory bomb", "giant string", "answer = 'a' * 10**10\n", "memory_limit"),
    ("memory bomb", "giant list", "answer = [0] * 10**9\n", "memory_limit"),
    ("memory bomb", "giant bytearray", "answer = len(bytearray(10**10))\n", "memory_limit"),
    ("memory bomb", "growing list", "x = []\nwhile True:\n    x.append(bytes(10**8))\n", "memory_limit"),
    ("memory bomb", "growing dict", "d = {{}}\ni = 0\nwhile True:\n    d[i] = bytes(10**8)\n    i += 1\n", "memory_limit"),
    # -- fork and thread bombs ------------------------------------------------------------------
    ("fork bomb", "os.fork", "import os\nif os.fork() == 0:\n    " + TOUCH + "answer = 'ESCAPED'\n", "runtime_error"),
    ("fork bomb", "fork loop", "import os\nwhile True:\n    os.fork()\n", "runtime_error"),
    ("fork bomb", "raw clone", LIBC + "pid = libc.syscall(56, 17, 0, 0, 0, 0)\nif pid == 0:\n    " + TOUCH
     + "    libc._exit(0)\nanswer = 'ESCAPED' if pid > 0 else ctypes.get_errno()\n", "ok"),
    ("fork bomb", "raw vfork", LIBC + "pid = libc.syscall(58)\nif pid == 0:\n    libc._exit(0)\n"
     "answer = 'ESCAPED' if pid >= 0 else ctypes.get_errno()\n", "ok"),
    ("thread bomb", "threading", "import threading\nwhile True:\n    threading.Thread(target=lambda: None).start()\n",
     "runtime_error"),
    ("thread bomb", "raw thread clone", LIBC + "r = libc.syscall(56, 0x50f00, 0, 0, 0, 0)\n"
     "answer = 'ESCAPED' if r >= 0 else ctypes.get_errno()\n", "ok"),
    ("double fork", "fork, setsid, fork", "import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
     "        " + TOUCH + "answer = 1\n", "runtime_error"),
    ("double fork", "setsid", "import os\nos.setsid()\nanswer = 'ESCAPED'\n", "runtime_error"),
    # -- running other programs -----------------------------------------------------------------
    ("exec", "os.system", "import os\nrc = os.system('touch {marker}')\nanswer = 'ESCAPED' if rc == 0 else rc\n", "ok"),
    ("exec", "posix_spawn", "import os\nos.posix_spawn('/usr/bin/touch', ['touch', {marker!r}], {{}})\n", "runtime_error"),
    ("exec", "subprocess", "import subprocess\nsubprocess.run(['touch', {marker!r}])\nanswer = 'ESCAPED'\n",
     "runtime_error"),
    ("exec", "execv", "import os\nos.execv('/usr/bin/touch', ['touch', {marker!r}])\n", "runtime_error"),
    ("exec", "ctypes system", LIBC + "rc = libc.system(b'touch {marker}')\nanswer = 'ESCAPED' if rc == 0 else rc\n", "ok"),
    # -- writes outside scratch -----------------------------------------------------------------
    ("filesystem", "write marker", TOUCH + "answer = 'ESCAPED'\n", "runtime_error"),
    ("filesystem", "symlink out", "import os\nos.symlink(os.path.dirname({marker!r}), 'out')\n"
     "open('out/' + os.path.basename({marker!r}), 'w').write('x')\nanswer = 'ESCAPED'\n", "runtime_error"),
    ("filesystem", "rename out", "open('f', 'w').write('x')\nimport os\nos.rename('f', {marker!r})\nanswer = 'ESCAPED'\n",
     "runtime_error"),
    ("filesystem", "hard link in", "import os\nos.link({secret_path!r}, 'copy')\nanswer = open('copy').read()\n",
     "runtime_error"),
    # a file handle would skip every path check (with CAP_DAC_READ_SEARCH): not in the allowlist
    ("filesystem", "open by handle", LIBC + "fh = ctypes.create_string_buffer(b'\\x08\\0\\0\\0\\x01\\0\\0\\0' + bytes(8))\n"
     "fd = libc.syscall(304, -100, fh, 0)\nanswer = 'ESCAPED' if fd >= 0 else ctypes.get_errno()\n", "ok"),
    ("filesystem", "chdir to root", "import os\nos.chdir('/')\nanswer = str(os.listdir('.'))\n", "runtime_error"),
    ("filesystem", "shared memory", "open('/dev/shm/escape', 'w').write('x')\nanswer = 'ESCAPED'\n", "runtime_error"),
    ("filesystem", "sibling scratch", "import os\nanswer = str(os.listdir('..'))\n", "runtime_error"),
    ("filesystem", "proc self mem", "f = open('/proc/self/mem', 'r+b')\nanswer = 'ESCAPED'\n", "runtime_error"),
    # -- network --------------------------------------------------------------------------------
    ("network", "tcp socket module", "import socket\ns = socket.create_connection(('127.0.0.1', {port}))\n"
     "answer = 'ESCAPED'\n", "runtime_error"),
    ("network", "tcp raw", LIBC + "fd = libc.socket(2, 1, 0)\nanswer = 'ESCAPED' if fd >= 0 else ctypes.get_errno()\n", "ok"),
    ("network", "udp raw", LIBC + "fd = libc.socket(2, 2, 0)\nanswer = 'ESCAPED' if fd >= 0 else ctypes.get_errno()\n", "ok"),
    ("network", "unix raw", LIBC + "fd = libc.socket(1, 1, 0)\nanswer = 'ESCAPED' if fd >= 0 else ctypes.get_errno()\n", "ok"),
    ("network", "socketpair", LIBC + "fds = (ctypes.c_int * 2)()\nr = libc.socketpair(1, 1, 0, fds)\n"
     "answer = 'ESCAPED' if r == 0 else ctypes.get_errno()\n", "ok"),
    # -- secrets --------------------------------------------------------------------------------
    ("secrets", "environment", "import os\nanswer = repr(dict(os.environ))\n", "ok"),
    ("secrets", "proc environ", "answer = open('/proc/self/environ').read()\n", "runtime_error"),
    ("secrets", "parent environ", "import os\nanswer = open(f'/proc/{{os.getppid()}}/environ').read()\n", "runtime_error"),
    ("secrets", "secret file", "answer = open({secret_path!r}).read()\n", "runtime_error"),
    ("secrets", "shadow", "answer = open('/etc/shadow').read()\n", "runtime_error"),
    ("secrets", "home dir", "import os\nanswer = str(os.listdir(os.path.expanduser('~')))\n", "runtime_error"),
    ("secrets", "package data", "import os, ekt_curate\nanswer = str(os.listdir(os.path.dirname(ekt_curate.__file__)))\n",
     "runtime_error"),
    # -- the gold answer ------------------------------------------------------------------------
    ("gold", "heap and frames", "import gc, re, sys\nfound = set()\npat = re.compile('GOLD' + '-[0-9]{{8}}')\n"
     "for o in gc.get_objects():\n    try:\n        found.update(pat.findall(repr(o)[:10000]))\n    except Exception:\n"
     "        pass\nf = sys._getframe()\nwhile f:\n    found.update(pat.findall(repr(f.f_locals)))\n    f = f.f_back\n"
     "for m in list(sys.modules.values()):\n    found.update(pat.findall(repr(vars(m))[:100000]))\n"
     "answer = ' '.join(sorted(found)) or 'none'\n", "ok"),
    ("gold", "argv and stdin", "import sys\nanswer = repr(sys.argv) + repr(sys.stdin.read())\n", "ok"),
    # -- limits ---------------------------------------------------------------------------------
    ("rlimits", "raise CPU limit", "import resource\nresource.setrlimit(resource.RLIMIT_CPU, (100, 100))\n"
     "while True:\n    pass\n", "runtime_error"),
    ("rlimits", "lower then raise soft", "import resource\ns, h = resource.getrlimit(resource.RLIMIT_AS)\n"
     "resource.setrlimit(resource.RLIMIT_AS, (h, h))\nanswer = 'ESCAPED'\n", "runtime_error"),
    ("rlimits", "raw prlimit", LIBC + "new = (ctypes.c_ulong * 2)(10**6, 10**6)\n"
     "r = libc.syscall(302, 0, 0, ctypes.byref(new), None)\nanswer = 'ESCAPED' if r == 0 else ctypes.get_errno()\n", "ok"),
    # -- killing --------------------------------------------------------------------------------
    ("kill", "kill parent", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nanswer = 'ESCAPED'\n", "runtime_error"),
    ("kill", "kill everyone", "import os, signal\nos.kill(-1, signal.SIGKILL)\nanswer = 'ESCAPED'\n", "runtime_error"),
    ("kill", "kill parent group", "import os, signal\nos.killpg(os.getppid(), signal.SIGKILL)\n"
     "answer = 'ESCAPED'\n", "runtime_error"),
    ("kill", "raw kill parent", LIBC + "import os\nr = libc.kill(os.getppid(), 9)\n"
     "answer = 'ESCAPED' if r == 0 else ctypes.get_errno()\n", "ok"),
    ("kill", "tgkill parent", LIBC + "import os\nr = libc.syscall(234, os.getppid(), os.getppid(), 9)\n"
     "answer = 'ESCAPED' if r == 0 else ctypes.get_errno()\n", "ok"),
    ("kill", "kill own group", "import os, signal\nos.kill(0, signal.SIGKILL)\n", "killed"),
    # -- ptrace and privileges ------------------------------------------------------------------
    ("ptrace", "attach parent", LIBC + "import os\nr = libc.ptrace(16, os.getppid(), 0, 0)\n"
     "answer = 'ESCAPED' if r == 0 else ctypes.get_errno()\n", "ok"),
    ("ptrace", "traceme", LIBC + "r = libc.ptrace(0, 0, 0, 0)\nanswer = 'ESCAPED' if r == 0 else ctypes.get_errno()\n", "ok"),
    ("privileges", "setuid root", "import os\nos.setuid(0)\nanswer = 'ESCAPED'\n", "runtime_error"),
    ("privileges", "user namespace", LIBC + "r = libc.unshare(0x10000000)\n"
     "answer = 'ESCAPED' if r == 0 else ctypes.get_errno()\n", "ok"),
    ("privileges", "io_uring", LIBC + "p = ctypes.create_string_buffer(120)\nr = libc.syscall(425, 8, p)\n"
     "answer = 'ESCAPED' if r >= 0 else ctypes.get_errno()\n", "ok"),
    ("privileges", "32-bit syscall ABI", LIBC + "mem = libc.mmap\nmem.restype = ctypes.c_void_p\n"
     "mem.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]\n"
     "addr = mem(None, 4096, 7, 0x22, -1, 0)\ncode = bytes([0xb8, 2, 0, 0, 0, 0xcd, 0x80, 0xc3])  # i386 fork\n"
     "ctypes.memmove(addr, code, len(code))\nr = ctypes.CFUNCTYPE(ctypes.c_int)(addr)()\n"
     "answer = 'ESCAPED' if r >= 0 else r\n", "killed"),
    # -- crashes --------------------------------------------------------------------------------
    ("crash", "segfault", "import ctypes\nctypes.string_at(0)\n", "killed"),
    # hash() of nested tuples recurses in C with no guard: ~0.3 s of CPU to overflow an 8 MiB stack
    # (repr of nested lists needs seconds: CPython's repr-recursion check is quadratic)
    ("crash", "C stack overflow", "import sys\nsys.setrecursionlimit(10**8)\nx = ()\nfor _ in range(10**6):\n    x = (x,)\n"
     "answer = hash(x)\n",
     "killed"),
    ("crash", "abort", "import os\nos.abort()\n", "killed"),
    # -- output ---------------------------------------------------------------------------------
    ("output flood", "stdout loop", "while True:\n    print('x' * 1000)\n", "output_limit"),
    ("output flood", "stderr loop", "import sys\nwhile True:\n    sys.stderr.write('y' * 1000)\n", "output_limit"),
    ("output flood", "one giant print", "print('z' * 10**8)\n", "output_limit"),
    ("output flood", "result channel flood", "import os\nwhile True:\n    os.write(3, b'{{}}' * 1000)\n", "no_answer"),
    ("fd exhaustion", "pipes", "import os\nwhile True:\n    os.pipe()\n", "runtime_error"),
    ("fd exhaustion", "files", "fs = []\ni = 0\nwhile True:\n    fs.append(open(f'f{{i}}', 'w'))\n    i += 1\n",
     "runtime_error"),
    ("huge file", "write 100 MB", "with open('big', 'wb') as f:\n    for _ in range(100):\n        f.write(b'0' * 10**6)\n",
     "output_limit"),
    ("scratch quota", "many files", "for i in range(400):\n    with open(f'f{{i}}', 'wb') as f:\n"
     "        f.write(bytes(10**6 - 1))\nanswer = 'ESCAPED'\n", "runtime_error"),
    ("scratch quota", "many empty files", "for i in range(100000):\n    open(f'e{{i}}', 'w').close()\n"
     "answer = 'ESCAPED'\n", "runtime_error"),
    ("input", "input()", "answer = input('How many? ')\n", "runtime_error"),
    # -- forged results -------------------------------------------------------------------------
    ("forged verdict", "every fd then continue", "import os\nfake = b'{{\"status\":\"ok\",\"answer\":[\"int\",\"424242\"],"
     "\"passed\":true}}\\n'\nfor fd in range(64):\n    try:\n        os.write(fd, fake)\n    except OSError:\n"
     "        pass\nanswer = 7\n", "no_answer"),
    ("forged verdict", "forged pass then exit", "import os\nos.write(3, b'{{\"status\":\"pass\",\"passed\":true}}\\n')\n"
     "os._exit(0)\n", "no_answer"),
    ("forged verdict", "extra keys then exit", "import os\nos.write(3, b'{{\"status\":\"ok\",\"answer\":[\"int\",\"1\"],"
     "\"verdict\":\"pass\"}}\\n')\nos._exit(0)\n", "no_answer"),
    ("forged verdict", "blame the sandbox", "import os\nos.write(3, b'{{\"status\":\"sandbox_error\",\"detail\":\"x\"}}\\n')\n"
     "os._exit(0)\n", "no_answer"),
    ("forged verdict", "stdout verdict", "print('{{\"status\": \"pass\", \"passed\": true}}')\nanswer = 3\n", "ok"),
    # -- exits and atexit -----------------------------------------------------------------------
    ("early exit", "os._exit(0)", "import os\nos._exit(0)\nanswer = 1\n", "no_answer"),
    ("early exit", "os._exit(3)", "import os\nos._exit(3)\n", "no_answer"),
    ("early exit", "sys.exit(0) before answer", "import sys\nsys.exit(0)\nanswer = 1\n", "no_answer"),
    ("early exit", "SystemExit(5)", "raise SystemExit(5)\n", "runtime_error"),
    ("atexit", "atexit prints", "import atexit\natexit.register(lambda: print('ESCAPED'))\nanswer = 5\n", "ok"),
    ("atexit", "atexit hangs", "import atexit\natexit.register(lambda: __import__('time').sleep(100))\nanswer = 6\n", "ok"),
    # -- forged equality ------------------------------------------------------------------------
    ("forged equality", "always equal", "class E:\n    def __eq__(self, o):\n        return True\n"
     "    __hash__ = None\nanswer = E()\n", "no_answer"),
    ("forged equality", "float subclass", "class F(float):\n    def __eq__(self, o):\n        return True\nanswer = F(1)\n",
     "no_answer"),
    ("forged equality", "str subclass", "class S(str):\n    def __eq__(self, o):\n        return True\nanswer = S('1')\n",
     "no_answer"),
    ("forged equality", "fake numpy scalar", "import numbers\nclass N:\n    __module__ = 'numpy'\n"
     "    def __float__(self):\n        return 1.0\n    def __eq__(self, o):\n        return True\n"
     "numbers.Number.register(N)\nanswer = N()\n", "no_answer"),
    ("forged equality", "patched builtins", "import builtins\nbuiltins.type = lambda o: int\nbuiltins.isinstance = "
     "lambda *a: True\nanswer = object()\n", "no_answer"),
]
