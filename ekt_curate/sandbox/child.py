"""The forked child: read its job, confine itself, run one program, report one bounded message, _exit.

Runs in a fresh fork of the zygote, so nothing it does persists. Its job (program,
answer convention, optional prelude) arrives on a pipe from the executor, and its
output and report go back to the executor on pipes the zygote no longer holds.
Order matters:
1. new session/process group (the whole group is killed), parent-death signal, read the job;
2. fds: stdin from /dev/null (or the rest of the job pipe: the program's stdin, or a test
   job's tests), stdout/stderr/result pipes at 1/2/3, a test job's two pipes at 4-7, the rest closed;
3. rlimits (CPU, address space relative to the current mapping, file size, fds, core 0);
4. Landlock's program domain (writes only in scratch, signals scoped), privileges dropped;
5. the program's seccomp filter, last, because it forbids the calls above.
The zygote already runs under its own Landlock domain and seccomp allowlist;
these nest on top (see landlock.py and seccomp_filter.py).
If any step fails the child reports ``sandbox_error`` naming the layer and exits
without running the program: never run unprotected. A test job forks once confined, before
step 5, into a program process and a harness process (harness.py).
"""

from __future__ import annotations

import builtins
import fcntl
import json
import os
import resource
import signal
import sys
import traceback  # a plain run prints uncaught exceptions; imported here, not by a confined child
from typing import Any

from json.encoder import encode_basestring_ascii

from ekt_curate.sandbox import checked_case, harness, job_files
from ekt_curate.sandbox.answer_value import NoAnswer, encode
from ekt_curate.sandbox.linux import PR_SET_DUMPABLE, PR_SET_PDEATHSIG, prctl
from ekt_curate.sandbox.protocol import read_part

RESULT_FD = 3
HARNESS_FDS = (4, 5, 6, 7)  # a test job: requests (read, write), replies (read, write)
READY_MARK = b"R\n"  # written once confined, so a set-up failure report cannot be forged afterwards
_ANSWER_VARIABLES = ("answer", "ans", "result")
STACK_BYTES = 8 << 20
# One thread for numeric libraries: OpenBLAS reads this when numpy loads, and without it tries
# a thread per core, which the policy forbids (it then calls exit()).
_KEPT_ENVIRONMENT = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "LANG", "LC_ALL")


class Confinement:
    """Everything the zygote prepares once, for every child it forks."""

    def __init__(self, *, limits: Any, landlock: Any, seccomp: Any, uid: int | None, gid: int | None,
                 devnull_fd: int, zygote_pid: int, cpu: int | None = None):
        self.limits = limits
        self.landlock = landlock      # LandlockLayers or None (layer off)
        self.seccomp = seccomp        # the program filter (LoadableFilter) or None (layer off)
        self.uid = uid                # None: not root, or layer off
        self.gid = gid
        self.devnull_fd = devnull_fd
        self.zygote_pid = zygote_pid
        self.harness: Any = None      # a test job's harness side (harness.Program), after the fork
        self.cpu = cpu                # a test job's two processes run there (its worker's CPU)


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
        code, answer_mode, tests = job["code"], job["answer"], bool(job.get("tests"))
        if "prelude" in job:
            prelude = compile(job["prelude"], "<prelude>", "exec", dont_inherit=True) if job["prelude"] else None
        layer = "file descriptors"
        pipes = _harness_pipes() if tests else ()
        # the rest of the job pipe is the program's stdin, or the tests (read after the fork)
        os.dup2(job_fd if job.get("stdin") or tests else conf.devnull_fd, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.dup2(res_fd, RESULT_FD)
        for fd, target in zip(pipes, HARNESS_FDS):
            os.dup2(fd, target)
            os.close(fd)  # now, before the fd limit: the ones above it must not hold low slots
        os.chdir(scratch)
        layer = "rlimits"
        _set_rlimits(conf, address_space, processes=2 if tests else 1)
        if conf.landlock is not None:
            layer = "landlock"
            scratch_fd = os.open(scratch, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            conf.landlock.restrict_child(scratch_fd)
        layer = "file descriptors"
        os.closerange(HARNESS_FDS[-1] + 1 if tests else RESULT_FD + 1, 1 << 20)
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
        if tests:
            layer = "test harness"
            _fork_test_job(conf, code, prelude, bool(job.get("checked")))  # returns in the harness only
        if conf.seccomp is not None:
            layer = "seccomp"
            conf.seccomp.load_stacked()
    except BaseException as exc:  # noqa: BLE001 - any failure here must stop the run
        _report({"status": "sandbox_error", "detail": f"{layer} layer could not be installed: {exc}"})
        os._exit(0)
    _write(RESULT_FD, READY_MARK)
    if tests:
        _run_harness(conf)
    fetch = job.get("fetch") if answer_mode == "run" else None
    _run(code, prelude, answer_mode, conf.limits.answer_chars, job.get("files"), fetch, conf.limits.output_bytes // 2)


def _read_job(fd: int, max_program: int) -> dict[str, Any] | None:
    """The job's header as the executor wrote it (a 4-byte length, then JSON); None if it was
    cut short. What follows on the pipe (stdin, tests) is read by whoever it is for."""
    limit = max_program * 4 + (1 << 20)  # JSON escapes, plus a prelude
    data = read_part(fd, limit)
    if data is None:
        return None
    try:
        job = json.loads(data)
    except ValueError:
        return None
    return job if isinstance(job, dict) and isinstance(job.get("code"), str) else None


def _harness_pipes() -> tuple[int, int, int, int]:
    """Two pipes, moved above the fds they will be dup2'ed onto so none is overwritten first."""
    ends = []
    for _ in range(2):
        for fd in os.pipe():
            ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD, HARNESS_FDS[-1] + 1))
            os.close(fd)
    return tuple(ends)  # type: ignore[return-value]


def _fork_test_job(conf: Confinement, code: str, prelude: Any, checked: bool = False) -> None:
    """Fork the program process, which never returns from here; the harness process returns.
    ``checked``: a stdin/stdout case for a checker program, where the program reads its stdin
    from the harness and writes its stdout to it (the two pipes), and serves no calls."""
    requests_r, requests_w, replies_r, replies_w = HARNESS_FDS
    try:
        compiled = compile(code, "<program>", "exec", dont_inherit=True)
    except MemoryError:
        _fail_before_tests({"status": "memory_limit", "detail": "MemoryError while compiling"})
    except (SyntaxError, ValueError, RecursionError, OverflowError) as exc:
        _fail_before_tests({"status": "syntax_error", "exc_type": _type(exc).__name__, "detail": _describe(exc)})
    harness_pid = os.getpid()
    if conf.cpu is not None:
        # The two processes take turns (a call, its reply): on one CPU a turn is a context switch;
        # across two it is a wake-up of the other CPU, five times dearer on a VM (60 against 12 us).
        try:
            os.sched_setaffinity(0, {conf.cpu})
        except OSError:
            pass
    pid = os.fork()
    if pid == 0:  # the program process: no tests, no report channel, a domain of its own
        try:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, what="prctl(PR_SET_PDEATHSIG)")
            if os.getppid() != harness_pid:
                os._exit(70)
            for fd in (0, RESULT_FD, requests_w, replies_r):
                os.close(fd)
            if checked:  # the case's stdin from the harness, its stdout to the harness
                os.dup2(requests_r, 0)
                os.dup2(replies_w, 1)
                os.close(requests_r)
                os.close(replies_w)
            else:
                empty_r, empty_w = os.pipe()  # stdin: fd 0 again, at EOF
                os.close(empty_w)
                if empty_r != 0:
                    os.dup2(empty_r, 0)
                    os.close(empty_r)
            if conf.landlock is not None:
                conf.landlock.restrict_child(os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))
            if conf.seccomp is not None:
                conf.seccomp.load_stacked()
        except BaseException:  # noqa: BLE001 - unconfined: never run the program
            os._exit(71)
        _run_environment()
        if checked:
            checked_case.run_program(compiled, prelude)
        harness.serve_program(compiled, prelude, requests_r, replies_w)
        os._exit(0)
    os.close(requests_r)
    os.close(replies_w)
    conf.harness = harness.Program(pid, requests_w, replies_r)


def _fail_before_tests(message: dict[str, Any]) -> None:
    _write(RESULT_FD, READY_MARK)
    _report(message)
    os._exit(0)


def _run_harness(conf: Confinement) -> None:
    """The harness process, confined: read the tests, run them, report. Never returns."""
    program = conf.harness
    try:
        data = read_part(0, 1 << 28)
        spec = json.loads(data) if data is not None else None
        if not isinstance(spec, dict):
            raise ValueError("no tests on the job pipe")
        limits = conf.limits
        if "checker" in spec:
            message = checked_case.run_case(spec, program, limits.wall_seconds, limits.cpu_seconds, limits.output_bytes)
        else:
            message = harness.run_tests(spec, program, limits.wall_seconds, limits.cpu_seconds)
    except BaseException as exc:  # noqa: BLE001 - the harness's own failure is the sandbox's
        message = {"status": "sandbox_error", "detail": f"test harness: {_describe(exc)}"}
    _report(message)
    program.stop()
    _exit(0)


def _set_rlimits(conf: Confinement, address_space: int, processes: int = 1) -> None:
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
        # a test job is two processes (harness.py); threads are counted against the same limit
        resource.setrlimit(resource.RLIMIT_NPROC, (lim.threads + processes - 1, lim.threads + processes - 1))


# References captured before the program runs: it may rebind os.write, json, sys.stdout...
_write = os.write
_exit = os._exit
_type = type
_str = str
_isinstance = isinstance
_quote = encode_basestring_ascii


def _run(code: str, prelude: Any, answer_mode: str, max_chars: int, files: Any = None, fetch: Any = None,
         fetch_bytes: int = 0) -> None:
    # sys.stdin/stdout/stderr are the zygote's own streams, now on /dev/null and the two
    # pipes; the zygote never writes through them, so their buffers are empty.
    stdout, stderr = sys.__stdout__, sys.__stderr__
    _run_environment()
    message: dict[str, Any]
    try:
        compiled = compile(code, "<program>", "exec", dont_inherit=True)
    except MemoryError:
        message = {"status": "memory_limit", "detail": "MemoryError while compiling"}
    except (SyntaxError, ValueError, RecursionError, OverflowError) as exc:
        message = {"status": "syntax_error", "exc_type": _type(exc).__name__, "detail": _describe(exc)}
        if answer_mode == "run":
            _print_exception(exc)
    else:
        failed = _write_files(files)
        message = failed or _execute(compiled, prelude, answer_mode, max_chars)
        if fetch:
            message["files"] = job_files.read_files(fetch, fetch_bytes)
    for stream in (stdout, stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a closed or full stream must not hide the result
            pass
    _report(message)
    _exit(0)


def _write_files(files: Any) -> dict[str, Any] | None:
    """A job's input files (job_files.py); a failure is the run's, classified as any exception."""
    failed = job_files.write_files(files)
    if failed is None:
        return None
    path, exc = failed
    message = _classify(exc)
    message["detail"] = f"input file {_safe_str(path)[:100]!r} could not be written: {message['detail']}"[:300]
    return message


def _run_environment() -> None:
    sys.argv = ["<program>"]
    for key in list(os.environ):  # the zygote's scrubbed environment, less what a program needs not
        if key not in _KEPT_ENVIRONMENT:
            del os.environ[key]


def _execute(compiled: Any, prelude: Any, answer_mode: str, max_chars: int) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    try:
        if prelude is not None:
            exec(prelude, namespace)
        try:
            exec(compiled, namespace)
        except SystemExit as exc:
            if exc.code not in (None, 0):  # exit(0) after printing the answer is a normal end
                if answer_mode == "run":
                    return _system_exit(exc.code)
                return {"status": "runtime_error", "exc_type": "SystemExit",
                        "detail": f"SystemExit: {_safe_str(exc.code)[:100]}"}
        value, source = _pick_answer(namespace, answer_mode)
    except BaseException as exc:  # noqa: BLE001 - the program's exceptions are data here
        if answer_mode == "run":
            _print_exception(exc)
        return _classify(exc)
    if source in ("stdout", "output"):
        return {"status": "ok", "answer_from": source}
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
    if mode in ("stdout", "output"):  # output: the whole of stdout, judged by the parent
        return None, mode
    if mode == "run":  # a plain run: its output is all there is
        return None, "output"
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


def _system_exit(code: object) -> dict[str, Any]:
    """A plain run's sys.exit(code), as the interpreter ends: an int is the exit status (mod 256),
    anything else is printed to stderr and the status is 1."""
    if _isinstance(code, int):  # bools too: exit(True) is 1, printed as nothing
        # a C long's low byte; past a C long the interpreter exits 255
        status = code % 256 if -(1 << 63) <= code < (1 << 63) else 255
        if status == 0:
            return {"status": "ok", "answer_from": "output"}
        return {"status": "runtime_error", "exc_type": "SystemExit", "detail": f"SystemExit: {code}"[:300],
                "exit_code": _str(status)}
    text = _safe_str(code)
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - a closed stderr must not hide the result
        pass
    return {"status": "runtime_error", "exc_type": "SystemExit", "detail": f"SystemExit: {text}"[:300],
            "exit_code": "1"}


def _print_exception(exc: BaseException) -> None:
    """A plain run's uncaught exception on stderr, as the interpreter prints it; a hostile
    exception (a __str__ that raises, a cycle of causes) prints what it can."""
    try:
        frames = exc.__traceback__  # from the program's first frame: the sandbox's own are not its
        while frames is not None and frames.tb_frame.f_code.co_filename != "<program>":
            frames = frames.tb_next
        traceback.print_exception(_type(exc), exc, frames, file=sys.__stderr__)
        sys.__stderr__.flush()
    except BaseException:  # noqa: BLE001 - the verdict does not depend on the traceback
        try:
            sys.__stderr__.write(_describe(exc) + "\n")
            sys.__stderr__.flush()
        except BaseException:  # noqa: BLE001
            pass


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
