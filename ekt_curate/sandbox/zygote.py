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
import signal
import sys
import sysconfig
import time
from typing import Any

from ekt_curate.sandbox.child import Confinement, child_main
from ekt_curate.sandbox.landlock import LandlockLayers
from ekt_curate.sandbox.seccomp_filter import LoadableFilter, describe
from ekt_curate.sandbox.supervise import Watch, classify
from ekt_curate.sandbox.linux import PR_SET_PDEATHSIG, mount_private_tmpfs, prctl

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
        self._scratch_quota()
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
        # Installed outside a virtualenv, this package (and the GSM8K gold answers in it) sits
        # beneath those roots; Landlock only grants, so grant around it instead.
        roots = _roots_without(roots, os.path.realpath(os.path.dirname(os.path.dirname(__file__))))
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

    def _scratch_quota(self) -> None:
        """A private tmpfs for scratch, so a program that writes many files fills its own few MiB
        (ENOSPC), not the host's memory or disk. Needs root; mounted before the zygote confines
        itself, in a mount namespace of its own that dies with it."""
        limits = self.policy.limits
        if os.geteuid() != 0:
            self.layers["scratch"] = "not root: scratch is on the shared tmpfs, with no quota"
            return
        if not self.policy.layers.scratch_quota:
            self.layers["scratch"] = "off (policy): scratch is on the shared tmpfs, with no quota"
            return
        try:
            mount_private_tmpfs(self.scratch_area, limits.scratch_mib, limits.scratch_files)
        except OSError as exc:
            raise RuntimeError(f"scratch_quota layer unavailable: {exc}") from exc
        self.layers["scratch"] = f"private tmpfs of {limits.scratch_mib} MiB and {limits.scratch_files} files"

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
            watch = Watch(pid, [r for r, _ in pipes], limits.output_bytes, started + limits.wall_seconds)
            watch.run()
            _, wait_status, usage = os.wait4(pid, 0)
        finally:
            for read_end, _ in pipes:
                _close_quietly(read_end)
        wall_ms = (time.monotonic() - started) * 1000
        cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000
        _remove_tree(scratch)
        result = classify(watch, wait_status, cpu_ms, limits)
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


def _roots_without(roots: list[str], excluded: str) -> list[str]:
    """The same readable tree minus ``excluded``: a root that contains it is replaced by its
    entries, except the one on the way to ``excluded``, which is split the same way."""
    kept: list[str] = []
    for root in roots:
        if excluded == root:
            continue
        if not excluded.startswith(root.rstrip(os.sep) + os.sep):
            kept.append(root)
            continue
        try:
            entries = sorted(os.scandir(root), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            path = os.path.realpath(entry.path)
            if path == excluded or excluded.startswith(path.rstrip(os.sep) + os.sep):
                kept += _roots_without([path], excluded) if path != excluded else []
            elif not (path + os.sep).startswith(excluded + os.sep):  # a link into it grants nothing
                kept.append(path)
    return kept


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
