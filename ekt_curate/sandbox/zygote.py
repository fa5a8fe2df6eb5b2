"""The zygote: a warm ``python -I`` process that forks one confined child per program.

Started by the executor with a scrubbed environment, it reads a config message,
preloads the policy's modules and the prelude's imports, prepares every layer
once (BPF program, Landlock roots, uid), proves them with a canary child, then
serves jobs: fork, supervise (wall clock, output cap, bounded result read),
reap, clean scratch, report one JSON line. It holds no gold answers and no
secrets; the only thing it learns about a job is the program text.

Protocol: jobs arrive on stdin as a 4-byte big-endian length + JSON (exact
reads, so nothing beyond the current job sits in a buffer a child inherits);
results leave on stdout as one ASCII JSON line each.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import sys
import sysconfig
import time
from typing import Any

from ekt_curate.sandbox.child import READY_MARK, Confinement, child_main
from ekt_curate.sandbox.landlock import LandlockLayers
from ekt_curate.sandbox.seccomp_filter import LoadableFilter, describe
from ekt_curate.sandbox.linux import PR_SET_PDEATHSIG, prctl

MAX_RESULT_BYTES = 64 * 1024     # the child's whole report; more is tampering
TAIL_BYTES = 4096                # stdout/stderr kept for the answer and for diagnostics
CHILD_STATUSES = {"ok", "syntax_error", "runtime_error", "memory_limit", "output_limit", "no_answer"}
ANSWER_KINDS = {"int", "float", "fraction", "decimal", "bool", "str"}
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SYSTEM_LIBRARY_DIRS = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib")
# Each probe is harmless if it succeeds; success means a layer is not doing its job.
CANARY = """
import os
report = []
def probe(label, action):
    try:
        action()
        report.append(label)
    except OSError:
        pass
probe("affinity-set", lambda: os.sched_setaffinity(0, os.sched_getaffinity(0)))
probe("signalled-self", lambda: os.kill(os.getpid(), 0))
probe("proc-readable", lambda: os.close(os.open("/proc/self/status", os.O_RDONLY)))
probe("wrote-outside-scratch", lambda: os.rmdir(os.mkdir("../canary-probe") or "../canary-probe"))
report.append(f"uid={os.getuid()}")
answer = " ".join(report)
"""


def read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_message(fd: int) -> dict[str, Any]:
    size = int.from_bytes(read_exact(fd, 4), "big")
    return json.loads(read_exact(fd, size))


def send(message: dict[str, Any]) -> None:
    data = json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]


class _Section:
    """A policy table as attributes. The zygote takes the validated policy as plain data
    rather than importing policy.py (tomllib, pathlib, dataclasses): each module mapped
    here makes every fork and exit dearer."""

    def __init__(self, data: dict[str, Any]):
        self.__dict__.update(data)


class Zygote:
    def __init__(self, config: dict[str, Any]):
        self.policy = _Section({k: _Section(v) if isinstance(v, dict) else v for k, v in config["policy"].items()})
        self.worker = int(config["worker"])
        self.default_answer = config.get("answer", "auto")
        self.jobs_done = 0
        self.preloaded_dirs = self._preload(config.get("prelude_imports", []))
        self.prelude_cache: dict[str, Any] = {}
        self.prelude = self._compile_prelude(config.get("prelude"))
        self.devnull = os.open(os.devnull, os.O_RDONLY)
        self.statm = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)  # read by fd: Landlock hides /proc
        # One scratch area per zygote, so no child can see another worker's files; named by
        # pid too, so a replacement never inherits what a dead predecessor's child left.
        self.scratch_area = os.path.join(config["scratch_root"], f"w{self.worker}-{os.getpid()}")
        os.mkdir(self.scratch_area, 0o711)
        self.layers: dict[str, str] = {}
        identity = self._identity()
        landlock = self._confine_landlock()
        seccomp = self._confine_seccomp(config)
        self.confinement = Confinement(limits=self.policy.limits, landlock=landlock, seccomp=seccomp,
                                       devnull_fd=self.devnull, zygote_pid=os.getpid(), **identity)

    # -- set-up -------------------------------------------------------------------------------
    def _preload(self, config_imports: list[str]) -> list[str]:
        """Import the policy's modules and the prelude's imports; return their package dirs."""
        before = set(sys.modules)
        names = list(self.policy.allow.preload)
        names += config_imports
        for name in names:
            try:
                importlib.import_module(name)
            except Exception as exc:
                raise RuntimeError(f"cannot preload module {name!r}: {exc}") from exc
        stdlib = {os.path.realpath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")}
        own = os.path.realpath(os.path.dirname(os.path.dirname(__file__)))
        dirs: set[str] = set()
        for name in set(sys.modules) - before:
            path = getattr(sys.modules[name], "__file__", None)
            if not path:
                continue
            path = os.path.realpath(path)
            if any(path.startswith(s + os.sep) for s in stdlib) and "site-packages" not in path:
                continue
            if path.startswith(own + os.sep):
                continue  # our own package holds data (GSM8K gold answers): never readable
            top = name.split(".")[0]
            root = os.path.realpath(getattr(sys.modules.get(top), "__path__", [os.path.dirname(path)])[0])
            dirs.add(root)
            libs = os.path.join(os.path.dirname(root), f"{top}.libs")  # bundled shared libraries
            if os.path.isdir(libs):
                dirs.add(libs)
        return sorted(dirs)

    def _compile_prelude(self, prelude: str | None) -> Any:
        if not prelude:
            return None
        if prelude not in self.prelude_cache:
            self.prelude_cache[prelude] = compile(prelude, "<prelude>", "exec", dont_inherit=True)
        return self.prelude_cache[prelude]

    def _confine_landlock(self) -> Any:
        """Restrict the zygote itself; each child nests a thin domain of its own (landlock.py)."""
        if not self.policy.layers.landlock:
            self.layers["landlock"] = "off (policy)"
            return None
        stdlib = [sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")]
        dynload = os.path.dirname(getattr(sys.modules.get("_ctypes"), "__file__", "") or stdlib[0])
        candidates = [*stdlib, dynload, *SYSTEM_LIBRARY_DIRS, *self.preloaded_dirs, *self.policy.allow.read_paths]
        roots = _outermost([os.path.realpath(path) for path in candidates if os.path.exists(path)])
        try:
            layers = LandlockLayers()
            layers.restrict_zygote(roots, self.scratch_area)
        except OSError as exc:
            raise RuntimeError(f"landlock layer unavailable: {exc}") from exc
        self.layers["landlock"] = layers.describe()
        return layers

    def _confine_seccomp(self, config: dict[str, Any]) -> Any:
        """Load the supervisor allowlist here; children stack the program filter on it."""
        if not self.policy.layers.seccomp:
            self.layers["seccomp"] = "off (policy)"
            return None
        supervisor = LoadableFilter(bytes.fromhex(config["seccomp_supervisor"]))
        program = LoadableFilter(bytes.fromhex(config["seccomp_program"]))
        try:
            supervisor.load()
        except OSError as exc:
            raise RuntimeError(f"seccomp layer unavailable: {exc}") from exc
        self.layers["seccomp"] = describe(supervisor, program, self.policy.allow.threads)
        return program

    def _identity(self) -> dict[str, int | None]:
        if os.geteuid() != 0:
            self.layers["privileges"] = f"not root (uid {os.geteuid()}): nothing to drop"
            return {"uid": None, "gid": None}
        if not self.policy.layers.drop_privileges:
            self.layers["privileges"] = "off (policy): children run as root"
            return {"uid": None, "gid": None}
        uid = self.policy.layers.uid_base + self.worker
        self.layers["privileges"] = f"children run as uid {uid}, gid {self.policy.layers.gid}"
        return {"uid": uid, "gid": self.policy.layers.gid}

    def self_test(self) -> None:
        """Run a canary child and check every layer the policy requires actually holds."""
        result = self.run_job({"code": CANARY, "answer": "var:answer"})
        if result["status"] != "ok":
            raise RuntimeError(f"sandbox self-test failed: {result['status']}: {result.get('detail', '')}")
        report = (result.get("answer") or ["", ""])[1].split()
        failures = []
        if self.confinement.seccomp is not None:
            if "affinity-set" in report:
                failures.append("seccomp (zygote allowlist): the canary called sched_setaffinity")
            if "signalled-self" in report:
                failures.append("seccomp (program filter): the canary signalled outside its process group")
        if self.confinement.landlock is not None:
            if "proc-readable" in report:
                failures.append("landlock (zygote domain): the canary read /proc")
            if "wrote-outside-scratch" in report:
                failures.append("landlock (program domain): the canary wrote outside its scratch dir")
        if self.confinement.uid is not None and f"uid={self.confinement.uid}" not in report:
            failures.append(f"drop_privileges: the canary reported {report}")
        if failures:
            raise RuntimeError("a sandbox layer did not hold: " + "; ".join(failures))
        self.jobs_done = 0

    # -- one job ------------------------------------------------------------------------------
    def run_job(self, job: dict[str, Any]) -> dict[str, Any]:
        limits = self.policy.limits
        answer_mode = job.get("answer") or self.default_answer
        prelude = self._compile_prelude(job["prelude"]) if "prelude" in job else self.prelude
        scratch = os.path.join(self.scratch_area, str(self.jobs_done))
        self.jobs_done += 1
        os.mkdir(scratch, 0o700)
        if self.confinement.uid is not None:
            os.chown(scratch, self.confinement.uid, self.confinement.gid)
        pipes = [os.pipe2(os.O_CLOEXEC) for _ in range(3)]
        address_space = int(os.pread(self.statm, 64, 0).split()[0]) * PAGE_SIZE
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # child
            try:
                child_main(self.confinement, scratch, (pipes[0][1], pipes[1][1], pipes[2][1]),
                           job["code"], prelude, answer_mode, address_space)
            finally:
                os._exit(70)
        for _, write_end in pipes:
            os.close(write_end)
        try:
            watch = _Watch(pid, [r for r, _ in pipes], limits.output_bytes, started + limits.wall_seconds)
            watch.run()
            _, wait_status, usage = os.wait4(pid, 0)
        finally:
            for read_end, _ in pipes:
                _close_quietly(read_end)
        wall_ms = (time.monotonic() - started) * 1000
        cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000
        _remove_tree(scratch)
        result = _classify(watch, wait_status, cpu_ms, limits)
        result.update(cpu_ms=round(cpu_ms, 3), wall_ms=round(wall_ms, 3),
                      stdout_tail=watch.tail(0), stderr_tail=watch.tail(1))
        return result

    def serve(self) -> None:
        while True:
            try:
                job = read_message(0)
            except EOFError:
                return
            result = self.run_job(job)
            result["id"] = job["id"]
            send(result)


class _Watch:
    """Supervise one child: drain its pipes concurrently, enforce wall clock and output cap."""

    def __init__(self, pid: int, fds: list[int], output_cap: int, deadline: float):
        self.pid = pid
        self.fds = fds                                  # stdout, stderr, result
        self.output_cap = output_cap
        self.deadline = deadline
        self.buffers = [bytearray(), bytearray(), bytearray()]
        self.output_total = 0
        self.timed_out = self.over_output = self.result_overflow = False
        self.killed = False

    def kill(self) -> None:
        if self.killed:
            return
        self.killed = True
        try:
            os.killpg(self.pid, signal.SIGKILL)   # the child's group: pgid == pid after setsid
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(self.pid, signal.SIGKILL)     # before setsid the group does not exist yet
        except ProcessLookupError:
            pass

    def run(self) -> None:
        pidfd = os.pidfd_open(self.pid)
        poller = select.poll()
        open_fds = {fd: index for index, fd in enumerate(self.fds)}
        for fd in open_fds:
            poller.register(fd, select.POLLIN)
        poller.register(pidfd, select.POLLIN)
        exited = False
        try:
            while open_fds or not exited:
                remaining = self.deadline - time.monotonic()
                if remaining <= 0 and not self.killed:
                    self.timed_out = True
                    self.kill()
                timeout = None if self.killed else max(remaining, 0) * 1000
                for fd, _ in poller.poll(timeout):
                    if fd == pidfd:
                        exited = True
                        poller.unregister(pidfd)
                        continue
                    data = os.read(fd, 65536)
                    if not data:
                        poller.unregister(fd)
                        del open_fds[fd]
                        continue
                    self._take(open_fds[fd], data)
            self.kill_stragglers()
        finally:
            os.close(pidfd)

    def _take(self, index: int, data: bytes) -> None:
        buffer = self.buffers[index]
        if index == 2:
            if len(buffer) + len(data) > MAX_RESULT_BYTES:
                self.result_overflow = True
                self.kill()
                return
            buffer += data
            return
        self.output_total += len(data)
        buffer += data
        if len(buffer) > 2 * TAIL_BYTES:
            del buffer[:-TAIL_BYTES]
        if self.output_total > self.output_cap and not self.over_output:
            self.over_output = True
            self.kill()

    def kill_stragglers(self) -> None:
        # Nothing can fork under seccomp, but if a layer were ever off, leave no process behind.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def tail(self, index: int) -> str:
        return bytes(self.buffers[index][-1024:]).decode("utf-8", "replace")

    def last_line(self) -> str | None:
        lines = [line.strip() for line in bytes(self.buffers[0][-TAIL_BYTES:]).decode("utf-8", "replace").splitlines()]
        lines = [line for line in lines if line]
        return lines[-1] if lines else None


def _classify(watch: _Watch, wait_status: int, cpu_ms: float, limits: Any) -> dict[str, Any]:
    if watch.timed_out:
        return {"status": "timeout", "detail": f"wall-clock limit of {limits.wall_seconds:g} s reached"}
    if watch.over_output:
        return {"status": "output_limit", "detail": f"more than {limits.output_bytes} bytes of output"}
    if watch.result_overflow:
        return {"status": "no_answer", "detail": "result channel tampered: more than 64 KiB written to it"}
    if os.WIFSIGNALED(wait_status):
        signum = os.WTERMSIG(wait_status)
        if signum == signal.SIGXCPU or (signum == signal.SIGKILL and cpu_ms >= limits.cpu_seconds * 1000):
            return {"status": "timeout", "detail": f"CPU limit of {limits.cpu_seconds} s reached"}
        if signum == signal.SIGXFSZ:
            return {"status": "output_limit", "detail": "file larger than the policy allows"}
        name = signal.Signals(signum).name if signum in signal.Signals._value2member_map_ else str(signum)
        reason = " (seccomp)" if signum == signal.SIGSYS else ""
        return {"status": "killed", "detail": f"killed by {name}{reason}"}
    exit_code = os.WEXITSTATUS(wait_status)
    raw = bytes(watch.buffers[2])
    if not raw.startswith(READY_MARK):
        message = _parse_child_message(raw, {"sandbox_error"})
        if message is not None:
            return message
        return {"status": "sandbox_error", "detail": f"child exited with code {exit_code} during set-up"}
    body = raw[len(READY_MARK):]
    if not body:
        if exit_code != 0:
            return {"status": "no_answer", "detail": f"program exited with code {exit_code} before reporting"}
        return {"status": "no_answer", "detail": "program ended the process before reporting an answer"}
    message = _parse_child_message(body, CHILD_STATUSES)
    if message is None:
        return {"status": "no_answer", "detail": "result channel tampered: malformed or repeated report"}
    if exit_code != 0:
        return {"status": "no_answer", "detail": f"program exited with code {exit_code} before reporting"}
    if message.pop("answer_from", None) == "stdout":
        line = watch.last_line()
        if line is None:
            return {"status": "no_answer",
                    "detail": "no solution(), no answer/ans/result variable, and nothing printed"}
        message["answer"] = ["str", line[: limits.answer_chars]]
    return message


def _parse_child_message(raw: bytes, statuses: set[str]) -> dict[str, Any] | None:
    """Exactly one JSON object line with known keys and types; anything else is None."""
    if raw.count(b"\n") != 1 or not raw.endswith(b"\n"):
        return None
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("status") not in statuses:
        return None
    clean: dict[str, Any] = {"status": message["status"]}
    for key in ("detail", "exc_type"):
        if key in message:
            if not isinstance(message[key], str):
                return None
            clean[key] = message[key][:300]
    if "answer" in message:
        answer = message["answer"]
        if not (isinstance(answer, list) and len(answer) == 2 and answer[0] in ANSWER_KINDS
                and isinstance(answer[1], str) and len(answer[1]) <= 5000):
            return None
        clean["answer"] = answer
    if message.get("answer_from") == "stdout":
        clean["answer_from"] = "stdout"
    if set(message) - {"status", "detail", "exc_type", "answer", "answer_from"}:
        return None
    if clean["status"] == "ok" and "answer" not in clean and "answer_from" not in clean:
        return None
    return clean


def _outermost(paths: list[str]) -> list[str]:
    """Drop duplicates and paths beneath another root (one Landlock rule each costs a syscall per child)."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in kept):
            kept.append(path)
    return kept


def _remove_tree(path: str) -> None:
    """rmdir for the common empty case; otherwise a walk (shutil would map zlib, bz2 and lzma)."""
    try:
        os.rmdir(path)
        return
    except OSError:
        pass
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            _quietly(os.unlink, os.path.join(root, name))
        for name in dirs:
            full = os.path.join(root, name)
            _quietly(os.unlink if os.path.islink(full) else os.rmdir, full)
    _quietly(os.rmdir, path)


def _quietly(fn: Any, path: str) -> None:
    try:
        fn(path)
    except OSError:
        pass


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def main() -> None:
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, what="prctl(PR_SET_PDEATHSIG)")
        config = read_message(0)
        if os.getppid() != config["parent_pid"]:
            return  # the executor is already gone
        # Inherited by every child: a file over the size limit is an EFBIG error, not a death.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        zygote = Zygote(config)
        zygote.self_test()
    except Exception as exc:  # noqa: BLE001 - reported to the executor, which raises it
        send({"error": str(exc)})
        return
    gc.collect()
    gc.freeze()  # keep the preloaded heap out of the collector, so children share it copy-on-write
    send({"ready": True, "pid": os.getpid(), "layers": zygote.layers})
    zygote.serve()
