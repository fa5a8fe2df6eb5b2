"""The zygote: a warm ``python -I`` process that forks one confined child per program.

Started by the executor with a scrubbed environment, it reads a config message,
preloads the policy's modules and the prelude's imports, prepares every layer
once (BPF program, Landlock roots, uid), then serves jobs: receive a child's four
pipe ends, fork, hand the executor a pidfd, reap, remove scratch, report the exit
status. Everything else happens between the executor and the child directly:
the program travels to the child on its own pipe, and its output and answer come
back on pipes the zygote has already closed. So no job's bytes are ever in this
process's memory, and a child forked later cannot find an earlier job here, in
frames or in freed heap (tests/sandbox/test_isolation.py scans for them).

What does pass through: a child's exit status and CPU time (a few bits a program
controls, like its timing; listed in the README as bounded, not isolated).
Scratch is removed by a short-lived cleaner child, so not even file names that a
program chose are read here; if it cannot remove everything, the zygote exits
and the executor starts a fresh one (a fresh tmpfs, as root).
"""

from __future__ import annotations

import _socket
import errno
import gc
import importlib
import json
import os
import select
import signal
import stat
import sys
import sysconfig
import time
from typing import Any

from ekt_curate.sandbox import protocol
from ekt_curate.sandbox.protocol import read_config
from ekt_curate.sandbox.reap import kill_group, reap_orphans
from ekt_curate.sandbox.child import Confinement, child_main
from ekt_curate.sandbox.landlock import LandlockLayers
from ekt_curate.sandbox.linux import (PR_SET_CHILD_SUBREAPER, bind_mount, enter_private_mount_namespace, mount_tmpfs,
                                     prctl)
from ekt_curate.sandbox.seccomp_filter import LoadableFilter, describe
from ekt_curate.sandbox.zygote_fs import hidden_by_permissions, mount_read_only, outermost, remove_tree, roots_without

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
UID_SPAN = 1 << 22                  # children run as uid_base + an offset below this
SCRATCH_POOL = 256                  # scratch tmpfs instances per zygote; a program that creates a file uses one up
SYSTEM_LIBRARY_DIRS = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib")
# The executor enforces each child's wall clock; this is the zygote's own backstop, for an
# executor that is alive but no longer supervising (it is replaced long before this).
BACKSTOP_SECONDS = 60.0
CLEANER_SECONDS = 10.0              # removing one job's scratch; more means something is wrong
EXIT_UNHEALTHY = 3                  # the zygote could not clean up: the executor replaces it


class _Section:
    """A policy table as attributes. The zygote takes the validated policy as plain data
    rather than importing policy.py (tomllib, pathlib, dataclasses): each module mapped
    here makes every fork and exit dearer."""

    def __init__(self, data: dict[str, Any]):
        self.__dict__.update(data)


class Zygote:
    def __init__(self, config: dict[str, Any], sock: Any):
        self.policy = _Section({k: _Section(v) if isinstance(v, dict) else v for k, v in config["policy"].items()})
        self.worker = int(config["worker"])
        self.uid_offset = int(config.get("uid_offset", os.getpid() % UID_SPAN))
        # Orphans of a job (a test job's program process) come here to be reaped, not to an init
        # that may never reap them (a PID namespace's init is whatever was started first).
        prctl(PR_SET_CHILD_SUBREAPER, 1, what="prctl(PR_SET_CHILD_SUBREAPER)")
        self.slots: list[str] = []      # scratch tmpfs instances (root only), used in turn
        self.slot = 0
        self.last_inode: int | None = None
        self.job_dir: str | None = None
        self.preloaded_dirs = self._preload(config.get("prelude_imports", []))
        self.prelude = compile(config["prelude"], "<prelude>", "exec", dont_inherit=True) if config.get("prelude") else None
        self.sock = sock
        self.poller = select.poll()
        self.poller.register(sock.fileno(), 0)  # hang-up and errors only: a queued job must not wake us
        self.devnull = os.open(os.devnull, os.O_RDONLY)
        self.statm = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)  # read by fd: Landlock hides /proc
        # One scratch area per zygote, so no child can see another worker's files; named by
        # pid too, so a replacement never inherits what a dead predecessor's child left.
        self.scratch_area = os.path.join(config["scratch_root"], f"w{self.worker}-{os.getpid()}")
        os.mkdir(self.scratch_area)
        os.chmod(self.scratch_area, 0o311)  # children reach their own dir in it; nobody lists it
        self.layers: dict[str, str] = {}
        self._scratch_quota()
        identity = self._identity()
        roots = self._read_roots()
        if identity["uid"] is not None:
            self._reveal_roots(roots)
        self.layers["read_roots"] = mount_read_only(roots, self.policy.layers.readonly_roots)
        landlock = self._confine_landlock(roots)
        seccomp = self._confine_seccomp(config)
        cpus = sorted(os.sched_getaffinity(0))
        self.confinement = Confinement(limits=self.policy.limits, landlock=landlock, seccomp=seccomp,
                                       cpu=cpus[self.worker % len(cpus)],
                                       devnull_fd=self.devnull, zygote_pid=os.getpid(), **identity)
        self.confinement_uid, self.confinement_gid = identity["uid"], identity["gid"]
        if not self._next_job_dir():
            raise RuntimeError("cannot make a scratch directory for the first job")

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

    def _read_roots(self) -> list[str]:
        """What programs may read: the interpreter's library directories, the preloaded
        packages' directories, the policy's read_paths."""
        stdlib = [sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")]
        dynload = os.path.dirname(getattr(sys.modules.get("_ctypes"), "__file__", "") or stdlib[0])
        candidates = [*stdlib, dynload, *SYSTEM_LIBRARY_DIRS, *self.preloaded_dirs, *self.policy.allow.read_paths]
        roots = outermost([os.path.realpath(path) for path in candidates if os.path.exists(path)])
        # Installed outside a virtualenv, this package (and the GSM8K gold answers in it) sits
        # beneath those roots; Landlock only grants, so grant around it instead.
        return roots_without(roots, os.path.realpath(os.path.dirname(os.path.dirname(__file__))))

    def _reveal_roots(self, roots: list[str]) -> None:
        """Where file permissions hide the roots from the sandbox uid (pyenv under a 0700 /root,
        as on CI), programs could import only what was preloaded. In the zygote's own mount
        namespace, cover each hiding directory with a small 0711 tmpfs and bind back only the
        entries on the way to the roots: the standard library becomes reachable, the rest of
        that directory disappears, and children need no capability. Landlock's rules attach to
        inodes, so they hold through the bind mounts."""
        revealed = []
        for _ in range(16):  # nested hiding directories are revealed outermost first
            hidden = hidden_by_permissions(roots)
            if not hidden:
                break
            top = min(hidden, key=lambda path: path.count(os.sep))
            needed = sorted({os.path.relpath(root, top).split(os.sep)[0]
                             for root in roots if root.startswith(top.rstrip(os.sep) + os.sep)})
            try:
                enter_private_mount_namespace()
                sources = {name: os.open(os.path.join(top, name), os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
                           for name in needed}
                mount_tmpfs(top, "size=64k,nr_inodes=256,mode=0711")
                for name, fd in sources.items():
                    target = os.path.join(top, name)
                    if stat.S_ISDIR(os.fstat(fd).st_mode):
                        os.mkdir(target)
                    else:
                        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
                    bind_mount(f"/proc/self/fd/{fd}", target)
                    os.close(fd)
            except OSError as exc:
                raise RuntimeError(f"drop_privileges layer: {top} hides the interpreter from the sandbox uid, "
                                   f"and revealing it failed: {exc}") from exc
            revealed.append(top)
        else:
            raise RuntimeError(f"drop_privileges layer: cannot reveal the interpreter's roots beneath {hidden}")
        if revealed:
            self.layers["privileges"] += (f"; {', '.join(revealed)} (not traversable by other users) covered by a "
                                          "0711 tmpfs in the zygote's mount namespace, with only the way to the "
                                          "interpreter bound back")

    def _confine_landlock(self, roots: list[str]) -> Any:
        """Restrict the zygote itself; each child nests a thin domain of its own (landlock.py)."""
        if not self.policy.layers.landlock:
            self.layers["landlock"] = "off (policy)"
            return None
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
        """Private tmpfs instances for scratch, so a program that writes many files fills its own
        few MiB (ENOSPC), not the host's memory or disk. Needs root; mounted before the zygote
        confines itself (Landlock forbids mounting after), in a mount namespace of its own that
        dies with it. A pool, not one: see _next_job_dir."""
        limits = self.policy.limits
        if os.geteuid() != 0:
            self.layers["scratch"] = "not root: scratch is on the shared tmpfs, with no quota"
            return
        if not self.policy.layers.scratch_quota:
            self.layers["scratch"] = "off (policy): scratch is on the shared tmpfs, with no quota"
            return
        try:
            enter_private_mount_namespace()
            self.slots = []
            for index in range(SCRATCH_POOL):
                slot = os.path.join(self.scratch_area, str(index))
                os.mkdir(slot)
                mount_tmpfs(slot, f"size={limits.scratch_mib}m,nr_inodes={limits.scratch_files},mode=0711")
                self.slots.append(slot)
        except OSError as exc:
            raise RuntimeError(f"scratch_quota layer unavailable: {exc}") from exc
        self.layers["scratch"] = (f"private tmpfs of {limits.scratch_mib} MiB and {limits.scratch_files} files, a "
                                  "fresh one after any program that created a file")

    def _identity(self) -> dict[str, int | None]:
        if os.geteuid() != 0:
            self.layers["privileges"] = f"not root (uid {os.geteuid()}): nothing to drop"
            return {"uid": None, "gid": None}
        if not self.policy.layers.drop_privileges:
            self.layers["privileges"] = "off (policy): children run as root"
            return {"uid": None, "gid": None}
        # A uid of its own per worker slot the executor claimed (scratch.claim_uid_slot):
        # RLIMIT_NPROC, the threads limit, is counted per uid across the host, so two sandboxes
        # running at once (two verify runs, datatrove tasks on one node) must not share one.
        uid = self.policy.layers.uid_base + self.uid_offset
        self.layers["privileges"] = f"children run as uid {uid}, gid {self.policy.layers.gid}"
        return {"uid": uid, "gid": self.policy.layers.gid}

    # -- serving ------------------------------------------------------------------------------
    def serve(self) -> None:
        """One job at a time until the executor closes its end of the socket."""
        while True:
            try:
                record, ancillary, _, _ = self.sock.recvmsg(protocol.MAX_RECORD, _socket.CMSG_SPACE(16 * 4))
            except InterruptedError:
                continue
            except OSError:
                return
            if not record:
                return  # the executor is gone (or closed us): nothing else will come
            fds = protocol.fds_from_ancillary(ancillary)
            if len(record) != protocol.JOB.size or len(fds) != protocol.CHILD_FDS:
                _close_all(fds)
                return  # not our executor's message: stop rather than guess
            healthy = self.run_job(protocol.JOB.unpack(record)[1], fds)
            del record, ancillary, fds
            if not healthy:
                sys.exit(EXIT_UNHEALTHY)

    def run_job(self, token: int, fds: list[int]) -> bool:
        """Fork the child on the given pipe ends, report it, reap it, remove its scratch.
        False when scratch could not be removed (the zygote must not serve another job)."""
        scratch = self.job_dir
        if scratch is None:  # the last job's clean-up could not make one: nothing runs here any more
            _close_all(fds)
            self._send(protocol.FAILED.pack(b"F", token, errno.ENOSPC))
            return False
        address_space = int(os.pread(self.statm, 64, 0).split()[0]) * PAGE_SIZE
        forked = time.monotonic()
        pid = os.fork()
        if pid == 0:  # child
            try:
                child_main(self.confinement, scratch, fds, self.prelude, address_space)
            finally:
                os._exit(70)
        _close_all(fds)  # the executor holds the other ends: EOF there means the child is gone
        pidfd = os.pidfd_open(pid)
        try:
            self._send(protocol.STARTED.pack(b"S", token, pid), [pidfd])
            self._wait_for_exit(pid, pidfd, self.policy.limits.wall_seconds + BACKSTOP_SECONDS)
            wall_us = int((time.monotonic() - forked) * 1_000_000)
            # The group may hold threads' processes only if a layer is off; leave nothing behind.
            # Before reaping, the pid (and so the group id) cannot be reused.
            kill_group(pid)
            _, wait_status, usage = os.wait4(pid, 0)
        finally:
            os.close(pidfd)
        cpu_us = int((usage.ru_utime + usage.ru_stime) * 1_000_000) + reap_orphans()
        healthy = self._clean(scratch) and self._next_job_dir()
        self._send(protocol.ENDED.pack(b"E", token, wait_status, cpu_us, wall_us))
        return healthy

    def _next_job_dir(self) -> bool:
        """Make the next job's scratch dir, always under the same name (a name must not tell a
        program how many ran before it). A tmpfs numbers its inodes from a counter of its own
        that every file a program creates advances, even one it deletes, so the inode of the
        next dir would carry a number from one program to the next. So the next dir must be
        exactly one inode after the last: if it is not, a program created files, and the next
        job gets a fresh tmpfs from the pool. False when none is left (the zygote is replaced)."""
        self.job_dir = None
        base = self.slots[self.slot] if self.slots else self.scratch_area
        path = os.path.join(base, "job")
        try:
            os.mkdir(path, 0o700)
            inode = os.stat(path).st_ino
            if self.slots and self.last_inode is not None and inode != self.last_inode + 1:
                os.rmdir(path)
                self.slot += 1
                self.last_inode = None
                if self.slot == len(self.slots):
                    return False
                return self._next_job_dir()
            if self.confinement_uid is not None:
                os.chown(path, self.confinement_uid, self.confinement_gid)
        except OSError:
            return False
        self.last_inode = inode
        self.job_dir = path
        return True

    def _wait_for_exit(self, pid: int, pidfd: int, backstop: float) -> None:
        """Until the child exits. The executor kills it at its deadline; if the executor
        goes away (socket hang-up) or stops supervising (backstop), the zygote kills it."""
        poller = self.poller  # one for every job: each object made after a fork is pages to copy
        poller.register(pidfd, select.POLLIN)
        try:
            events = poller.poll(backstop * 1000)
        finally:
            poller.unregister(pidfd)
        for fd, _ in events:
            if fd == pidfd:
                return
        kill_group(pid)
        if events:  # the executor hung up: finish this child, then serve() sees the end
            return

    def _send(self, record: bytes, fds: list[int] | None = None) -> None:
        try:
            self.sock.sendmsg([record], protocol.rights(fds) if fds else [])
        except OSError:
            pass  # the executor is gone; serve() ends on the next read

    def _clean(self, scratch: str) -> bool:
        """Remove a job's scratch completely. Empty (the common case) costs one rmdir; anything
        else is removed by a cleaner child, so the names a program chose never enter this
        process, and by descriptor, so no depth or name length can defeat it."""
        try:
            os.rmdir(scratch)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            pass
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = 0 if remove_tree(scratch) else 1
            finally:
                os._exit(code)
        pidfd = os.pidfd_open(pid)
        try:
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            if not poller.poll(CLEANER_SECONDS * 1000):
                kill_group(pid)
            _, status, _ = os.wait4(pid, 0)
        finally:
            os.close(pidfd)
        return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and not os.path.lexists(scratch)














def _close_all(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _occupy_low_descriptors() -> None:
    """0-3 always open, so descriptors received for a child are 4 or more and the child can
    dup2 its pipes onto 1-3 without clobbering one another. Stdout is not used: reports go
    over the socket."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 3):
        if fd != devnull:
            os.dup2(devnull, fd)
    if devnull > 3:
        os.close(devnull)


def main() -> None:
    config = read_config(0)
    socket_fd = int(config["socket_fd"])
    if socket_fd < 4:  # 0-3 are about to be taken (see _occupy_low_descriptors)
        os.dup2(socket_fd, 10)
        os.close(socket_fd)
        socket_fd = 10
    os.set_inheritable(socket_fd, False)
    sock = _socket.socket(fileno=socket_fd)
    try:
        _occupy_low_descriptors()
        # Not PR_SET_PDEATHSIG: it follows the thread that started us, and a Sandbox may be
        # made in a worker thread that exits. The socket's hang-up follows the process.
        # Inherited by every child: a file over the size limit is an EFBIG error, not a death.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        zygote = Zygote(config, sock)
    except Exception as exc:  # noqa: BLE001 - reported to the executor, which raises it
        sock.sendmsg([json.dumps({"error": str(exc)}).encode()])
        return
    del config
    gc.collect()
    gc.freeze()  # keep the preloaded heap out of the collector, so children share it copy-on-write
    sock.sendmsg([json.dumps({"ready": True, "pid": os.getpid(), "layers": zygote.layers}).encode()])
    zygote.serve()
