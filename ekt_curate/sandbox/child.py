"""The forked child: read its job, confine itself, run one program, report one bounded message, _exit.

Runs in a fresh fork of the zygote, so nothing it does persists. Its job (program,
answer convention, optional prelude) arrives on a pipe from the executor, and its
output and report go back to the executor on pipes the zygote no longer holds.
Order matters:
1. new session/process group (the whole group is killed), parent-death signal, read the job;
2. fds: stdin from /dev/null, stdout/stderr/result pipes at 1/2/3, everything else closed;
3. rlimits (CPU, address space relative to the current mapping, file size, fds, core 0);
4. Landlock's program domain (writes only in scratch, signals scoped), privileges dropped;
5. the program's seccomp filter, last, because it forbids the calls above.
The zygote already runs under its own Landlock domain and seccomp allowlist;
these nest on top (see landlock.py and seccomp_filter.py).
If any step fails the child reports ``sandbox_error`` naming the layer and exits
without running the program: never run unprotected.
"""

from __future__ import annotations

import builtins
import json
import os
import resource
import signal
import sys
from typing import Any

from json.encoder import encode_basestring_ascii

from ekt_curate.sandbox.answer_value import NoAnswer, encode
from ekt_curate.sandbox.linux import PR_SET_DUMPABLE, PR_SET_PDEATHSIG, prctl

RESULT_FD = 3
READY_MARK = b"R\n"  # written once confined, so a set-up failure report cannot be forged afterwards
_ANSWER_VARIABLES = ("answer", "ans", "result")
STACK_BYTES = 8 << 20
# One thread for numeric libraries: OpenBLAS reads this when numpy loads, and without it tries
# a thread per core, which the policy forbids (it then calls exit()).
_KEPT_ENVIRONMENT = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "LANG", "LC_ALL")


class Confinement:
    """Everything the zygote prepares once, for every child it forks."""

    def __init__(self, *, limits: Any, landlock: Any, seccomp: Any, uid: int | None, gid: int | None,
                 devnull_fd: int, zygote_pid: int):
        self.limits = limits
        self.landlock = landlock      # LandlockLayers or None (layer off)
        self.seccomp = seccomp        # the program filter (LoadableFilter) or None (layer off)
        self.uid = uid                # None: not root, or layer off
        self.gid = gid
        self.devnull_fd = devnull_fd
        self.zygote_pid = zygote_pid


def child_main(conf: Confinement, scratch: str, fds: list[int], prelude: Any, address_space: int) -> None:
    """Never returns. ``fds``: job in, stdout, stderr, result (all 4 or more, see zygote.py)."""
    layer = "setup"
    try:
        layer = "session"
        os.setsid()
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, what="prctl(PR_SET_PDEATHSIG)")
        if os.getppid() != conf.zygote_pid:
            os._exit(70)
        layer = "job"
        job_fd, out_fd, err_fd, res_fd = fds
        job = _read_job(job_fd, conf.limits.program_bytes)
        if job is None:
            os._exit(0)  # the executor withdrew the job (its run was abandoned)
        code, answer_mode = job["code"], job["answer"]
        if "prelude" in job:
            prelude = compile(job["prelude"], "<prelude>", "exec", dont_inherit=True) if job["prelude"] else None
        layer = "file descriptors"
        os.dup2(conf.devnull_fd, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.dup2(res_fd, RESULT_FD)
        os.chdir(scratch)
        layer = "rlimits"
        _set_rlimits(conf, address_space)
        if conf.landlock is not None:
            layer = "landlock"
            scratch_fd = os.open(scratch, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            conf.landlock.restrict_child(scratch_fd)
        layer = "file descriptors"
        os.closerange(RESULT_FD + 1, 1 << 20)
        if conf.uid is not None:
            layer = "drop_privileges"
            os.setgroups([])
            os.setresgid(conf.gid, conf.gid, conf.gid)
            os.setresuid(conf.uid, conf.uid, conf.uid)
            if os.getuid() == 0 or os.geteuid() == 0:
                raise OSError("still root after setresuid")
            # A change of credentials clears the parent-death signal (kernel commit_creds): set
            # it again, or a program outlives a killed zygote and runs beside the next one's jobs.
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, what="prctl(PR_SET_PDEATHSIG)")
            if os.getppid() != conf.zygote_pid:
                os._exit(70)
        else:  # a uid change clears the dumpable flag by itself (fs.suid_dumpable)
            prctl(PR_SET_DUMPABLE, 0, what="prctl(PR_SET_DUMPABLE)")
        if conf.seccomp is not None:
            layer = "seccomp"
            conf.seccomp.load_stacked()
    except BaseException as exc:  # noqa: BLE001 - any failure here must stop the run
        _report({"status": "sandbox_error", "detail": f"{layer} layer could not be installed: {exc}"})
        os._exit(0)
    _write(RESULT_FD, READY_MARK)
    _run(code, prelude, answer_mode, conf.limits.answer_chars)


def _read_job(fd: int, max_program: int) -> dict[str, Any] | None:
    """The job as the executor wrote it (JSON, then EOF); None if it was cut short."""
    limit = max_program * 4 + (1 << 20)  # JSON escapes, plus a prelude
    data = bytearray()
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            return None
    os.close(fd)
    try:
        job = json.loads(data)
    except ValueError:
        return None
    return job if isinstance(job, dict) and isinstance(job.get("code"), str) else None


def _set_rlimits(conf: Confinement, address_space: int) -> None:
    lim = conf.limits
    cpu = int(lim.cpu_seconds)
    memory = address_space + lim.memory_mib * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL a second later
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (lim.file_size_bytes, lim.file_size_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (lim.open_files, lim.open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # The same stack everywhere (a caller's `ulimit -s unlimited` would let a C recursion eat
    # the whole address space before it crashes): a deep C recursion dies the same way on any host.
    hard = resource.getrlimit(resource.RLIMIT_STACK)[1]
    stack = STACK_BYTES if hard == resource.RLIM_INFINITY else min(STACK_BYTES, hard)
    resource.setrlimit(resource.RLIMIT_STACK, (stack, stack))
    if conf.uid is not None:  # per-uid process count is only meaningful for our own uid
        resource.setrlimit(resource.RLIMIT_NPROC, (lim.threads, lim.threads))


# References captured before the program runs: it may rebind os.write, json, sys.stdout...
_write = os.write
_exit = os._exit
_type = type
_str = str
_isinstance = isinstance
_quote = encode_basestring_ascii


def _run(code: str, prelude: Any, answer_mode: str, max_chars: int) -> None:
    # sys.stdin/stdout/stderr are the zygote's own streams, now on /dev/null and the two
    # pipes; the zygote never writes through them, so their buffers are empty.
    stdout, stderr = sys.__stdout__, sys.__stderr__
    sys.argv = ["<program>"]
    for key in list(os.environ):  # the zygote's scrubbed environment, less what a program needs not
        if key not in _KEPT_ENVIRONMENT:
            del os.environ[key]
    message: dict[str, Any]
    try:
        compiled = compile(code, "<program>", "exec", dont_inherit=True)
    except MemoryError:
        message = {"status": "memory_limit", "detail": "MemoryError while compiling"}
    except (SyntaxError, ValueError, RecursionError, OverflowError) as exc:
        message = {"status": "syntax_error", "exc_type": _type(exc).__name__, "detail": _describe(exc)}
    else:
        message = _execute(compiled, prelude, answer_mode, max_chars)
    for stream in (stdout, stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a closed or full stream must not hide the result
            pass
    _report(message)
    _exit(0)


def _execute(compiled: Any, prelude: Any, answer_mode: str, max_chars: int) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    try:
        if prelude is not None:
            exec(prelude, namespace)
        try:
            exec(compiled, namespace)
        except SystemExit as exc:
            if exc.code not in (None, 0):  # exit(0) after printing the answer is a normal end
                return {"status": "runtime_error", "exc_type": "SystemExit",
                        "detail": f"SystemExit: {_safe_str(exc.code)[:100]}"}
        value, source = _pick_answer(namespace, answer_mode)
    except BaseException as exc:  # noqa: BLE001 - the program's exceptions are data here
        return _classify(exc)
    if source == "stdout":
        return {"status": "ok", "answer_from": "stdout"}
    if source is None:
        return {"status": "no_answer", "detail": value}
    try:
        return {"status": "ok", "answer": encode(value, max_chars)}
    except NoAnswer as exc:
        return {"status": "no_answer", "detail": _str(exc)}
    except BaseException as exc:  # noqa: BLE001 - conversion of a library number can raise
        return _classify(exc)


def _pick_answer(namespace: dict[str, Any], mode: str) -> tuple[Any, str | None]:
    """(value, source); source None means no answer and value is the reason."""
    if mode == "stdout":
        return None, "stdout"
    if mode in ("auto", "solution"):
        solution = namespace.get("solution")
        if callable(solution):
            return solution(), "solution()"
        if mode == "solution":
            return "program defines no solution() function", None
        for name in _ANSWER_VARIABLES:
            if name in namespace:
                return namespace[name], name
        return None, "stdout"
    if mode.startswith("var:"):
        name = mode[4:]
        if name in namespace:
            return namespace[name], name
        return f"program defines no variable {name!r}", None
    return f"unknown answer mode {mode!r}", None


def _classify(exc: BaseException) -> dict[str, Any]:
    name = _safe_str(getattr(_type(exc), "__name__", "Exception"))[:100]
    if _isinstance(exc, MemoryError):
        return {"status": "memory_limit", "exc_type": name, "detail": "MemoryError"}
    if _isinstance(exc, OSError) and getattr(exc, "errno", None) == 27:  # EFBIG: file size limit
        return {"status": "output_limit", "exc_type": name, "detail": "file larger than the policy allows"}
    return {"status": "runtime_error", "exc_type": name, "detail": _describe(exc)}


def _describe(exc: BaseException) -> str:
    name = _safe_str(getattr(_type(exc), "__name__", "Exception"))[:100]
    text = _safe_str(exc)
    return f"{name}: {text}"[:300] if text else name


def _safe_str(value: object) -> str:
    try:
        text = _str(value)
    except BaseException:  # noqa: BLE001 - a hostile __str__ must not break reporting
        return "<unprintable>"
    return text if _type(text) is _str else "<unprintable>"


def _report(message: dict[str, Any]) -> None:
    data = (_encode(message) + "\n").encode()
    view = memoryview(data)
    while view:
        try:
            written = _write(RESULT_FD, view)
        except InterruptedError:
            continue
        except OSError:
            return
        view = view[written:]


def _encode(value: Any) -> str:
    """JSON for the report's few shapes (str, list of str, dict): json.dumps's machinery
    touches enough memory to cost a child ~0.1 ms in copy-on-write faults."""
    if _type(value) is dict:
        return "{" + ",".join(_quote(k) + ":" + _encode(v) for k, v in value.items()) + "}"
    if _type(value) is list:
        return "[" + ",".join(_encode(v) for v in value) + "]"
    return _quote(_str(value))
